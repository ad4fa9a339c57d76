"""What `reeldocs process` tests check of a docs folder, whichever mode wrote it."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import yaml
from support.media_factory import make_slide_video

SLIDES = ["Settings", "Save"]
SPEECH = ["open the settings page", "press save to keep it"]
# Markdown links and images: ](target) with an optional "title".
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
VTT_CUE_TIMES = re.compile(r"^\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}", re.M)
SRT_CUE_TIMES = re.compile(r"^\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}$", re.M)


def spoken_slides(media: Path, stem: str) -> Path:
    """A tiny spoken slideshow; its file name (so its title) is new to the database."""
    return make_slide_video(
        media / f"{stem}-{secrets.token_hex(3)}.mp4", SLIDES, 2.0, speech=SPEECH
    )


def front_matter(text: str) -> dict[str, object]:
    assert text.startswith("---\n"), text[:80]
    header, _, _ = text[4:].partition("\n---\n")
    loaded = yaml.safe_load(header)
    assert isinstance(loaded, dict)
    return loaded


def assert_links_resolve(folder: Path) -> list[str]:
    """Every relative link and picture of the folder's pages leads to one of its files."""
    checked = []
    for page in folder.rglob("*.md"):
        text = page.read_text()
        assert "[video:" not in text, page
        for target in LINK.findall(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            path = target.split("#", 1)[0]
            assert (page.parent / path).resolve().is_file(), f"{page}: {target} is missing"
            checked.append(target)
    return checked


def check_docs_folder(folder: Path, languages: list[str], video: Path) -> None:
    """A video's folder as the contract lays it out, with the video: an index, numbered
    articles whose front matter parses as YAML, subtitles that parse, and every relative
    link and picture resolving to one of its files, moments linking into the video."""
    assert (folder / "index.md").is_file()
    assert (folder / "video.mp4").stat().st_size == video.stat().st_size
    for language in languages:
        articles = sorted((folder / language).glob("*.md"))
        assert articles and articles[0].name.startswith("01-"), articles
        for position, article in enumerate(articles, start=1):
            matter = front_matter(article.read_text())
            assert matter["sidebar_position"] == position
            assert isinstance(matter["title"], str) and matter["title"]
            assert isinstance(matter["description"], str)
        vtt = (folder / f"{language}.vtt").read_text()
        assert vtt.startswith("WEBVTT") and VTT_CUE_TIMES.search(vtt), vtt
        srt = (folder / f"{language}.srt").read_text()
        assert srt.startswith("1\n") and SRT_CUE_TIMES.search(srt), srt
    links = assert_links_resolve(folder)
    assert any(link.startswith("../screenshots/") for link in links), links
    assert any(re.fullmatch(r"\.\./video\.mp4#t=\d+", link) for link in links), links
