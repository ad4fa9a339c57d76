"""A video a real worker processed into English docs with a Spanish translation, and a
team around it: an editor (the owner), a viewer, and someone from another team."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.auth.accounts import email_of, join_team, org_id_of
from tests.conftest import WorkerProcesses
from tests.support.api import bearer_client, create_project, process, upload_video, wait_for_job
from tests.support.media_factory import make_slide_video

SLIDES = ["Welcome to Acme", "Create a project", "Invite your team"]
SPEECH = [
    "welcome to the acme product tour",
    "click new project and type a name for it",
    "open settings and invite your team by email",
]
ARTICLE_FIELDS = {
    "id",
    "video_id",
    "title",
    "slug",
    "language",
    "chapter_title",
    "order",
    "content_markdown",
    "edited",
    "has_proposal",
    "stale",
    "updated_at",
}


@dataclass
class Team:
    editor: httpx.Client
    viewer: httpx.Client
    outsider: httpx.Client
    video: dict[str, Any]
    editor_email: str


@pytest.fixture(scope="module")
def team(
    tmp_path_factory: pytest.TempPathFactory,
    make_module_user: Callable[..., httpx.Client],
    module_worker: WorkerProcesses,
) -> Iterator[Team]:
    owner = make_module_user("editor")
    viewer_session = make_module_user("viewer")
    join_team(owner, org_id_of(owner), viewer_session, "viewer")
    editor = bearer_client(owner)
    viewer = bearer_client(viewer_session)
    outsider = bearer_client(make_module_user("outsider"))
    path = tmp_path_factory.mktemp("media") / "acme.mp4"
    make_slide_video(path, SLIDES, 4.0, speech=SPEECH)
    project = create_project(editor, "Editing")
    video = upload_video(editor, project["id"], path, "Acme tour")
    job = wait_for_job(editor, process(editor, video["id"], ["en", "es"]), timeout=300)
    assert job["status"] == "completed", job
    yield Team(editor, viewer, outsider, video, email_of(owner))
    for client in (editor, viewer, outsider):
        client.close()


def articles(team: Team, language: str = "en") -> list[dict[str, Any]]:
    answer = team.editor.get(f"/api/videos/{team.video['id']}/articles?language={language}")
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found
