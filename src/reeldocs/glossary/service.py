"""A project's glossary: read by its team, changed by its owners and editors, replaced
whole (the API) or one term at a time (the glossary page).

Every change takes the project's glossary lock before it reads or writes the terms, and
holds it to the end of its transaction: changes made at once run one after the other, each
on the glossary the one before left (an added term and a PUT holding the same term cannot
clash in the unique index, nor two additions pass the limit on terms together).

Terms are matched in the text as written, case and all (and, for a term written with a
small first letter, also capitalised at the start of a sentence), so two terms that differ
only by capital letters would compete for the same words: the glossary refuses them, as
the table's unique index on `lower(term)` does.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.deps import Actor
from reeldocs.core.errors import Conflict, Invalid
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
    await _lock(session, project.id)
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


async def add_term(
    session: AsyncSession,
    actor: Actor,
    project_id: uuid.UUID,
    raw_term: str,
    raw_translations: dict[str, str],
    *,
    translatable: Collection[str],
) -> GlossaryTerm:
    """Add one term with its translations, each into one of the `translatable` languages."""
    project = await get_in_team(session, actor, Project, project_id, "project", write=True)
    term = _clean_term(raw_term, position=None)
    translations = _clean_translations(term, raw_translations)
    _check_translatable(term, translations, translatable)
    await _lock(session, project.id)
    existing = await _term_named(session, project.id, term)
    if existing is not None:
        also = "" if existing.term == term else f' (as "{existing.term}")'
        raise Invalid(
            f'The glossary already has "{term}"{also}: change its translations there instead '
            "of adding it again."
        )
    count = await session.scalar(
        sa.select(sa.func.count()).where(GlossaryTerm.project_id == project.id)
    )
    if (count or 0) >= MAX_TERMS:
        raise Invalid(
            f"The glossary already holds {MAX_TERMS} terms, as many as it may: remove one "
            "before adding another."
        )
    row = GlossaryTerm(
        org_id=project.org_id, project_id=project.id, term=term, translations=translations
    )
    session.add(row)
    await session.flush()
    return row


async def set_translations(
    session: AsyncSession,
    actor: Actor,
    project_id: uuid.UUID,
    term: str,
    raw_translations: dict[str, str],
    *,
    translatable: Collection[str],
) -> GlossaryTerm:
    """Give `term` exactly `raw_translations` in the `translatable` languages: one of them
    left out keeps the term as it is. Its translations into other languages (stored
    through the API, or for a translator this server no longer has) stay as they are."""
    project = await get_in_team(session, actor, Project, project_id, "project", write=True)
    await _lock(session, project.id)
    row = await _term_named(session, project.id, term)
    if row is None:
        raise Conflict(
            f'The glossary has no term "{" ".join(term.split())}" any more: someone may have '
            "removed it. Add it again to give it translations."
        )
    translations = _clean_translations(row.term, raw_translations)
    _check_translatable(row.term, translations, translatable)
    kept = {code: text for code, text in row.translations.items() if code not in translatable}
    row.translations = {**kept, **translations}
    await session.flush()
    return row


async def remove_term(
    session: AsyncSession, actor: Actor, project_id: uuid.UUID, term: str
) -> None:
    """Remove `term` from the glossary; one that is already gone is no error, since what
    was asked for is done."""
    project = await get_in_team(session, actor, Project, project_id, "project", write=True)
    await _lock(session, project.id)
    await session.execute(sa.delete(GlossaryTerm).where(*_named(project.id, term)))


async def _lock(session: AsyncSession, project_id: uuid.UUID) -> None:
    await session.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"reeldocs.glossary:{project_id}"},
    )


def _named(project_id: uuid.UUID, term: str) -> tuple[sa.ColumnElement[bool], ...]:
    # Compared by the database's lower(), as the unique index compares terms.
    return (
        GlossaryTerm.project_id == project_id,
        sa.func.lower(GlossaryTerm.term) == sa.func.lower(" ".join(term.split())),
    )


async def _term_named(
    session: AsyncSession, project_id: uuid.UUID, term: str
) -> GlossaryTerm | None:
    return await session.scalar(sa.select(GlossaryTerm).where(*_named(project_id, term)))


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
        term = _clean_term(raw_term, position=position)
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


def _clean_term(raw_term: str, *, position: int | None) -> str:
    """The term with its runs of spaces made one; `position` names it in a whole list."""
    term = " ".join(raw_term.split())
    if not term:
        if position is None:
            raise Invalid(
                "The term is empty: write the word or name that translations should keep "
                "or translate your way."
            )
        raise Invalid(
            f"Term number {position} of the glossary is empty: give it some text, or leave it out."
        )
    if len(term) > MAX_TERM_CHARACTERS:
        raise Invalid(
            f'The term "{term[:40]}…" is {len(term)} characters long; a glossary term '
            f"may have at most {MAX_TERM_CHARACTERS}."
        )
    return term


def _check_translatable(
    term: str, translations: dict[str, str], translatable: Collection[str]
) -> None:
    for code in translations:
        if code in translatable:
            continue
        name = language_name(code)
        if not translatable:
            raise Invalid(
                f'This server translates into no language, so a {name} translation of "{term}" '
                "would never be used: leave it out."
            )
        raise Invalid(
            f'This server cannot translate into {name}, so a {name} translation of "{term}" '
            f"would never be used: give it in {_either(translatable)}, or leave it out."
        )


def _either(codes: Collection[str]) -> str:
    names = sorted(language_name(code) for code in codes)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


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
