"""Whole processing jobs through the Gemini path, against the fake Gemini server.

A real `reeldocs worker` process runs the pipeline with REELDOCS_PROVIDER=gemini;
the google-genai SDK inside it talks to FakeGemini in this test process, which
answers every generateContent call by what its prompt asks, as a well-behaved
model would. The API is served by a second live server whose settings say Gemini
is configured, so it offers the languages the Gemini path can write and translate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.api import bearer_client, create_project, process, upload_video, wait_for_job
from support.media_factory import make_slide_video

from reeldocs.core.db import DatabaseUrls
from reeldocs.core.settings import Settings
from reeldocs.docs.references import find_video_references
from reeldocs.docs.subtitles import parse_srt, parse_webvtt
from reeldocs.providers.markdown_text import translate_markdown_runs
from tests.conftest import (
    LiveServer,
    WorkerProcesses,
    configured_server,
    sign_up,
    worker_group,
)
from tests.providers.fake_gemini import (
    FakeGemini,
    FakeReply,
    RecordedRequest,
    StoredFile,
    api_error,
    model_json,
)

SECONDS_PER_SLIDE = 3.0
SLIDES = ["Open the settings", "Turn on backups", "Press save"]
SPEECH = [
    "open the settings page from the menu",
    "turn on daily backups for the project",
    "press save to keep your changes",
]
DURATION = SECONDS_PER_SLIDE * len(SLIDES)
KEY_REFUSED = "Gemini refused the API key: check GEMINI_API_KEY."

SEGMENTS: list[dict[str, str]] = [
    {
        "start_time": f"00:0{index * 3}",
        "end_time": f"00:0{index * 3 + 3}",
        "spoken_content": phrase.capitalize() + ".",
        "visual_context": f"A slide that reads '{slide}'.",
    }
    for index, (slide, phrase) in enumerate(zip(SLIDES, SPEECH, strict=True))
]


def fake_spanish(text: str) -> str:
    """A stand-in translation that changes every sentence, so the result is predictable."""
    return "¡" + " ".join(reversed(text.split())) + "!"


def translate_runs(markdown: str) -> str:
    return translate_markdown_runs(markdown, lambda texts: [fake_spanish(t) for t in texts])


def prompt_text(request: RecordedRequest) -> str:
    return "".join(part.get("text", "") for part in request.json()["contents"][0]["parts"])


def document_answer(prompt: str) -> dict[str, Any]:
    """Chapters that use the screenshots the prompt offers, plus two things a model invents."""
    offered = re.findall(r"^- screenshots/(\S+) ", prompt, flags=re.MULTILINE)
    image = f"\n\n![The settings page](screenshots/{offered[0]})" if offered else ""
    return {
        "title": "Backups in three steps",
        "chapters": [
            {
                "title": "Open the settings",
                "sections": [
                    {
                        "title": "Open the settings",
                        "markdown": f"Open the settings page from the menu [video:00:01].{image}",
                    }
                ],
            },
            {
                "title": "Back up and save",
                "sections": [
                    {
                        "title": "Turn on backups",
                        "markdown": "Turn on daily backups for the project [video:00:04].\n\n"
                        "```\nbackup --daily\n```\n\n![Made up](screenshots/invented.webp)",
                    },
                    {
                        "title": "Save your changes",
                        "markdown": "Press `Save` to keep your changes [video:00:07]. "
                        "Then you are done with it [video:09:00].",
                    },
                ],
            },
        ],
    }


class ModelScript:
    """Answers generateContent by what the prompt asks for."""

    def __init__(self) -> None:
        self.translate_documents = True  # False: give the document back untranslated

    def __call__(self, request: RecordedRequest) -> FakeReply:
        prompt = prompt_text(request)
        if "split it into consecutive segments" in prompt:
            return model_json({"language": "en", "segments": SEGMENTS})
        if prompt.startswith("Write the documentation"):
            return model_json(document_answer(prompt))
        if prompt.startswith("Translate this Markdown document"):
            markdown = prompt.split("\nDocument:\n", 1)[1]
            translated = translate_runs(markdown) if self.translate_documents else markdown
            return model_json({"markdown": translated})
        if "subtitle lines" in prompt:
            lines = json.loads(prompt.rsplit("\n", 1)[1])
            return model_json({"lines": [fake_spanish(line) for line in lines]})
        return api_error(400, "The fake model got a prompt it does not know.", "INVALID_ARGUMENT")


@dataclass
class FinishedJob:
    job: dict[str, Any]
    video: dict[str, Any]
    requests: list[RecordedRequest]  # what the fake received during this job
    files: list[StoredFile]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGemini]:
    with FakeGemini(api_key="gemini-pipeline-key") as server:
        yield server


@pytest.fixture(scope="module")
def gemini_server(
    settings: Settings, db_urls: DatabaseUrls, fake: FakeGemini
) -> Iterator[LiveServer]:
    with configured_server(
        settings,
        db_urls,
        provider="gemini",
        gemini_api_key=fake.api_key,
        gemini_base_url=fake.base_url,
    ) as server:
        yield server


@pytest.fixture(scope="module")
def gemini_worker(db_urls: DatabaseUrls, fake: FakeGemini) -> Iterator[WorkerProcesses]:
    with worker_group(
        db_urls,
        start=True,
        REELDOCS_PROVIDER="gemini",
        GEMINI_API_KEY=fake.api_key,
        REELDOCS_GEMINI_BASE_URL=fake.base_url,
    ) as group:
        yield group


@pytest.fixture(scope="module")
def api(gemini_server: LiveServer) -> Iterator[httpx.Client]:
    with closing(sign_up(gemini_server.url, "gemini")) as session:
        client = bearer_client(session)
    yield client
    client.close()


@pytest.fixture(scope="module")
def video_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gemini-media") / "backups.mp4"
    return make_slide_video(path, SLIDES, SECONDS_PER_SLIDE, speech=SPEECH)


@pytest.fixture(scope="module")
def project(api: httpx.Client) -> dict[str, Any]:
    return create_project(api, "Gemini docs")


def run_job(
    api: httpx.Client,
    fake: FakeGemini,
    project: dict[str, Any],
    video_file: Path,
    script: ModelScript,
    *first_uploads: FakeReply,
) -> FinishedJob:
    """Upload the video and process it in en + es; the fake plays `script` for this job only."""
    fake.reset()
    fake.processing_polls = 0  # ACTIVE at once: the provider polls every 3 s otherwise
    fake.generate_responder = script
    fake.queue("upload_start", *first_uploads)
    video = upload_video(api, project["id"], video_file, "Backups")
    job = wait_for_job(api, process(api, video["id"], ["en", "es"]), timeout=120)
    return FinishedJob(job, video, list(fake.requests), list(fake.files.values()))


@pytest.fixture(scope="module")
def completed(
    api: httpx.Client,
    fake: FakeGemini,
    project: dict[str, Any],
    video_file: Path,
    gemini_worker: WorkerProcesses,
) -> FinishedJob:
    return run_job(api, fake, project, video_file, ModelScript())


@pytest.fixture(scope="module")
def key_refused(
    api: httpx.Client,
    fake: FakeGemini,
    project: dict[str, Any],
    video_file: Path,
    gemini_worker: WorkerProcesses,
) -> FinishedJob:
    refusal = api_error(
        403,
        "API key expired. Please renew the API key.",
        "PERMISSION_DENIED",
        reason="API_KEY_INVALID",
    )
    return run_job(api, fake, project, video_file, ModelScript(), refusal)


@pytest.fixture(scope="module")
def untranslated(
    api: httpx.Client,
    fake: FakeGemini,
    project: dict[str, Any],
    video_file: Path,
    gemini_worker: WorkerProcesses,
) -> FinishedJob:
    script = ModelScript()
    script.translate_documents = False
    return run_job(api, fake, project, video_file, script)


def articles(api: httpx.Client, video_id: str, language: str) -> list[dict[str, Any]]:
    answer = api.get(f"/api/videos/{video_id}/articles", params={"language": language})
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def calls_asking(requests: list[RecordedRequest], opening: str) -> list[RecordedRequest]:
    return [r for r in requests if r.route == "generate" and opening in prompt_text(r)]


# --- a job that completes ---------------------------------------------------------------


def test_the_job_completes_with_gemini_doing_every_step(
    api: httpx.Client, completed: FinishedJob
) -> None:
    job = completed.job
    assert job["status"] == "completed", job
    assert job["progress"] == 1.0 and job["error_message"] is None
    assert job["providers"] == {
        "understanding": "gemini",
        "writing": "gemini",
        "translating": "gemini",
    }
    assert job["language_results"] == {"en": {"status": "completed"}, "es": {"status": "completed"}}
    video = api.get(f"/api/videos/{completed.video['id']}").json()
    assert video["status"] == "ready"
    assert sorted(video["languages_ready"]) == ["en", "es"]
    assert video["source_language"] == "en"  # as the fake detected it


def test_the_video_was_uploaded_whole_then_deleted(
    completed: FinishedJob, video_file: Path
) -> None:
    [stored] = completed.files
    assert stored.finalized and stored.deleted
    assert stored.mime_type == "video/mp4"
    assert bytes(stored.content) == video_file.read_bytes()
    deletes = [r for r in completed.requests if r.route == "delete_file"]
    assert [r.path.rsplit("/", 1)[-1] for r in deletes] == [stored.name.split("/")[1]]
    [understanding] = calls_asking(completed.requests, "split it into consecutive segments")
    # the SDK spells these fields in snake_case, Google's REST docs in camelCase
    video_part = understanding.json()["contents"][0]["parts"][0]["fileData"]
    assert video_part.get("file_uri", video_part.get("fileUri")).endswith(stored.name)
    assert video_part.get("mime_type", video_part.get("mimeType")) == "video/mp4"
    # every call the worker made carried the key it was given
    assert all(
        r.headers.get("x-goog-api-key") == "gemini-pipeline-key"
        for r in completed.requests
        if r.route != "upload_bytes"
    )


def test_the_segments_are_the_ones_gemini_gave(api: httpx.Client, completed: FinishedJob) -> None:
    segments = api.get(f"/api/videos/{completed.video['id']}/segments").json()
    assert [s["spoken_content"] for s in segments] == [e["spoken_content"] for e in SEGMENTS]
    assert [s["visual_context"] for s in segments] == [e["visual_context"] for e in SEGMENTS]
    times = [t for s in segments for t in (s["start_time"], s["end_time"])]
    assert times == pytest.approx([0.0, 3.0, 3.0, 6.0, 6.0, 9.0])


def test_articles_in_both_languages_keep_references_and_code(
    api: httpx.Client, completed: FinishedJob
) -> None:
    english = articles(api, completed.video["id"], "en")
    spanish = articles(api, completed.video["id"], "es")
    assert [a["chapter_title"] for a in english] == ["Open the settings", "Back up and save"]
    assert len(spanish) == len(english)
    for en, es in zip(english, spanish, strict=True):
        en_refs = [r.text for r in find_video_references(en["content_markdown"])]
        assert en_refs
        assert [r.text for r in find_video_references(es["content_markdown"])] == en_refs
        # exactly what the fake's translation made of the stored English article
        assert es["content_markdown"] == translate_runs(en["content_markdown"])
        assert es["title"] != en["title"] and es["title"].startswith("¡")
    first, second = (a["content_markdown"] for a in english)
    assert re.search(r"!\[The settings page\]\(screenshots/[^)]+\.webp\)", first)
    assert "```\nbackup --daily\n```" in second and "`Save`" in second
    # the answer checks ran in the worker: an invented image and a moment past the end are gone
    assert "invented.webp" not in second and "[video:09:00]" not in second
    assert [r.text for r in find_video_references(second)] == ["[video:00:04]", "[video:00:07]"]
    spanish_second = spanish[1]["content_markdown"]
    assert "```\nbackup --daily\n```" in spanish_second and "`Save`" in spanish_second


def test_the_screenshot_an_article_shows_is_served(
    api: httpx.Client, completed: FinishedJob
) -> None:
    first = articles(api, completed.video["id"], "en")[0]["content_markdown"]
    [name] = re.findall(r"\]\(screenshots/([^)]+)\)", first)
    answer = api.get(f"/api/videos/{completed.video['id']}/screenshots/{name}")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/webp"


def test_subtitles_in_both_languages_share_their_timings(
    api: httpx.Client, completed: FinishedJob
) -> None:
    tracks: dict[str, list[Any]] = {}
    for language in ("en", "es"):
        params = {"language": language}
        vtt = api.get(f"/api/videos/{completed.video['id']}/subtitles.vtt", params=params)
        srt = api.get(f"/api/videos/{completed.video['id']}/subtitles.srt", params=params)
        assert vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt")
        assert srt.status_code == 200
        tracks[language] = parse_webvtt(vtt.text)
        assert tracks[language] and len(parse_srt(srt.text)) == len(tracks[language])
    english, spanish = tracks["en"], tracks["es"]
    assert [(c.start, c.end) for c in spanish] == [(c.start, c.end) for c in english]
    assert english[-1].end <= DURATION + 1e-6
    spoken = " ".join(" ".join(c.text.split()) for c in english)
    assert spoken.casefold().startswith(SPEECH[0])
    for en_cue, es_cue in zip(english, spanish, strict=True):
        assert " ".join(es_cue.text.split()) == fake_spanish(" ".join(en_cue.text.split()))


# --- a key Gemini refuses ---------------------------------------------------------------


def test_a_refused_key_fails_the_job_in_transcribing(
    api: httpx.Client, key_refused: FinishedJob
) -> None:
    job = key_refused.job
    assert job["status"] == "failed", job
    assert job["error_message"] == KEY_REFUSED
    assert job["failed_step"] == "transcribing"
    assert api.get(f"/api/videos/{key_refused.video['id']}").json()["status"] == "failed"
    # refused for good: asked once, never retried, nothing else sent
    assert [r.route for r in key_refused.requests] == ["upload_start"]


# --- a translation that never passes the checks -------------------------------------------


def test_an_untranslated_answer_fails_only_that_language(
    api: httpx.Client, untranslated: FinishedJob
) -> None:
    job = untranslated.job
    assert job["status"] == "completed", job
    assert job["language_results"]["en"] == {"status": "completed"}
    es = job["language_results"]["es"]
    assert es["status"] == "failed"
    assert es["detail"].startswith(
        "The Spanish translation from Gemini was not usable. The text was not translated"
    )
    assert es["detail"].endswith("Reeldocs gave up after 4 attempts.")
    # the provider's own attempts, and no more: asking again would not change the answer
    assert len(calls_asking(untranslated.requests, "Translate this Markdown document")) == 4
    video = api.get(f"/api/videos/{untranslated.video['id']}").json()
    assert video["status"] == "ready" and video["languages_ready"] == ["en"]
    assert articles(api, untranslated.video["id"], "en")
    answer = api.get(f"/api/videos/{untranslated.video['id']}/articles", params={"language": "es"})
    assert answer.status_code == 404 and "no docs in es" in answer.json()["detail"]
    vtt = f"/api/videos/{untranslated.video['id']}/subtitles.vtt"
    assert api.get(vtt, params={"language": "en"}).status_code == 200
    assert api.get(vtt, params={"language": "es"}).status_code == 404
