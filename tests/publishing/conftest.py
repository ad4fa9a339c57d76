"""A team with a project whose video a real worker processed (English, and Spanish through
Apertium), ready to be published; a second project of the team with a video of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.auth.accounts import join_team, org_id_of
from tests.conftest import WorkerProcesses
from tests.support.api import bearer_client, create_project, process, upload_video, wait_for_job
from tests.support.media_factory import PRODUCT_TOUR, make_titled_slide_video

# Three of the product tour's slides: their bullets are the articles' steps, so the words
# of a slide's bullets (not its title) are in its article's text.
SLIDES = PRODUCT_TOUR[1:4]


@dataclass
class Published:
    owner: httpx.Client  # a session cookie, as a browser has
    api: httpx.Client  # the owner's API token
    viewer: httpx.Client  # a member who may only read (session cookie)
    outsider: httpx.Client  # signed in, in another team (session cookie)
    anonymous: httpx.Client
    org_slug: str
    project: dict[str, Any]
    video: dict[str, Any]
    other_project: dict[str, Any]
    other_video: dict[str, Any]

    @property
    def site(self) -> str:
        return f"/p/{self.org_slug}/{self.project['slug']}/"


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "tour.mp4"
    return make_titled_slide_video(path, SLIDES, 3.0, (640, 360), fps=10).path


@pytest.fixture(scope="module")
def published(
    tour: Path,
    base_url: str,
    make_module_user: Callable[..., httpx.Client],
    module_worker: WorkerProcesses,
) -> Iterator[Published]:
    owner = make_module_user("site-owner")
    viewer = make_module_user("site-viewer")
    join_team(owner, org_id_of(owner), viewer, "viewer")
    api = bearer_client(owner)
    project = create_project(api, "Acme handbook")
    other_project = create_project(api, "Internal notes")
    video = upload_video(api, project["id"], tour, "Getting started")
    other_video = upload_video(api, other_project["id"], tour, "Release checklist")
    jobs = [process(api, video["id"], ["en", "es"]), process(api, other_video["id"], ["en"])]
    for job_id in jobs:
        job = wait_for_job(api, job_id, timeout=240)
        assert job["status"] == "completed", job
    org_slug = next(o["slug"] for o in api.get("/api/orgs").json() if o["id"] == project["org_id"])
    with httpx.Client(base_url=base_url, timeout=60) as anonymous:
        yield Published(
            owner=owner,
            api=api,
            viewer=viewer,
            outsider=make_module_user("site-outsider"),
            anonymous=anonymous,
            org_slug=org_slug,
            project=project,
            video=api.get(f"/api/videos/{video['id']}").json(),
            other_project=other_project,
            other_video=api.get(f"/api/videos/{other_video['id']}").json(),
        )
    api.close()


def articles(api: httpx.Client, video_id: str, language: str) -> list[dict[str, Any]]:
    answer = api.get(f"/api/videos/{video_id}/articles", params={"language": language})
    assert answer.status_code == 200, answer.text
    return list(answer.json())
