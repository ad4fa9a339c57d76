"""A project's glossary: who may read and replace it, what it refuses, and how changes
made at once take turns."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest

from tests.auth.accounts import csrf_headers, join_team, org_id_of
from tests.auth.expect import assert_error


@dataclass
class Team:
    owner: httpx.Client
    editor: httpx.Client
    viewer: httpx.Client
    outsider: httpx.Client  # the owner of another organisation


@pytest.fixture(scope="module")
def team(make_module_user: Callable[..., httpx.Client]) -> Team:
    owner = make_module_user("glossary-owner")
    team = Team(
        owner,
        make_module_user("glossary-editor"),
        make_module_user("glossary-viewer"),
        make_module_user("glossary-outsider"),
    )
    for member, role in ((team.editor, "editor"), (team.viewer, "viewer")):
        join_team(owner, org_id_of(owner), member, role)
    return team


@pytest.fixture
def glossary_url(team: Team) -> str:
    project = team.owner.post("/api/projects", json={"name": "Acme docs"})
    assert project.status_code == 201, project.text
    return f"/api/projects/{project.json()['id']}/glossary"


def put(client: httpx.Client, url: str, body: Any) -> httpx.Response:
    return client.put(url, json=body)


def test_owners_and_editors_replace_the_glossary_viewers_read_it(
    team: Team, glossary_url: str
) -> None:
    assert team.owner.get(glossary_url).json() == []

    saved = put(
        team.owner,
        glossary_url,
        [
            {"term": "dashboard", "translations": {"es": "tablero", "FR": " tableau  de bord "}},
            {"term": "  Acme   Uploader "},
            {"term": "beta", "translations": None},
        ],
    )

    assert saved.status_code == 200, saved.text
    expected = [
        {"term": "Acme Uploader", "translations": {}},
        {"term": "beta", "translations": {}},
        {"term": "dashboard", "translations": {"es": "tablero", "fr": "tableau de bord"}},
    ]
    assert saved.json() == expected
    assert team.viewer.get(glossary_url).json() == expected
    refused = put(team.viewer, glossary_url, [{"term": "Anything"}])
    assert "viewer" in assert_error(refused, 403, "Forbidden")
    assert team.editor.get(glossary_url).json() == expected

    # A PUT replaces the whole list: terms left out are gone.
    replaced = put(team.editor, glossary_url, [{"term": "Dashboard", "translations": {"de": "x"}}])
    assert replaced.status_code == 200, replaced.text
    assert team.owner.get(glossary_url).json() == [
        {"term": "Dashboard", "translations": {"de": "x"}}
    ]
    emptied = put(team.owner, glossary_url, [])
    assert emptied.status_code == 200 and emptied.json() == []
    assert team.viewer.get(glossary_url).json() == []


def test_another_teams_glossary_does_not_exist_for_you(team: Team, glossary_url: str) -> None:
    assert put(team.owner, glossary_url, [{"term": "Acme"}]).status_code == 200
    assert_error(team.outsider.get(glossary_url), 404, "NotFound")
    assert_error(put(team.outsider, glossary_url, []), 404, "NotFound")
    missing = "/api/projects/00000000-0000-4000-8000-000000000000/glossary"
    assert_error(team.owner.get(missing), 404, "NotFound")
    assert_error(put(team.owner, missing, []), 404, "NotFound")
    assert_error(httpx.get(str(team.owner.base_url) + glossary_url), 401, "NotAuthenticated")
    assert team.owner.get(glossary_url).json() == [{"term": "Acme", "translations": {}}]


@pytest.mark.parametrize(
    ("body", "sentence"),
    [
        ([{"term": "Acme"}, {"term": "   "}], "Term number 2 of the glossary is empty"),
        ([{"term": "x" * 201}], "is 201 characters long; a glossary term may have at most 200"),
        ([{"term": "Acme"}, {"term": "ACME"}], 'lists "ACME" twice, as "Acme" and "ACME"'),
        ([{"term": "Acme"}, {"term": " Acme"}], 'lists "Acme" twice: terms that differ'),
        ([{"term": "Acme", "translations": {"spanish": "Acme"}}], 'name the language "spanish"'),
        ([{"term": "Acme", "translations": {"es-419": "Acme"}}], "two or three letters"),
        ([{"term": "Acme", "translations": {"es": "  "}}], "The Spanish translation of"),
        ([{"term": "Acme", "translations": {"es": "y" * 201}}], "it may have at most 200"),
        ([{"term": "Acme", "translations": {"es": "a", "ES": "b"}}], "give es more than once"),
        ([{"term": f"term {n}"} for n in range(501)], "at most 500 terms, and this one has 501"),
        ([{"translations": {"es": "tablero"}}], "term"),
        ({"term": "Acme"}, "The request is not valid"),
        ([{"term": "Acme", "translations": ["es"]}], "translations"),
    ],
    ids=[
        "blank-term",
        "long-term",
        "same-but-case",
        "same-after-trimming",
        "language-name",
        "region",
        "blank-translation",
        "long-translation",
        "language-twice",
        "too-many",
        "no-term",
        "not-a-list",
        "translations-not-an-object",
    ],
)
def test_a_glossary_that_cannot_be_kept_is_refused_whole_with_a_sentence(
    team: Team, glossary_url: str, body: Any, sentence: str
) -> None:
    before = [{"term": "Keep me", "translations": {"es": "Guárdame"}}]
    assert put(team.editor, glossary_url, before).status_code == 200

    detail = assert_error(put(team.editor, glossary_url, body), 422, "ValidationError")

    assert sentence in detail
    assert team.owner.get(glossary_url).json() == before


def test_changes_made_at_once_take_turns_on_the_glossary_lock(
    team: Team, glossary_url: str, db_url: str
) -> None:
    """A PUT and the page's add of the same term, sent while another transaction holds the
    project's glossary lock: both wait for it, then run one after the other, so neither
    meets the other half-done (no clash in the unique index, no 500)."""
    project_id = glossary_url.split("/")[3]
    key = f"reeldocs.glossary:{project_id}"
    page_add = f"/projects/{project_id}/glossary/terms"
    headers = csrf_headers(team.editor)
    with psycopg.connect(db_url, autocommit=True) as holder, ThreadPoolExecutor(2) as pool:
        holder.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (key,))
        try:
            replaced = pool.submit(put, team.owner, glossary_url, [{"term": "Acme"}])
            added = pool.submit(team.editor.post, page_add, data={"term": "ACME"}, headers=headers)
            _wait_for_waiters(holder, 2)
            assert not replaced.done() and not added.done()
        finally:
            holder.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (key,))
        statuses = (replaced.result().status_code, added.result().status_code)
    # Whichever went first, the other saw what it left: the add came first and the PUT
    # replaced it (303, 200), or the PUT came first and the add was refused (422).
    assert statuses in ((200, 303), (200, 422)), statuses
    assert team.owner.get(glossary_url).json() == [{"term": "Acme", "translations": {}}]


def _wait_for_waiters(conn: psycopg.Connection[Any], count: int) -> None:
    """Until `count` transactions wait for an advisory lock (a state, polled; no sleep
    stands in for it)."""
    deadline = time.monotonic() + 30
    while True:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()
        if row is not None and row[0] >= count:
            return
        assert time.monotonic() < deadline, "the requests never waited for the lock"
        time.sleep(0.02)
