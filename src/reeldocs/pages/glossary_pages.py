"""A project's glossary page: its terms and their translations into the languages this
server translates into. Owners and editors add a term, change its translations or
remove it; viewers read.

Without JavaScript every form is a plain post answered by a redirect to the page, or by
the page again, with the sentence beside the form, when the glossary refuses the change.
With htmx the forms swap the glossary in place (morphed, so focus and the live region
stay), refusals included: those answers carry `HX-Reswap`, which the pages' script reads
as "show this error answer in place".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from reeldocs.core.deps import Actor, AppSettings, CurrentActor, DbSession
from reeldocs.core.errors import Conflict, Invalid
from reeldocs.core.settings import Settings
from reeldocs.glossary import service as glossary
from reeldocs.glossary.models import GlossaryTerm
from reeldocs.orgs.access import require_writer
from reeldocs.orgs.models import WRITER_ROLES
from reeldocs.pages.job_views import language_choices
from reeldocs.pages.project_pages import project_and_role
from reeldocs.pages.rendering import is_htmx, render
from reeldocs.projects.models import Project
from reeldocs.providers.registry import LanguageOption

router = APIRouter(include_in_schema=False)

TRANSLATION_FIELD = "translation-"  # + a language code: one field per language
# Past this many languages, a term's untranslated ones are counted rather than named.
NAMED_LANGUAGES = 6


@dataclass(frozen=True)
class TermForm:
    """What a refused form held, to show it again as it was typed."""

    term: str = ""
    translations: dict[str, str] = field(default_factory=dict)
    error: str | None = None


@dataclass
class GlossaryView:
    """Everything the glossary card shows besides the terms themselves."""

    editing: str | None = None  # the term whose translations are being changed
    adding: TermForm = field(default_factory=TermForm)
    edited: TermForm | None = None  # a refused change of the term being edited
    error: str | None = None
    notice: str = ""
    focus_id: str | None = None


async def translation_targets(settings: Settings) -> list[LanguageOption]:
    return [option for option in await language_choices(settings) if option.translate]


def _same_term(a: str, b: str) -> bool:
    return " ".join(a.split()).lower() == " ".join(b.split()).lower()


def _find(terms: list[GlossaryTerm], term: str | None) -> GlossaryTerm | None:
    if term is None:
        return None
    return next((row for row in terms if _same_term(row.term, term)), None)


def _untranslated(row: GlossaryTerm, targets: list[LanguageOption]) -> str:
    """The target languages the term is kept as it is in, in words."""
    names = [option.label for option in targets if option.code not in row.translations]
    if not names:
        return ""
    if len(names) == len(targets):
        return "Kept as it is in every language."
    if len(names) > NAMED_LANGUAGES:
        return f"Kept as it is in the {len(names)} other languages."
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"Kept as it is in {listed}."


async def _render(
    request: Request,
    db: AsyncSession,
    actor: Actor,
    project: Project,
    role: str,
    targets: list[LanguageOption],
    view: GlossaryView,
    *,
    status: int = 200,
    terms: list[GlossaryTerm] | None = None,
) -> Response:
    if terms is None:
        terms = await glossary.list_terms(db, actor, project.id)
    can_write = role in WRITER_ROLES
    context: dict[str, Any] = {
        "project": project,
        "can_write": can_write,
        "terms": terms,
        "targets": targets,
        "target_codes": {option.code for option in targets},
        "editing": _find(terms, view.editing) if can_write else None,
        "view": view,
        "untranslated": lambda row: _untranslated(row, targets),
    }
    htmx = is_htmx(request)
    # An htmx refusal is swapped in place like an answer that succeeded.
    headers = {"HX-Reswap": "morph"} if htmx and status >= 400 else None
    if htmx:
        return render(
            request,
            "partials/glossary_card.html",
            context,
            status=status,
            fragment=True,
            headers=headers,
        )
    return render(request, "pages/glossary.html", context, status=status)


def _page_url(project: Project, row: GlossaryTerm | None = None) -> str:
    return f"/projects/{project.id}/glossary" + (f"#term-{row.id}" if row else "")


def _translations(form: FormData) -> dict[str, str]:
    """Every `translation-<code>` field as typed, empty ones included."""
    return {
        key.removeprefix(TRANSLATION_FIELD): value
        for key, value in form.multi_items()
        if key.startswith(TRANSLATION_FIELD) and isinstance(value, str)
    }


def _given(typed: dict[str, str]) -> dict[str, str]:
    # An empty field means "keep the term as it is" in that language.
    return {code: text for code, text in typed.items() if text.strip()}


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _writer_context(
    db: AsyncSession, actor: Actor, project_id: uuid.UUID, settings: AppSettings
) -> tuple[Project, str, list[LanguageOption]]:
    project, role = await project_and_role(db, actor, project_id)
    # Before the form is read: a viewer's post is refused whatever it holds.
    await require_writer(db, actor, project.org_id, "project")
    return project, role, await translation_targets(settings)


@router.get("/projects/{project_id}/glossary")
async def glossary_page(
    project_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    settings: AppSettings,
    edit: str | None = None,
    focus: str | None = None,
) -> Response:
    """The glossary; `edit` opens a term's translations for changing, `focus` puts the
    keyboard back on a term's Edit link (when its change is cancelled)."""
    project, role = await project_and_role(db, actor, project_id)
    targets = await translation_targets(settings)
    view = GlossaryView(editing=edit)
    terms = await glossary.list_terms(db, actor, project.id)
    if role in WRITER_ROLES:
        opened, back = _find(terms, edit), _find(terms, focus)
        if edit is not None and opened is None:
            view.error = (
                f'The glossary has no term "{" ".join(edit.split())}" any more: someone may '
                "have removed it."
            )
        elif opened is not None:
            view.focus_id = f"term-{opened.id}-{targets[0].code}" if targets else None
        elif back is not None:
            view.focus_id = f"edit-{back.id}"
    return await _render(request, db, actor, project, role, targets, view, terms=terms)


