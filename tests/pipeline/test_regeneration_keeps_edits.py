"""Processing a video again never loses what people wrote: real jobs on a generated video,
with an article, a translation and a transcript segment edited between them."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from reeldocs.docs.subtitles import parse_webvtt
from tests.conftest import WorkerProcesses
from tests.support.api import bearer_client, create_project, process, upload_video, wait_for_job
from tests.support.media_factory import make_slide_video

SLIDES = ["Welcome to Acme", "Create a project", "Upload a video", "Invite your team"]
SPEECH = [
    "welcome to the acme product tour",
    "click new project and type a name for it",
    "drag your video file onto the upload page",
    "open settings and invite your team by email",
]
# Bytes a person might type: non-ASCII, a tab, trailing spaces, no final newline.
HUMAN_TEXT = "\n\nWritten by a person — naïve café ☕\twith trailing spaces   \n[video:00:05] end"
SCREENSHOT = re.compile(r"\]\(screenshots/([^)]+)\)")


@dataclass
class Video:
    api: httpx.Client
    id: str

    def articles(self, language: str = "en") -> list[dict[str, Any]]:
        answer = self.api.get(f"/api/videos/{self.id}/articles?language={language}")
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()
        return found

    def regenerate(self) -> None:
        job = wait_for_job(self.api, process(self.api, self.id, ["en", "es"]), timeout=300)
        assert job["status"] == "completed", job

    def screenshot(self, name: str) -> bytes:
        answer = self.api.get(f"/api/videos/{self.id}/screenshots/{name}")
        assert answer.status_code == 200, (name, answer.text)
        return answer.content


@pytest.fixture(scope="module")
def video(
    tmp_path_factory: pytest.TempPathFactory, make_module_user: Any, module_worker: WorkerProcesses
) -> Iterator[Video]:
    path = tmp_path_factory.mktemp("media") / "acme.mp4"
    make_slide_video(path, SLIDES, 4.0, speech=SPEECH)
    api = bearer_client(make_module_user())
    project = create_project(api, "Regeneration")
    uploaded = upload_video(api, project["id"], path, "Acme tour")
    processed = Video(api, uploaded["id"])
    processed.regenerate()
    yield processed
    api.close()


def storage_files(video_id: str) -> set[str]:
    root = Path(os.environ["REELDOCS_STORAGE_URL"])
    folder = root / "videos" / video_id / "runs"
    return {str(p.relative_to(root)) for p in folder.rglob("*") if p.is_file()}


def stored_paths(db_url: str, video_id: str) -> set[str]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT storage_path FROM screenshots WHERE video_id = %s", (video_id,))
        return {row[0] for row in rows}


def test_an_edited_article_survives_with_a_proposal_and_the_rest_is_replaced(
    video: Video, db_url: str
) -> None:
    english, spanish = video.articles(), video.articles("es")
    assert len(english) == len(spanish) >= 3
    edited, unedited = english[1], english[2]
    shows = SCREENSHOT.findall(edited["content_markdown"])
    assert shows, edited["content_markdown"]
    pictures = {name: video.screenshot(name) for name in shows}
    text = edited["content_markdown"] + HUMAN_TEXT
    saved = video.api.patch(f"/api/articles/{edited['id']}", json={"content_markdown": text})
    assert saved.status_code == 200, saved.text
    # a translation edited by hand, of another chapter
    translation = spanish[0]
    mine = "# Bienvenida\n\nTraducción hecha a mano.\n"
    assert video.api.patch(
        f"/api/articles/{translation['id']}", json={"content_markdown": mine}
    ).is_success
    # an older Reeldocs wrote this article differently: the new run's text must replace it
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE articles SET content_markdown = '# Written long ago' WHERE id = %s",
            (unedited["id"],),
        )
    files_before = storage_files(video.id)

    video.regenerate()

    after = {a["order"]: a for a in video.articles()}
    kept = next(a for a in after.values() if a["id"] == edited["id"])
    assert kept["content_markdown"] == text  # byte for byte
    assert kept["edited"] and kept["has_proposal"]
    assert [
        r["source"] for r in video.api.get(f"/api/articles/{edited['id']}/revisions").json()
    ] == [
        "edited",
        "generated",
    ]
    proposal = video.api.get(f"/api/articles/{edited['id']}/proposal").json()
    assert proposal["content_markdown"] == edited["content_markdown"]  # what the run wrote
    assert "-Written by a person — naïve café ☕" in proposal["diff"]
    assert proposal["job_id"]
    for name, picture in pictures.items():
        assert video.screenshot(name) == picture

    replaced = after[unedited["order"]]
    assert replaced["id"] != unedited["id"]
    assert replaced["content_markdown"] == unedited["content_markdown"]
    assert not replaced["edited"] and not replaced["has_proposal"]
    assert {a["id"] for a in after.values()}.isdisjoint(
        {a["id"] for a in english if a["id"] != edited["id"]}
    )

    spanish_after = video.articles("es")
    kept_translation = next(a for a in spanish_after if a["id"] == translation["id"])
    assert kept_translation["content_markdown"] == mine and kept_translation["has_proposal"]
    stale = {a["order"]: a["stale"] for a in spanish_after}
    # kept while its English article was replaced; made from the English article's proposal
    assert stale[kept_translation["order"]] and stale[kept["order"]]
    assert sum(stale.values()) == 2

    # the first run's folder keeps only the files the kept articles show, in any revision
    files_after = storage_files(video.id)
    assert files_before - files_after, "the first run's other files should have been removed"
    revisions_show = set(shows) | set(SCREENSHOT.findall(translation["content_markdown"]))
    assert {f.rsplit("/", 1)[1] for f in files_after & files_before} == revisions_show
    # and no file is left that no screenshot uses
    assert stored_paths(db_url, video.id) == files_after


def test_accepting_and_rejecting_proposals(video: Video) -> None:
    kept = [a for a in video.articles() + video.articles("es") if a["has_proposal"]]
    assert len(kept) == 2
    first, second = kept
    proposal = video.api.get(f"/api/articles/{first['id']}/proposal").json()
    accepted = video.api.post(f"/api/articles/{first['id']}/proposal/accept")
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["content_markdown"] == proposal["content_markdown"]
    assert body["has_proposal"] is False and body["edited"] is True
    sources = [r["source"] for r in video.api.get(f"/api/articles/{first['id']}/revisions").json()]
    assert sources[0] == "accepted"
    rejected = video.api.post(f"/api/articles/{second['id']}/proposal/reject")
    assert rejected.status_code == 204, rejected.text
    shown = video.api.get(f"/api/articles/{second['id']}").json()
    assert shown["content_markdown"] == second["content_markdown"]
    assert shown["has_proposal"] is False
    assert video.api.get(f"/api/articles/{second['id']}/proposal").status_code == 404


def test_a_corrected_segment_replaces_the_new_runs_words(video: Video) -> None:
    segments = video.api.get(f"/api/videos/{video.id}/segments").json()
    target = next(s for s in segments if "upload" in s["spoken_content"].lower())
    corrected = re.sub("upload", "Zorblax", target["spoken_content"], flags=re.IGNORECASE)
    assert video.api.patch(
        f"/api/segments/{target['id']}", json={"spoken_content": corrected}
    ).is_success

    video.regenerate()

    after = video.api.get(f"/api/videos/{video.id}/segments").json()
    survivor = next(s for s in after if s["id"] == target["id"])
    assert survivor["spoken_content"] == corrected and survivor["edited"]
    said = " ".join(s["spoken_content"] for s in after).lower()
    assert said.count("zorblax") == corrected.lower().count("zorblax")
    assert "upload" not in said.replace("zorblax", "")
    assert [s["start_time"] for s in after] == sorted(s["start_time"] for s in after)
    vtt = video.api.get(f"/api/videos/{video.id}/subtitles.vtt?language=en").text
    assert "Zorblax" in " ".join(cue.text for cue in parse_webvtt(vtt))
    # the run's translations were made without the correction
    assert all(a["stale"] for a in video.articles("es"))


def test_every_stored_file_is_a_screenshot_in_use(video: Video, db_url: str) -> None:
    """After three runs, the kept files of the first one among them."""
    assert stored_paths(db_url, video.id) == storage_files(video.id)
