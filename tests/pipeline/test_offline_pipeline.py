"""The offline pipeline end to end: a generated video with speech and slide changes, en + es."""

from __future__ import annotations

import dataclasses
import io
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession
from support.api import bearer_client, create_project, process, upload_video, wait_for_job
from support.media_factory import make_slide_video, render_slide

from reeldocs.core.db import DatabaseUrls, create_engine
from reeldocs.core.settings import Settings
from reeldocs.core.storage import open_storage
from reeldocs.core.storage_async import AsyncStorage
from reeldocs.docs.export import plan_tree, write_tree
from reeldocs.docs.references import find_video_references
from reeldocs.docs.subtitles import parse_srt, parse_webvtt
from reeldocs.media.frames import screenshot_name
from reeldocs.videos.models import Video
from tests.conftest import LiveServer, WorkerProcesses
from tests.docs.export_checks import check_tree, folder_tree, zip_tree

SECONDS_PER_SLIDE = 5.0
SLIDES = ["Welcome to Acme", "Create a project", "Upload a video", "Invite your team"]
SPEECH = [
    "welcome to the acme product tour",
    "click new project and type a name for it",
    "drag your video file onto the upload page",
    "open settings and invite your team by email",
]


@pytest.fixture(scope="module")
def processed(
    tmp_path_factory: pytest.TempPathFactory,
    make_module_user: Any,
    module_worker: WorkerProcesses,
) -> Iterator[tuple[httpx.Client, dict[str, Any], dict[str, Any]]]:
    path = tmp_path_factory.mktemp("media") / "acme.mp4"
    make_slide_video(path, SLIDES, SECONDS_PER_SLIDE, speech=SPEECH)
    api = bearer_client(make_module_user())
    project = create_project(api, "Acme docs")
    video = upload_video(api, project["id"], path, "Acme tour")
    job = wait_for_job(api, process(api, video["id"], ["en", "es"]), timeout=240)
    yield api, video, job
    api.close()


def test_job_completes_with_both_languages(processed: Any) -> None:
    api, video, job = processed
    assert job["status"] == "completed", job
    assert job["progress"] == 1.0
    assert job["language_results"] == {
        "en": {"status": "completed"},
        "es": {"status": "completed"},
    }
    assert job["providers"] == {
        "understanding": "whisper",
        "writing": "extractive",
        "translating": "apertium",
    }
    shown = api.get(f"/api/videos/{video['id']}").json()
    assert shown["status"] == "ready"
    assert sorted(shown["languages_ready"]) == ["en", "es"]
    assert shown["source_language"] == "en"


def test_segments_cover_the_speech(processed: Any) -> None:
    api, video, _ = processed
    segments = api.get(f"/api/videos/{video['id']}/segments").json()
    assert segments
    duration = SECONDS_PER_SLIDE * len(SLIDES)
    for slide in range(len(SLIDES)):
        start, end = slide * SECONDS_PER_SLIDE, (slide + 1) * SECONDS_PER_SLIDE
        assert any(s["start_time"] < end and s["end_time"] > start for s in segments), slide
    previous_end = 0.0
    for segment in segments:
        assert 0 <= segment["start_time"] <= segment["end_time"] <= duration + 0.5
        assert segment["start_time"] >= previous_end - 0.01
        previous_end = segment["end_time"]
        assert segment["visual_context"]


def _articles(api: httpx.Client, video_id: str, language: str) -> list[dict[str, Any]]:
    answer = api.get(f"/api/videos/{video_id}/articles", params={"language": language})
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_chapters_and_articles_in_both_languages(processed: Any) -> None:
    api, video, _ = processed
    english = _articles(api, video["id"], "en")
    spanish = _articles(api, video["id"], "es")
    assert 2 <= len(english) <= len(SLIDES)
    assert len(spanish) == len(english)
    duration = SECONDS_PER_SLIDE * len(SLIDES)
    for en, es in zip(english, spanish, strict=True):
        assert en["language"] == "en" and es["language"] == "es"
        en_refs = [r.text for r in find_video_references(en["content_markdown"])]
        es_refs = [r.text for r in find_video_references(es["content_markdown"])]
        assert en_refs and en_refs == es_refs
        assert all(r.seconds <= duration for r in find_video_references(en["content_markdown"]))
        assert en["content_markdown"] != es["content_markdown"]
    default = api.get(f"/api/videos/{video['id']}/articles").json()
    assert [a["language"] for a in default] == ["en"] * len(english)


