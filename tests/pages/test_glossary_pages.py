"""A project's glossary page: editors add, change and remove terms, in place with htmx and
with plain form posts without JavaScript; viewers read it; the glossary's refusals come
back as a sentence beside the form, with what was typed and nothing stored lost. What the
page saves is checked against what GET /api/projects/{id}/glossary answers.

The test server translates from English with Apertium into Catalan, Esperanto, Galician
and Spanish; German is a language it cannot translate into.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Locator, Page, expect
from support.api import bearer_client, create_project

from reeldocs.core.settings import Settings
from tests.auth.accounts import join_team, org_id_of
from tests.pages.conftest import csrf_header, no_horizontal_scroll, screenshot

Glossary = list[dict[str, Any]]


@pytest.fixture(scope="module")
def team(make_module_user: Callable[..., httpx.Client]) -> Iterator[dict[str, httpx.Client]]:
    owner = make_module_user("glossary-owner")
    editor = make_module_user("glossary-editor")
    viewer = make_module_user("glossary-viewer")
    outsider = make_module_user("glossary-outsider")
    join_team(owner, org_id_of(owner), editor, "editor")
    join_team(owner, org_id_of(owner), viewer, "viewer")
    api = bearer_client(owner)
    yield {"owner": owner, "editor": editor, "viewer": viewer, "outsider": outsider, "api": api}
    api.close()


@pytest.fixture
def project(team: dict[str, httpx.Client]) -> dict[str, Any]:
    return create_project(team["api"], "Uploader handbook")


def stored(api: httpx.Client, project: dict[str, Any]) -> Glossary:
    answer = api.get(f"/api/projects/{project['id']}/glossary")
    assert answer.status_code == 200, answer.text
    terms: Glossary = answer.json()
    return terms


def store(api: httpx.Client, project: dict[str, Any], terms: Glossary) -> None:
    answer = api.put(f"/api/projects/{project['id']}/glossary", json=terms)
    assert answer.status_code == 200, answer.text


def glossary_url(project: dict[str, Any]) -> str:
    return f"/projects/{project['id']}/glossary"


def term_item(page: Page, term: str) -> Locator:
    return page.locator(f".glossary-term[data-term='{term}']")


def add_form(page: Page) -> Locator:
    return page.locator("form.add-term")


def edit_form(page: Page) -> Locator:
    return page.locator("form.term-edit")


def mark_page(page: Page) -> None:
    """A mark that a full page load would wipe out: the changes happened in place."""
    page.evaluate("window.glossaryPage = 'still here'")


def assert_same_page(page: Page) -> None:
    assert page.evaluate("window.glossaryPage") == "still here"


def assert_no_axe_violations(page: Page, where: str) -> None:
    violations = Axe().run(page).response["violations"]
    found = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    assert found == [], where


def test_an_editor_adds_changes_and_removes_terms_in_place(
    team: dict[str, httpx.Client],
    project: dict[str, Any],
    open_context: Callable[..., BrowserContext],
) -> None:
    api = team["api"]
    page = open_context(team["editor"]).new_page()
    page.goto(f"/projects/{project['id']}")
    page.get_by_role("link", name="Glossary").click()
    expect(page.get_by_role("heading", name="Glossary", level=1)).to_be_visible()
    expect(page.get_by_text("No terms yet")).to_be_visible()
    assert_no_axe_violations(page, "empty glossary")
    mark_page(page)
    status = page.locator("#glossary-status")
    adding = add_form(page)

    # A term with a Spanish translation.
    adding.get_by_label("Term").fill("Acme Uploader")
    adding.get_by_label("Spanish").fill("Cargador Acme")
    adding.get_by_role("button", name="Add term").click()
    acme = term_item(page, "Acme Uploader")
    expect(acme).to_contain_text("Cargador Acme")
    expect(acme.locator("dd[lang=es]")).to_have_text("Cargador Acme")
    expect(acme).to_contain_text("Kept as it is in Catalan, Esperanto and Galician.")
    expect(status).to_have_text("“Acme Uploader” is added to the glossary.")
    # The form is empty again, and the keyboard is back in it for the next term.
    expect(adding.get_by_label("Term")).to_have_value("")
    expect(adding.get_by_label("Spanish")).to_have_value("")
    expect(adding.get_by_label("Term")).to_be_focused()
    assert stored(api, project) == [
        {"term": "Acme Uploader", "translations": {"es": "Cargador Acme"}}
    ]

    # A term without translations is never translated.
    adding.get_by_label("Term").fill("  dashboard ")
    adding.get_by_role("button", name="Add term").click()
    expect(term_item(page, "dashboard")).to_contain_text("Kept as it is in every language.")
    expect(page.locator(".glossary-term")).to_have_count(2)

    # Refusals: the sentence beside the form, what was typed still there, nothing stored lost.
    before = stored(api, project)
    refusals = [
        ("ACME uploader", 'The glossary already has "ACME uploader" (as "Acme Uploader")'),
        ("   ", "The term is empty"),
        ("x" * 201, "is 201 characters long; a glossary term may have at most 200"),
    ]
    for typed, sentence in refusals:
        adding.get_by_label("Term").fill(typed)
        adding.get_by_label("Catalan").fill("carregador")
        adding.get_by_role("button", name="Add term").click()
        expect(adding.get_by_role("alert")).to_contain_text(sentence)
        expect(adding.get_by_label("Term")).to_have_value(typed)
        expect(adding.get_by_label("Catalan")).to_have_value("carregador")
        expect(page.locator("#flash")).to_be_empty()
        assert stored(api, project) == before
    assert_no_axe_violations(page, "a refused term")
    screenshot(page, "glossary-refused-term")

    # Changing a term's translations: Spanish emptied (kept as it is), Catalan given.
    acme.get_by_role("link", name="Edit the translations of Acme Uploader").click()
    editing = edit_form(page)
    expect(editing.get_by_label("Spanish")).to_have_value("Cargador Acme")
    expect(editing.get_by_label("Catalan")).to_be_focused()  # the first language offered
    editing.get_by_label("Spanish").fill("")
    editing.get_by_label("Catalan").fill("Carregador Acme")
    editing.get_by_role("button", name="Save translations").click()
    expect(edit_form(page)).to_have_count(0)
    expect(acme.locator("dd[lang=ca]")).to_have_text("Carregador Acme")
    expect(acme.locator("dd[lang=es]")).to_have_count(0)
    edit_link = acme.get_by_role("link", name="Edit the translations of Acme Uploader")
    expect(edit_link).to_be_focused()
    expect(status).to_have_text("The translations of “Acme Uploader” are saved.")
    assert stored(api, project) == [
        {"term": "Acme Uploader", "translations": {"ca": "Carregador Acme"}},
        {"term": "dashboard", "translations": {}},
    ]

    # A translation too long is refused beside the edit form; Cancel leaves it as it was.
    edit_link.click()
    # (htmx moves the keyboard to the first field once the swap settles: typing waits)
    expect(edit_form(page).get_by_label("Catalan")).to_be_focused()
    edit_form(page).get_by_label("Galician").fill("y" * 201)
    edit_form(page).get_by_role("button", name="Save translations").click()
    expect(edit_form(page).get_by_role("alert")).to_contain_text(
        'The Galician translation of "Acme Uploader" is 201 characters long'
    )
    expect(edit_form(page).get_by_label("Galician")).to_have_value("y" * 201)
    assert_no_axe_violations(page, "a refused change")
    screenshot(page, "glossary-refused-change")
    edit_form(page).get_by_role("link", name="Cancel").click()
    expect(edit_form(page)).to_have_count(0)
    expect(edit_link).to_be_focused()
    assert stored(api, project)[0] == {
        "term": "Acme Uploader",
        "translations": {"ca": "Carregador Acme"},
    }

    # Removing a term.
    page.get_by_role("button", name="Remove dashboard").click()
    expect(term_item(page, "dashboard")).to_have_count(0)
    expect(status).to_have_text("“dashboard” is no longer in the glossary.")
    expect(page.get_by_role("heading", name="Terms")).to_be_focused()
    assert stored(api, project) == [
        {"term": "Acme Uploader", "translations": {"ca": "Carregador Acme"}}
    ]
    assert_same_page(page)
    assert_no_axe_violations(page, "the glossary with a term")


def test_without_javascript_the_forms_post_and_come_back_to_the_page(
    team: dict[str, httpx.Client],
    project: dict[str, Any],
    open_context: Callable[..., BrowserContext],
) -> None:
    api = team["api"]
    page = open_context(team["editor"], javascript=False).new_page()
    page.goto(glossary_url(project))
    adding = add_form(page)
    adding.get_by_label("Term").fill("Acme Uploader")
    adding.get_by_label("Esperanto").fill("Acme Alŝutilo")
    with page.expect_response(lambda answer: answer.request.method == "POST") as posted:
        adding.get_by_role("button", name="Add term").click()
    assert posted.value.status == 303
    expect(page).to_have_url(re.compile(r"/glossary#term-[0-9a-f-]+$"))
    expect(term_item(page, "Acme Uploader").locator("dd[lang=eo]")).to_have_text("Acme Alŝutilo")
    assert stored(api, project) == [
        {"term": "Acme Uploader", "translations": {"eo": "Acme Alŝutilo"}}
    ]

    # A refusal is the page again, with the sentence beside the form and the fields kept.
    adding = add_form(page)
    adding.get_by_label("Term").fill("acme uploader")
    adding.get_by_label("Spanish").fill("Cargador")
    with page.expect_response(lambda answer: answer.request.method == "POST") as posted:
        adding.get_by_role("button", name="Add term").click()
    assert posted.value.status == 422
    expect(add_form(page).get_by_role("alert")).to_contain_text(
        'The glossary already has "acme uploader"'
    )
    expect(add_form(page).get_by_label("Spanish")).to_have_value("Cargador")
    expect(page.get_by_role("heading", name="Glossary", level=1)).to_be_visible()

    # Edit is a link to the page with the term's form open; Save posts and comes back.
    page.get_by_role("link", name="Edit the translations of Acme Uploader").click()
    expect(page).to_have_url(re.compile(r"\?edit=Acme%20Uploader#term-"))
    editing = edit_form(page)
    editing.get_by_label("Esperanto").fill("")
    editing.get_by_label("Spanish").fill("Cargador de Acme")
    editing.get_by_role("button", name="Save translations").click()
    expect(edit_form(page)).to_have_count(0)
    expect(term_item(page, "Acme Uploader").locator("dd[lang=es]")).to_have_text("Cargador de Acme")
    assert stored(api, project) == [
        {"term": "Acme Uploader", "translations": {"es": "Cargador de Acme"}}
    ]

    # On a phone's width, the open form scrolls nothing sideways either.
    phone = open_context(team["editor"], viewport={"width": 375, "height": 740}).new_page()
    phone.goto(glossary_url(project) + "?edit=Acme%20Uploader")
    expect(edit_form(phone).get_by_label("Spanish")).to_have_value("Cargador de Acme")
    width, viewport = no_horizontal_scroll(phone)
    assert width <= viewport
    screenshot(phone, "glossary-editing-phone")

    page.get_by_role("button", name="Remove Acme Uploader").click()
    expect(page.get_by_text("No terms yet")).to_be_visible()
    assert stored(api, project) == []


def test_a_viewer_reads_the_glossary_without_controls(
    team: dict[str, httpx.Client],
    project: dict[str, Any],
    open_context: Callable[..., BrowserContext],
) -> None:
    store(
        team["api"],
        project,
        [
            {"term": "Acme Uploader", "translations": {"es": "Cargador Acme", "de": "Hochlader"}},
            {"term": "dashboard"},
        ],
    )
    page = open_context(team["viewer"]).new_page()
    page.goto(f"/projects/{project['id']}")
    page.get_by_role("link", name="Glossary").click()
    acme = term_item(page, "Acme Uploader")
    expect(acme.locator("dd[lang=es]")).to_have_text("Cargador Acme")
    expect(acme).to_contain_text("Hochlader (kept, but this server does not translate into German)")
    expect(term_item(page, "dashboard")).to_contain_text("Kept as it is in every language.")
    expect(page.locator("form.add-term, form.term-edit")).to_have_count(0)
    expect(page.get_by_role("textbox")).to_have_count(0)
    expect(page.get_by_role("button")).to_have_count(1)  # only "Log out"
    expect(page.get_by_role("link", name=re.compile("^Edit"))).to_have_count(0)
    screenshot(page, "glossary-viewer")

    # A link that would open a term's form opens nothing for a viewer.
    page.goto(glossary_url(project) + "?edit=dashboard")
    expect(page.locator("form.term-edit")).to_have_count(0)
    expect(page.get_by_role("textbox")).to_have_count(0)

    # A phone's width: nothing scrolls sideways.
    phone = open_context(team["viewer"], viewport={"width": 375, "height": 740}).new_page()
    phone.goto(glossary_url(project))
    width, viewport = no_horizontal_scroll(phone)
    assert width <= viewport


def test_a_viewers_forged_posts_are_refused_with_403(
    team: dict[str, httpx.Client], project: dict[str, Any], settings: Settings
) -> None:
    before = [{"term": "Acme Uploader", "translations": {"es": "Cargador Acme"}}]
    store(team["api"], project, before)
    viewer = team["viewer"]
    headers = csrf_header(viewer, settings.secret_key)
    posts = [
        ("terms", {"term": "Forged", "translation-es": "Falso"}),
        ("terms/save", {"term": "Acme Uploader", "translation-es": "Falso"}),
        ("terms/remove", {"term": "Acme Uploader"}),
    ]
    for action, form in posts:
        path = f"{glossary_url(project)}/{action}"
        answer = viewer.post(path, data=form, headers=headers)
        assert answer.status_code == 403, (path, answer.text)
        assert "You are a viewer in this team" in answer.text
        htmx = viewer.post(path, data=form, headers=headers | {"HX-Request": "true"})
        assert htmx.status_code == 403 and "<html" not in htmx.text
        assert "You are a viewer in this team" in htmx.text
        assert "hx-reswap" not in htmx.headers  # shown by the page's error flash, not swapped
    assert stored(team["api"], project) == before

    # Someone outside the team finds no glossary at all.
    outsider = team["outsider"]
    assert outsider.get(glossary_url(project)).status_code == 404
    forged = outsider.post(
        f"{glossary_url(project)}/terms",
        data={"term": "Forged"},
        headers=csrf_header(outsider, settings.secret_key),
    )
    assert forged.status_code == 404
    assert stored(team["api"], project) == before


def test_refusals_of_forms_no_browser_sends_keep_the_glossary(
    team: dict[str, httpx.Client], project: dict[str, Any], settings: Settings
) -> None:
    """A language the server cannot translate into, and a term someone else removed."""
    before = [{"term": "Acme Uploader", "translations": {"de": "Hochlader", "es": "Cargador Acme"}}]
    store(team["api"], project, before)
    editor = team["editor"]
    headers = csrf_header(editor, settings.secret_key)
    terms_url = f"{glossary_url(project)}/terms"

    german = {"term": "Board", "translation-es": "tablero", "translation-de": "Tafel"}
    for extra in ({}, {"HX-Request": "true"}):
        answer = editor.post(terms_url, data=german, headers=headers | extra)
        assert answer.status_code == 422, answer.text
        assert "This server cannot translate into German" in html.unescape(answer.text)
        assert "Catalan, Esperanto, Galician or Spanish" in answer.text
        assert 'value="tablero"' in answer.text  # what was typed is shown again
    assert answer.headers["hx-reswap"] == "morph"  # the htmx answer takes the form's place
    assert 'id="glossary"' in answer.text and "<html" not in answer.text
    changed = editor.post(
        f"{terms_url}/save",
        data={"term": "acme uploader", "translation-es": "Cargador", "translation-de": "Lader"},
        headers=headers,
    )
    assert changed.status_code == 422 and "cannot translate into German" in changed.text
    assert stored(team["api"], project) == before

    # Saving a term's translations keeps those into languages the page does not offer.
    saved = editor.post(
        f"{terms_url}/save",
        data={"term": "Acme Uploader", "translation-es": "", "translation-ca": "Carregador"},
        headers=headers,
    )
    assert saved.status_code == 303
    assert stored(team["api"], project) == [
        {"term": "Acme Uploader", "translations": {"ca": "Carregador", "de": "Hochlader"}}
    ]

    # A term removed meanwhile (through the API): its change is refused with a sentence.
    store(team["api"], project, [])
    gone = editor.post(
        f"{terms_url}/save",
        data={"term": "Acme Uploader", "translation-es": "Cargador"},
        headers=headers | {"HX-Request": "true"},
    )
    assert gone.status_code == 409
    assert 'The glossary has no term "Acme Uploader" any more' in html.unescape(gone.text)
    assert stored(team["api"], project) == []
