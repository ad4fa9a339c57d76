"""Docs of a titled-slide video, end to end with a real worker: one chapter per slide,
titled exactly as the slide, its bullets as steps, dark slides read as well as light."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support.api import bearer_client, create_project, process, upload_video, wait_for_job
from support.media_factory import PRODUCT_TOUR, SlideVideo, make_titled_slide_video

from reeldocs.core.text import slugify
from reeldocs.docs.references import find_video_references
from reeldocs.media import ocr
from tests.conftest import WorkerProcesses

pytestmark = pytest.mark.skipif(
    not ocr.available(), reason="Debian's tesseract-ocr is not installed (make test installs it)"
)


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> SlideVideo:
    # The product tour's six slides (two of them dark), 3 s each at 640x360: small and quick.
    path = tmp_path_factory.mktemp("media") / "tour.mp4"
    return make_titled_slide_video(path, PRODUCT_TOUR, 3.0, (640, 360), fps=10)


@pytest.fixture(scope="module")
def processed(
    tour: SlideVideo, make_module_user: Any, module_worker: WorkerProcesses
) -> Iterator[tuple[httpx.Client, dict[str, Any], dict[str, Any]]]:
    api = bearer_client(make_module_user())
    project = create_project(api, "Acme tour")
    video = upload_video(api, project["id"], tour.path, "Acme product tour")
    job = wait_for_job(api, process(api, video["id"], ["en", "es"]), timeout=240)
    yield api, video, job
    api.close()


def articles(api: httpx.Client, video_id: str, language: str) -> list[dict[str, Any]]:
    answer = api.get(f"/api/videos/{video_id}/articles", params={"language": language})
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_every_slide_is_a_chapter_titled_exactly_as_the_slide(
    processed: Any, tour: SlideVideo
) -> None:
    api, video, job = processed
    assert job["status"] == "completed", job
    english = articles(api, video["id"], "en")
    # the dark slides' titles too: nothing else, no garbage read off a dark background
    assert [a["chapter_title"] for a in english] == tour.titles
    assert [a["title"] for a in english] == tour.titles
    for article, start in zip(english, tour.starts, strict=True):
        # its links point into its slide's stretch of the video
        moments = [r.seconds for r in find_video_references(article["content_markdown"])]
        assert moments and all(start <= t < start + tour.seconds_per_slide for t in moments), (
            moments,
            start,
            article["content_markdown"],
        )
    assert [a["slug"] for a in english] == [slugify(title) for title in tour.titles]
    assert len(articles(api, video["id"], "es")) == len(english)


def test_each_article_lists_its_slide_bullets_under_its_screenshot(
    processed: Any, tour: SlideVideo
) -> None:
    api, video, _ = processed
    for article, slide in zip(articles(api, video["id"], "en"), tour.slides, strict=True):
        markdown = article["content_markdown"]
        assert markdown.startswith(f"# {slide.title}\n\n")
        picture = markdown.index("](screenshots/")
        for bullet in slide.bullets:
            # as a step of a numbered list or as a bullet, once, below the picture
            found = re.findall(rf"^(?:\d+\.|-) {re.escape(bullet)}$", markdown, re.MULTILINE)
            assert len(found) == 1, (bullet, markdown)
            assert markdown.index(found[0]) > picture
        assert find_video_references(markdown)
    english = articles(api, video["id"], "en")
    step_one, welcome = english[1]["content_markdown"], english[0]["content_markdown"]
    assert "\n1. Open the dashboard\n2. Click New project\n" in step_one
    assert "\n- Turn product videos into documentation\n" in welcome


def test_the_export_names_its_files_after_the_slide_titles(
    processed: Any, tour: SlideVideo
) -> None:
    api, video, _ = processed
    answer = api.get(f"/api/videos/{video['id']}/export", params={"format": "markdown"})
    assert answer.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    expected = [f"{n:02d}-{slugify(title)}.md" for n, title in enumerate(tour.titles, start=1)]
    for language in ("en", "es"):
        folder = f"{video['slug']}/{language}/"
        found = sorted(n.removeprefix(folder) for n in names if n.startswith(folder))
        assert found == expected
