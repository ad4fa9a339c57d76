"""A project's glossary: read by its team, replaced whole by its owners and editors.

Terms are matched in the text as written, case and all (and, for a term written with a
small first letter, also capitalised at the start of a sentence), so two terms that differ
only by capital letters would compete for the same words: the glossary refuses them, as
the table's unique index on `lower(term)` does.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.deps import Actor
from reeldocs.core.errors import Invalid
from reeldocs.glossary.models import GlossaryTerm
from reeldocs.orgs.access import get_in_team
from reeldocs.projects.models import Project
from reeldocs.providers.registry import language_name

MAX_TERMS = 500
MAX_TERM_CHARACTERS = 200
MAX_TRANSLATION_CHARACTERS = 200
MAX_LANGUAGES_PER_TERM = 50
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True)
class GlossaryEntry:
    term: str
    translations: dict[str, str]


async def list_terms(
    session: AsyncSession, actor: Actor, project_id: uuid.UUID
) -> list[GlossaryTerm]:
    await get_in_team(session, actor, Project, project_id, "project")
    return await _terms_of(session, project_id)


async def replace(
    session: AsyncSession,
    actor: Actor,
    project_id: uuid.UUID,
    entries: list[tuple[str, dict[str, str] | None]],
) -> list[GlossaryTerm]:
    """Make the project's glossary exactly `entries` (term, translations), in one go."""
    project = await get_in_team(session, actor, Project, project_id, "project", write=True)
    cleaned = clean_entries(entries)
    await session.execute(sa.delete(GlossaryTerm).where(GlossaryTerm.project_id == project.id))
    session.add_all(
        GlossaryTerm(
            org_id=project.org_id,
            project_id=project.id,
            term=entry.term,
            translations=entry.translations,
        )
        for entry in cleaned
    )
    try:
        await session.flush()
    except IntegrityError as error:  # the database's idea of capitals can differ from Python's
        raise Invalid(
            "Two terms of the glossary differ only by capital letters: keep one of them."
        ) from error
    return await _terms_of(session, project.id)


async def _terms_of(session: AsyncSession, project_id: uuid.UUID) -> list[GlossaryTerm]:
    result = await session.execute(
        sa.select(GlossaryTerm)
        .where(GlossaryTerm.project_id == project_id)
        .order_by(sa.func.lower(GlossaryTerm.term), GlossaryTerm.term)
    )
    return list(result.scalars())


def clean_entries(entries: list[tuple[str, dict[str, str] | None]]) -> list[GlossaryEntry]:
    """The entries with their spaces tidied and language codes in small letters; raises
    Invalid with a sentence naming the first entry that cannot be kept."""
    if len(entries) > MAX_TERMS:
        raise Invalid(
            f"A glossary holds at most {MAX_TERMS} terms, and this one has {len(entries)}: "
            "remove some and save it again."
        )
    cleaned: list[GlossaryEntry] = []
    seen: dict[str, str] = {}
    for position, (raw_term, raw_translations) in enumerate(entries, start=1):
        term = " ".join(raw_term.split())
        if not term:
            raise Invalid(
                f"Term number {position} of the glossary is empty: give it some text, "
                "or leave it out."
            )
        if len(term) > MAX_TERM_CHARACTERS:
            raise Invalid(
                f'The term "{term[:40]}…" is {len(term)} characters long; a glossary term '
                f"may have at most {MAX_TERM_CHARACTERS}."
            )
        earlier = seen.get(term.lower())
        if earlier is not None:
            same = "twice" if earlier == term else f'twice, as "{earlier}" and "{term}"'
            raise Invalid(
                f'The glossary lists "{term}" {same}: terms that differ only by capital '
                "letters are the same term, so keep one of them."
            )
        seen[term.lower()] = term
        cleaned.append(GlossaryEntry(term, _clean_translations(term, raw_translations or {})))
    return cleaned


def _clean_translations(term: str, translations: dict[str, str]) -> dict[str, str]:
    if len(translations) > MAX_LANGUAGES_PER_TERM:
        raise Invalid(
            f'The term "{term}" has translations into {len(translations)} languages; a term '
            f"may have at most {MAX_LANGUAGES_PER_TERM}."
        )
    cleaned: dict[str, str] = {}
    for raw_code, raw_translation in translations.items():
        code = raw_code.strip().lower()
        if not _LANGUAGE_CODE.fullmatch(code):
            raise Invalid(
                f'The translations of "{term}" name the language "{raw_code}": a language '
                "is named by its two or three letters, such as es or fr."
            )
        if code in cleaned:
            raise Invalid(f'The translations of "{term}" give {code} more than once.')
        translation = " ".join(raw_translation.split())
        if not translation:
            raise Invalid(
                f'The {language_name(code)} translation of "{term}" is empty: give one, or '
                "leave that language out to keep the term as it is."
            )
        if len(translation) > MAX_TRANSLATION_CHARACTERS:
            raise Invalid(
                f'The {language_name(code)} translation of "{term}" is {len(translation)} '
                f"characters long; it may have at most {MAX_TRANSLATION_CHARACTERS}."
            )
        cleaned[code] = translation
    return cleaned