def test_on_screen_text_titles_chapters_and_describes_segments(processed: Any) -> None:
    from reeldocs.media import ocr

    if not ocr.available():
        pytest.skip("Debian's tesseract-ocr is not installed (make test installs it)")
    api, video, _ = processed
    titles = [a["chapter_title"].casefold() for a in _articles(api, video["id"], "en")]
    assert titles[0] == SLIDES[0].casefold()
    assert set(titles) <= {slide.casefold() for slide in SLIDES}
    segments = api.get(f"/api/videos/{video['id']}/segments").json()
    contexts = " ".join(s["visual_context"] for s in segments).casefold()
    assert sum(slide.casefold() in contexts for slide in SLIDES) >= 3


def test_screenshots_at_least_one_per_scene_and_served(processed: Any) -> None:
    api, video, _ = processed
    markdown = "\n".join(a["content_markdown"] for a in _articles(api, video["id"], "en"))
    names = re.findall(r"\]\(screenshots/([^)]+)\)", markdown)
    assert len(set(names)) >= len(SLIDES)
    for name in set(names):
        answer = api.get(f"/api/videos/{video['id']}/screenshots/{name}")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "image/webp"
        assert Image.open(io.BytesIO(answer.content)).format == "WEBP"
    assert api.get(f"/api/videos/{video['id']}/screenshots/..%2Fsecret.webp").status_code == 404


