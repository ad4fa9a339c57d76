"""On-screen text with Tesseract, on slides rendered like the test videos' own."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.media_factory import render_slide

from reeldocs.media import ocr

pytestmark = pytest.mark.skipif(
    not ocr.available(), reason="Debian's tesseract-ocr is not installed (make test installs it)"
)


def test_reads_the_text_of_a_slide(tmp_path: Path) -> None:
    path = tmp_path / "slide.png"
    render_slide("Create a project", (1280, 720)).save(path)
    assert ocr.read_text(path).casefold() == "create a project"


def test_reads_several_slides_in_order(tmp_path: Path) -> None:
    titles = ["Invite your team", "Upload a video", "Export subtitles"]
    paths = []
    for index, title in enumerate(titles):
        path = tmp_path / f"slide-{index}.png"
        render_slide(title, (960, 540)).save(path)
        paths.append(path)
    assert [text.casefold() for text in ocr.read_texts(paths)] == [t.casefold() for t in titles]


def test_a_blank_picture_has_no_text(tmp_path: Path) -> None:
    path = tmp_path / "blank.png"
    render_slide("", (640, 360)).save(path)
    assert ocr.read_text(path) == ""


def test_an_unreadable_file_gives_no_text(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"not a picture")
    assert ocr.read_text(path) == ""


def test_noise_lines_are_dropped() -> None:
    raw = "|| =\n  Settings   page \n@#%&*\nee\n3.1.4\nSave your changes\n"
    assert ocr.clean_text(raw) == "Settings page\nSave your changes"


def test_without_tesseract_scenes_get_no_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "slide.png"
    render_slide("Create a project", (640, 360)).save(path)
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    assert ocr.read_texts([path, path]) == ["", ""]
