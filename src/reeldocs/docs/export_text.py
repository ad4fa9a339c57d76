"""The text files of an export: articles with YAML front matter, the video's index page.

Exported Markdown stands on its own in a folder: screenshots are linked relative to the
article's file, and `[video:MM:SS]` marks become links to that moment of the video (the
exported file, or the video's page in the app). Front matter is written by a YAML
emitter, so titles with colons, quotes, `#` or a leading dash stay plain strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from reeldocs.core.languages import language_name
from reeldocs.docs.references import (
    VIDEO_REFERENCE_PATTERN,
    VideoReference,
    display_moment,
    replace_video_references,
)

SCREENSHOT_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
# A link or image whose target is one of the video's screenshots, as articles are written.
SCREENSHOT_TARGET = re.compile(rf"\]\(screenshots/({SCREENSHOT_NAME_PATTERN})\)")
# Past this a description is cut at a word: it is a line under a title in a docs site.
DESCRIPTION_MAX_CHARS = 200
_SENTENCE = re.compile(r"^(.+?[.!?…])(?=\s|$)")
_LINK_TEXT_SPECIALS = re.compile(r"([\\\[\]])")

_parser = MarkdownIt("commonmark", {"html": False})

MomentLink = Callable[[int], str]
"""The link target for a moment of the video, given in whole seconds."""


def shown_screenshots(markdown: str) -> set[str]:
    """The names of the screenshots an article links or shows."""
    return set(SCREENSHOT_TARGET.findall(markdown))


def front_matter(values: dict[str, str | int]) -> str:
    """A YAML front matter block; keys keep the order given."""
    body = yaml.safe_dump(values, sort_keys=False, allow_unicode=True, width=1_000_000)
    return f"---\n{body}---\n\n"


def _plain_text(inline: Token) -> str:
    pieces: list[str] = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            pieces.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            pieces.append(" ")
    return "".join(pieces)


def description(markdown: str, fallback: str) -> str:
    """One line saying what an article is about: its summary line when it opens with one
    (a sentence linked to its moment), else its first sentence; `fallback` when it has
    no prose at all."""
    tokens = _parser.parse(markdown)
    for previous, token in zip(tokens, tokens[1:], strict=False):
        if previous.type != "paragraph_open" or token.type != "inline":
            continue
        text = " ".join(VIDEO_REFERENCE_PATTERN.sub(" ", _plain_text(token)).split())
        if not text:
            continue  # a paragraph that only shows a screenshot
        match = _SENTENCE.match(text)
        sentence = match.group(1) if match else text
        if len(sentence) > DESCRIPTION_MAX_CHARS:
            sentence = sentence[: DESCRIPTION_MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"
        return sentence
    return fallback


def to_mdx(markdown: str) -> str:
    """MDX treats `{`, `}` and `<` as code: escape them outside code so the file compiles."""
    out: list[str] = []
    fenced = False
    for line in markdown.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            out.append(line)
            continue
        if fenced:
            out.append(line)
            continue
        parts = re.split(r"(`[^`]*`)", line)
        out.append(
            "".join(
                part
                if part.startswith("`")
                else part.replace("{", "\\{").replace("}", "\\}").replace("<", "&lt;")
                for part in parts
            )
        )
    return "\n".join(out)


def link_text(text: str) -> str:
    """`text` safe inside the brackets of a Markdown link."""
    return _LINK_TEXT_SPECIALS.sub(r"\\\1", " ".join(text.split()))


def _moment_links(moment_link: MomentLink) -> Callable[[VideoReference], str]:
    def link(reference: VideoReference) -> str:
        return f"[▶ {display_moment(reference.seconds)}]({moment_link(reference.seconds)})"

    return link


def article_file(
    markdown: str,
    *,
    title: str,
    position: int,
    screenshots_folder: str,
    moment_link: MomentLink,
    mdx: bool,
) -> str:
    """An article as exported: front matter, then its Markdown with screenshots linked from
    `screenshots_folder` (relative to the article's file) and moments linked."""
    meta = front_matter(
        {"title": title, "sidebar_position": position, "description": description(markdown, title)}
    )
    body = SCREENSHOT_TARGET.sub(rf"]({screenshots_folder}/\1)", markdown)
    body = replace_video_references(body, _moment_links(moment_link))
    if mdx:
        body = to_mdx(body)
    return meta + body.rstrip("\n") + "\n"


@dataclass(frozen=True)
class IndexArticle:
    title: str
    path: str  # relative to the index file


@dataclass(frozen=True)
class IndexLanguage:
    code: str
    articles: list[IndexArticle]
    subtitles: list[tuple[str, str]]  # (label, path relative to the index file)


def index_file(
    *, title: str, video_link: str | None, languages: list[IndexLanguage], mdx: bool
) -> str:
    """The video's page: its chapters in every language, its subtitles and its video."""
    lines = [f"# {title}", ""]
    if video_link is not None:
        lines += [f"[▶ Watch the video]({video_link})", ""]
    for language in languages:
        lines += [f"## {language_name(language.code)} ({language.code})", ""]
        lines += [
            f"{number}. [{link_text(article.title)}]({article.path})"
            for number, article in enumerate(language.articles, start=1)
        ]
        if language.subtitles:
            links = " · ".join(f"[{label}]({path})" for label, path in language.subtitles)
            lines += ["", f"Subtitles: {links}"]
        lines.append("")
    body = "\n".join(lines)
    if mdx:
        body = to_mdx(body)
    return front_matter({"title": title, "sidebar_position": 0}) + body.rstrip("\n") + "\n"
