from __future__ import annotations

from typing import Annotated

from fastapi import Body
from pydantic import BaseModel, Field

from reeldocs.core.text import LANGUAGE_CODE_FIELD_PATTERN
from reeldocs.glossary.service import (
    MAX_LANGUAGES_PER_TERM,
    MAX_TERM_CHARACTERS,
    MAX_TERMS,
    MAX_TRANSLATION_CHARACTERS,
)

# The service checks these limits itself, naming the term at fault in its sentence; the
# document states them. Lengths count after runs of spaces become one.
_SOME_TEXT = r"\S"


class GlossaryTermIn(BaseModel):
    term: str = Field(
        json_schema_extra={
            "minLength": 1,
            "maxLength": MAX_TERM_CHARACTERS,
            "pattern": _SOME_TEXT,
        },
        description="The term as written in the docs; terms differing only by capitals are "
        "the same term.",
    )
    # language code → the term in that language; a language left out keeps the term
    translations: dict[str, str] | None = Field(
        default=None,
        json_schema_extra={
            "anyOf": [
                {
                    "type": "object",
                    "maxProperties": MAX_LANGUAGES_PER_TERM,
                    "propertyNames": {"pattern": LANGUAGE_CODE_FIELD_PATTERN},
                    "additionalProperties": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": MAX_TRANSLATION_CHARACTERS,
                        "pattern": _SOME_TEXT,
                    },
                },
                {"type": "null"},
            ]
        },
    )


GlossaryIn = Annotated[
    list[GlossaryTermIn],
    Body(
        json_schema_extra={"maxItems": MAX_TERMS},
        description="The whole glossary: it replaces the one the project has.",
    ),
]


class GlossaryTermOut(BaseModel):
    term: str
    translations: dict[str, str]
