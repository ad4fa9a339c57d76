from __future__ import annotations

from pydantic import BaseModel


class GlossaryTermIn(BaseModel):
    term: str
    # language code → the term in that language; a language left out keeps the term
    translations: dict[str, str] | None = None


class GlossaryTermOut(BaseModel):
    term: str
    translations: dict[str, str]
