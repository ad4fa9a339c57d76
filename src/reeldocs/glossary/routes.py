from __future__ import annotations

import uuid

from fastapi import APIRouter

from reeldocs.core.deps import CurrentActor, DbSession
from reeldocs.glossary import service
from reeldocs.glossary.models import GlossaryTerm
from reeldocs.glossary.schemas import GlossaryIn, GlossaryTermOut

router = APIRouter(prefix="/api/projects", tags=["glossary"])


def _out(terms: list[GlossaryTerm]) -> list[GlossaryTermOut]:
    return [GlossaryTermOut.model_validate(term, from_attributes=True) for term in terms]


@router.get("/{project_id}/glossary", response_model=list[GlossaryTermOut])
async def get_glossary(
    project_id: uuid.UUID, actor: CurrentActor, db: DbSession
) -> list[GlossaryTermOut]:
    return _out(await service.list_terms(db, actor, project_id))


@router.put("/{project_id}/glossary", response_model=list[GlossaryTermOut])
async def replace_glossary(
    project_id: uuid.UUID, body: GlossaryIn, actor: CurrentActor, db: DbSession
) -> list[GlossaryTermOut]:
    """Replace the whole glossary; a term without a translation for a language is never
    translated into it."""
    entries = [(entry.term, entry.translations) for entry in body]
    return _out(await service.replace(db, actor, project_id, entries))
