"""Checks every exported `<video-slug>/` tree must pass, whether it came as a zip or a folder."""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

_markdown = MarkdownIt("commonmark", {"html": False})
ARTICLE_NAME = re.compile(r"^[^/]+/(?P<lang>[a-z]{2,3})/(?P<nn>\d{2})-[a-z0-9-]+\.mdx?$")
_VTT_TIMING = re.compile(
    r"^(\d{2}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d)\.(\d{3})$"
)
_SRT_TIMING = re.compile(
    r"^(\d{2}):([0-5]\d):([0-5]\d),(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d),(\d{3})$"
)


def zip_tree(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None  # every member's CRC is right
        names = archive.namelist()
        assert len(names) == len(set(names)), "a path appears twice in the zip"
        return {name: archive.read(name) for name in names}


def folder_tree(folder: Path) -> dict[str, bytes]:
    """Files under `folder`'s parent, named from there like the zip names them."""
    return {
        path.relative_to(folder.parent).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def front_matter(text: str) -> tuple[dict[str, Any], str]:
    assert text.startswith("---\n"), text[:80]
    head, separator, body = text[4:].partition("\n---\n")
    assert separator, "the front matter is not closed"
    values = yaml.safe_load(head)
    assert isinstance(values, dict)
    return values, body


def _targets(tokens: list[Token]) -> Iterator[str]:
    for token in tokens:
        if token.type == "link_open":
            yield str(token.attrGet("href"))
        elif token.type == "image":
            yield str(token.attrGet("src"))
        if token.children:
            yield from _targets(token.children)


def link_targets(markdown: str) -> list[str]:
    return list(_targets(_markdown.parse(markdown)))


def parse_vtt(text: str) -> list[tuple[float, float, str]]:
    """A strict reading of the WebVTT the export writes: header, then timed cues."""
    blocks = text.strip("\n").split("\n\n")
    assert blocks[0] == "WEBVTT", blocks[0]
    cues = []
    for block in blocks[1:]:
        lines = block.split("\n")
        if not _VTT_TIMING.match(lines[0]):  # a cue identifier comes first
            assert "-->" not in lines[0] and lines[0].strip(), lines
            lines = lines[1:]
        cues.append(_cue(lines, _VTT_TIMING))
    return cues


def parse_srt(text: str) -> list[tuple[float, float, str]]:
    cues = []
    for number, block in enumerate(text.strip("\n").split("\n\n"), start=1):
        lines = block.split("\n")
        assert lines[0] == str(number), (number, lines)
        cues.append(_cue(lines[1:], _SRT_TIMING))
    return cues


def _cue(lines: list[str], timing: re.Pattern[str]) -> tuple[float, float, str]:
    match = timing.match(lines[0])
    assert match, lines[0]
    h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in match.groups())
    start = h1 * 3600 + m1 * 60 + s1 + ms1 / 1000
    end = h2 * 3600 + m2 * 60 + s2 + ms2 / 1000
    assert start < end, lines[0]
    text = "\n".join(lines[1:])
    assert text.strip(), f"the cue at {lines[0]} has no text"
    return start, end, text


def check_tree(
    tree: dict[str, bytes],
    *,
    extension: str,
    moment_link: re.Pattern[str],
    page: str | None = None,
) -> None:
    """What every export holds: one folder; articles whose links and pictures all resolve
    inside it, with YAML front matter; only screenshots something shows; subtitles that
    parse; `[video:…]` marks turned into links that match `moment_link`. The only other
    link out of the folder may be to the video's `page` in the app."""
    roots = {name.split("/", 1)[0] for name in tree}
    assert len(roots) == 1, roots
    (root,) = roots
    assert f"{root}/index.{extension}" in tree
    markdown = {n: data.decode() for n, data in tree.items() if n.endswith(f".{extension}")}
    articles = [name for name in markdown if ARTICLE_NAME.match(name)]
    assert articles and len(markdown) == len(articles) + 1, sorted(tree)
    referenced: set[str] = set()
    moments = 0
    for name, text in markdown.items():
        assert "[video:" not in text, name
        values, body = front_matter(text)
        if name in articles:
            assert set(values) == {"title", "sidebar_position", "description"}, values
            assert values["sidebar_position"] == int(ARTICLE_NAME.match(name)["nn"])  # type: ignore[index]
            assert isinstance(values["title"], str) and values["title"].strip()
            assert isinstance(values["description"], str) and values["description"].strip()
            assert "\n" not in values["description"]
        folder = posixpath.dirname(name)
        for target in link_targets(body):
            if moment_link.fullmatch(target):
                moments += 1
            if "://" in target:
                assert moment_link.fullmatch(target) or target == page, (name, target)
                continue
            path, _, fragment = target.partition("#")
            resolved = posixpath.normpath(posixpath.join(folder, path))
            assert resolved in tree, (name, target)
            referenced.add(resolved)
            if fragment:
                assert moment_link.fullmatch(target), (name, target)
    assert moments >= len(articles), "articles without a link to their moments"
    screenshots = {n for n in tree if n.startswith(f"{root}/screenshots/")}
    assert screenshots, "the articles show no screenshot"
    assert screenshots <= referenced, sorted(screenshots - referenced)
    # each language's chapters numbered from 01 without a gap
    by_language: dict[str, list[int]] = {}
    for name in articles:
        match = ARTICLE_NAME.match(name)
        assert match
        by_language.setdefault(match["lang"], []).append(int(match["nn"]))
    for numbers in by_language.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    for language in by_language:
        vtt = parse_vtt(tree[f"{root}/{language}.vtt"].decode())
        srt = parse_srt(tree[f"{root}/{language}.srt"].decode())
        assert vtt and [c[:2] for c in vtt] == [c[:2] for c in srt]