@router.post("/projects/{project_id}/glossary/terms")
async def add_term(
    project_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    settings: AppSettings,
) -> Response:
    project, role, targets = await _writer_context(db, actor, project_id, settings)
    form = await request.form()
    term, typed = _text(form, "term"), _translations(form)
    translatable = {option.code for option in targets}
    try:
        row = await glossary.add_term(
            db, actor, project.id, term, _given(typed), translatable=translatable
        )
    except Invalid as error:
        view = GlossaryView(adding=TermForm(term, typed, error.detail), focus_id="new-term")
        return await _render(request, db, actor, project, role, targets, view, status=error.status)
    if not is_htmx(request):
        return RedirectResponse(_page_url(project, row), status_code=303)
    view = GlossaryView(notice=f"“{row.term}” is added to the glossary.", focus_id="new-term")
    return await _render(request, db, actor, project, role, targets, view)


@router.post("/projects/{project_id}/glossary/terms/save")
async def save_translations(
    project_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    settings: AppSettings,
) -> Response:
    project, role, targets = await _writer_context(db, actor, project_id, settings)
    form = await request.form()
    term, typed = _text(form, "term"), _translations(form)
    translatable = {option.code for option in targets}
    try:
        row = await glossary.set_translations(
            db, actor, project.id, term, _given(typed), translatable=translatable
        )
    except Invalid as error:
        view = GlossaryView(editing=term, edited=TermForm(term, typed, error.detail))
        return await _render(request, db, actor, project, role, targets, view, status=error.status)
    except Conflict as error:  # the term is gone: the glossary as it is now, and why
        view = GlossaryView(error=error.detail, focus_id="terms-heading")
        return await _render(request, db, actor, project, role, targets, view, status=error.status)
    if not is_htmx(request):
        return RedirectResponse(_page_url(project, row), status_code=303)
    view = GlossaryView(
        notice=f"The translations of “{row.term}” are saved.", focus_id=f"edit-{row.id}"
    )
    return await _render(request, db, actor, project, role, targets, view)


@router.post("/projects/{project_id}/glossary/terms/remove")
async def remove_term(
    project_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    settings: AppSettings,
) -> Response:
    project, role, targets = await _writer_context(db, actor, project_id, settings)
    term = " ".join(_text(await request.form(), "term").split())
    if not term:
        raise Invalid("Say which term to remove: the form sent none.")
    await glossary.remove_term(db, actor, project.id, term)
    if not is_htmx(request):
        return RedirectResponse(_page_url(project), status_code=303)
    view = GlossaryView(notice=f"“{term}” is no longer in the glossary.", focus_id="terms-heading")
    return await _render(request, db, actor, project, role, targets, view)
