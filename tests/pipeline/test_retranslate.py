"""Translating a video's docs again from their current English text, as a job run by a real
worker with the offline (Apertium) translator, without processing the video again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from reeldocs.docs.subtitles import parse_webvtt
from tests.auth.accounts import join_team, org_id_of
from tests.auth.expect import assert_error
from tests.conftest import WorkerProcesses
from tests.support.api import bearer_client, create_project, process, upload_video, wait_for_job
from tests.support.media_factory import make_slide_video

SLIDES = ["Welcome to Acme", "Create a project", "Invite your team"]
SPEECH = [
    "welcome to the acme product tour",
    "click new project and type a name for it",
    "open settings and invite your team by email",
]


@dataclass
class Processed:
    editor: httpx.Client
    viewer: httpx.Client
    outsider: httpx.Client
    video_id: str
    worker: WorkerProcesses

    def articles(self, language: str) -> list[dict[str, Any]]:
        answer = self.editor.get(f"/api/videos/{self.video_id}/articles?language={language}")
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()
        return found

    def retranslate(self, client: httpx.Client, body: Any = None) -> httpx.Response:
        return client.post(f"/api/videos/{self.video_id}/retranslate", json=body)


@pytest.fixture(scope="module")
def processed(
    tmp_path_factory: pytest.TempPathFactory, make_module_user: Any, module_worker: WorkerProcesses
) -> Iterator[Processed]:
    owner, viewer = make_module_user("editor"), make_module_user("viewer")
    join_team(owner, org_id_of(owner), viewer, "viewer")
    editor = bearer_client(owner)
    path = tmp_path_factory.mktemp("media") / "acme.mp4"
    make_slide_video(path, SLIDES, 4.0, speech=SPEECH)
    project = create_project(editor, "Translations")
    video = upload_video(editor, project["id"], path, "Acme tour")
    job = wait_for_job(editor, process(editor, video["id"], ["en", "es"]), timeout=300)
    assert job["status"] == "completed", job
    found = Processed(
        editor,
        bearer_client(viewer),
        bearer_client(make_module_user("outsider")),
        video["id"],
        module_worker,
    )
    yield found
    for client in (found.editor, found.viewer, found.outsider):
        client.close()


def test_nothing_stale_nothing_to_do(processed: Processed) -> None:
    detail = assert_error(processed.retranslate(processed.editor), 409, "Conflict")
    assert "stale" in detail
    refused = processed.retranslate(processed.editor, {"languages": ["ca"]})
    assert_error(refused, 422, "ValidationError")


def test_a_viewer_may_not_and_an_outsider_finds_no_video(processed: Processed) -> None:
    assert_error(processed.retranslate(processed.viewer, {"languages": ["es"]}), 403, "Forbidden")
    assert_error(processed.retranslate(processed.outsider, {"languages": ["es"]}), 404, "NotFound")


def test_stale_translations_are_made_again_and_edited_ones_get_proposals(
    processed: Processed,
) -> None:
    english, spanish = processed.articles("en"), processed.articles("es")
    first, second = english[0], english[1]
    # the English text changes; the Spanish translation of the first chapter was untouched,
    # the one of the second chapter was written by hand
    added = "\n\nOpen the settings page and save the project.\n"
    for article in (first, second):
        changed = processed.editor.patch(
            f"/api/articles/{article['id']}",
            json={"content_markdown": article["content_markdown"] + added},
        )
        assert changed.status_code == 200, changed.text
    by_order = {a["order"]: a for a in spanish}
    untouched, by_hand = by_order[first["order"]], by_order[second["order"]]
    mine = "# Mi capítulo\n\nEscrito a mano.\n"
    assert processed.editor.patch(
        f"/api/articles/{by_hand['id']}", json={"content_markdown": mine}
    ).is_success
    segments = processed.editor.get(f"/api/videos/{processed.video_id}/segments").json()
    target = next(s for s in segments if "project" in s["spoken_content"].lower())
    corrected = target["spoken_content"].lower().replace("project", "Zorblax project")
    assert processed.editor.patch(
        f"/api/segments/{target['id']}", json={"spoken_content": corrected}
    ).is_success
    assert all(a["stale"] for a in processed.articles("es"))

    # no worker yet: the job waits, and the video takes no other job meanwhile
    processed.worker.stop_all()
    started = processed.retranslate(processed.editor)
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    again = processed.retranslate(processed.editor, {"languages": ["es"]})
    assert_error(again, 409, "Conflict")
    assert again.json()["job_id"] == job_id
    other = processed.editor.post(
        "/api/videos/process", json={"video_id": processed.video_id, "languages": ["en"]}
    )
    assert_error(other, 409, "Conflict")
    processed.worker.start()
    job = wait_for_job(processed.editor, job_id, timeout=300)
    assert job["status"] == "completed", job
    assert job["languages"] == ["en", "es"]
    assert job["language_results"]["es"] == {"status": "completed"}
    assert job["progress"] == 1.0

    after = {a["id"]: a for a in processed.articles("es")}
    remade = after[untouched["id"]]
    assert remade["content_markdown"] != untouched["content_markdown"]
    assert not remade["stale"] and not remade["edited"]
    revisions = processed.editor.get(f"/api/articles/{untouched['id']}/revisions").json()
    assert [r["source"] for r in revisions] == ["translated", "generated"]

    kept = after[by_hand["id"]]
    assert kept["content_markdown"] == mine
    assert kept["has_proposal"] and kept["stale"]
    proposal = processed.editor.get(f"/api/articles/{by_hand['id']}/proposal").json()
    assert proposal["job_id"] == job_id
    assert "+" + proposal["content_markdown"].splitlines()[0] in proposal["diff"]
    accepted = processed.editor.post(f"/api/articles/{by_hand['id']}/proposal/accept")
    assert accepted.status_code == 200, accepted.text
    assert not accepted.json()["stale"] and not accepted.json()["has_proposal"]

    vtt = processed.editor.get(f"/api/videos/{processed.video_id}/subtitles.vtt?language=es")
    assert "Zorblax" in " ".join(cue.text for cue in parse_webvtt(vtt.text))
    shown = processed.editor.get(f"/api/videos/{processed.video_id}").json()
    assert shown["status"] == "ready"