def test_each_screenshot_shows_the_slide_on_screen_at_its_moment(processed: Any) -> None:
    # Scene screenshots come from the scene analysis, and a moment inside a still slide
    # reuses one of them: whichever way it was made, the picture must be the right one.
    api, video, _ = processed
    markdown = "\n".join(a["content_markdown"] for a in _articles(api, video["id"], "en"))
    linked = {int(ms) / 1000 for ms in re.findall(r"\]\(screenshots/t(\d{9})\.webp\)", markdown)}
    moments = {float(ref.seconds) for ref in find_video_references(markdown)}
    assert moments
    slides = [np.asarray(render_slide(text, (320, 180)).convert("L"), float) for text in SLIDES]
    pictures: dict[float, bytes] = {}
    for seconds in linked | moments:
        answer = api.get(f"/api/videos/{video['id']}/screenshots/{screenshot_name(seconds)}")
        assert answer.status_code == 200, seconds
        pictures[seconds] = answer.content
        picture = np.asarray(Image.open(io.BytesIO(answer.content)).convert("L"), float)
        shown = int(np.argmin([np.abs(picture - slide).mean() for slide in slides]))
        assert shown == int(seconds // SECONDS_PER_SLIDE), seconds
    # The slides stand still, so moments reuse the scenes' screenshots rather than decode.
    reused = [t for t in moments - linked if pictures[t] in {pictures[s] for s in linked}]
    assert len(reused) >= len(moments - linked) / 2


@pytest.mark.parametrize("language", ["en", "es"])
def test_subtitles_follow_the_cue_rules(processed: Any, language: str) -> None:
    api, video, _ = processed
    vtt = api.get(f"/api/videos/{video['id']}/subtitles.vtt", params={"language": language})
    srt = api.get(f"/api/videos/{video['id']}/subtitles.srt", params={"language": language})
    assert vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt")
    assert srt.status_code == 200
    assert srt.headers["content-type"].startswith("application/x-subrip")
    vtt_cues, srt_cues = parse_webvtt(vtt.text), parse_srt(srt.text)
    assert vtt_cues and len(vtt_cues) == len(srt_cues)
    for cue, following in zip(vtt_cues, [*vtt_cues[1:], None], strict=True):
        assert cue.end - cue.start <= 7.0 + 1e-6
        lines = cue.text.split("\n")
        assert len(lines) <= 2 and all(0 < len(line) <= 42 for line in lines)
        assert following is None or following.start >= cue.end
    english = parse_webvtt(api.get(f"/api/videos/{video['id']}/subtitles.vtt?language=en").text)
    # a translation too long for its cue is split inside the English cue's time
    for cue in vtt_cues:
        assert any(e.start <= cue.start < cue.end <= e.end for e in english), cue
    assert {c.start for c in english} <= {c.start for c in vtt_cues}


def _export(api: httpx.Client, video_id: str, **params: str) -> dict[str, bytes]:
    answer = api.get(f"/api/videos/{video_id}/export", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert int(answer.headers["content-length"]) == len(answer.content)
    return zip_tree(answer.content)


def test_export_zip_is_the_video_s_folder_with_moments_linked_to_the_app(processed: Any) -> None:
    api, video, _ = processed
    slug = api.get(f"/api/videos/{video['id']}").json()["slug"]
    assert slug == "acme-tour"
    page = f"{str(api.base_url).rstrip('/')}/videos/{video['id']}"
    for fmt, extension in (("markdown", "md"), ("mdx", "mdx")):
        tree = _export(api, video["id"], format=fmt)
        check_tree(
            tree,
            extension=extension,
            moment_link=re.compile(re.escape(page) + r"#t=\d+"),
            page=page,
        )
        names = set(tree)
        assert any(n.startswith(f"{slug}/en/01-") and n.endswith(extension) for n in names)
        assert any(n.startswith(f"{slug}/es/01-") and n.endswith(extension) for n in names)
        assert {f"{slug}/en.vtt", f"{slug}/es.srt"} <= names
        assert not any(n.startswith(f"{slug}/video.") for n in names)
    assert api.get(f"/api/videos/{video['id']}/export?format=pdf").status_code == 422


def test_export_links_moments_to_the_public_address_when_one_is_set(
    processed: Any, settings: Settings, db_urls: DatabaseUrls
) -> None:
    # The app seen through a proxy: REELDOCS_PUBLIC_URL, not the request's own address.
    api, video, _ = processed
    public = "https://docs.example.com/reeldocs"
    server = LiveServer(
        dataclasses.replace(settings, public_url=public), db_urls, run_worker=False
    ).start()
    try:
        with httpx.Client(
            base_url=server.url, headers={"Authorization": api.headers["Authorization"]}
        ) as behind_proxy:
            tree = _export(behind_proxy, video["id"], format="markdown")
    finally:
        server.stop()
    page = f"{public}/videos/{video['id']}"
    check_tree(tree, extension="md", moment_link=re.compile(re.escape(page) + r"#t=\d+"), page=page)


def test_export_with_the_video_links_moments_to_the_file_beside_it(processed: Any) -> None:
    api, video, _ = processed
    tree = _export(api, video["id"], format="mdx", video="true")
    check_tree(tree, extension="mdx", moment_link=re.compile(r"\.\./video\.mp4#t=\d+"))
    assert tree["acme-tour/video.mp4"] == api.get(f"/api/videos/{video['id']}/file").content


async def test_the_folder_export_holds_the_zip_s_files_byte_for_byte(
    processed: Any, db_urls: DatabaseUrls, settings: Settings, tmp_path: Path
) -> None:
    api, video, _ = processed
    storage = AsyncStorage(open_storage(settings.storage_url))
    engine = create_engine(db_urls, pool_size=1)
    try:
        for fmt, with_video in (("markdown", False), ("mdx", True)):
            # as the command line does it: on the database as its operator
            async with AsyncSession(engine) as session:
                row = await session.get(Video, uuid.UUID(video["id"]))
                assert row is not None
                tree = await plan_tree(
                    session, row, fmt=fmt, include_video=with_video, base_url=str(api.base_url)
                )
            folder = await write_tree(tree, storage, tmp_path / fmt)
            assert folder == tmp_path / fmt / "acme-tour"
            params = {"format": fmt, "video": "true"} if with_video else {"format": fmt}
            assert folder_tree(folder) == _export(api, video["id"], **params)
    finally:
        await engine.dispose()


def test_media_files_are_readable(processed: Any, tmp_path: Path) -> None:
    api, video, _ = processed
    answer = api.get(f"/api/videos/{video['id']}/file", headers={"Range": "bytes=0-99"})
    assert answer.status_code == 206
    assert len(answer.content) == 100
