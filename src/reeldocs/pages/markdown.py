"""Article Markdown to safe HTML, with `[video:MM:SS]` references as links that seek the player.

Raw HTML is disabled: whatever a transcript or a model put into an article (`<script>`,
`<img onerror=…>`) is shown as text. markdown-it also refuses `javascript:` and similar
link targets. References become ordinary Markdown links to the video page (`#t=`), which
the renderer marks with `data-seek` so the page's script can seek its own player instead.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from reeldocs.docs.references import VideoReference, display_moment, replace_video_references

_SEEK_HREF = re.compile(r"^/videos/[0-9a-f-]{36}#t=(\d+)$")
_SCREENSHOT_SRC = re.compile(r"^screenshots/([A-Za-z0-9._-]{1,100})$")


def _link_open(
    renderer: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    match = _SEEK_HREF.match(str(token.attrGet("href") or ""))
    if match:
        token.attrSet("data-seek", match.group(1))
        token.attrSet("class", "timestamp")
    return renderer.renderToken(tokens, idx, options, env)


def _image(
    renderer: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    match = _SCREENSHOT_SRC.match(str(token.attrGet("src") or ""))
    if match and env.get("video_id"):
        token.attrSet("src", f"/api/videos/{env['video_id']}/screenshots/{match.group(1)}")
    token.attrSet("loading", "lazy")
    return renderer.image(tokens, idx, options, env)


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False})
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("image", _image)
    return md


_markdown = _build()


def _reference_link(video_id: uuid.UUID) -> Callable[[VideoReference], str]:
    def link(reference: VideoReference) -> str:
        label = display_moment(reference.seconds)
        return f"[▶ {label}](/videos/{video_id}#t={reference.seconds})"

    return link


def _same_title(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def render_article(markdown: str, video_id: uuid.UUID, title: str | None = None) -> str:
    """Safe HTML for one article of the video `video_id`.

    A first-level heading that repeats the article's `title` is dropped: the page
    already shows the title above the article.
    """
    linked = replace_video_references(markdown, _reference_link(video_id))
    env: EnvType = {"video_id": str(video_id)}
    tokens = _markdown.parse(linked, env)
    if (
        title is not None
        and len(tokens) >= 3
        and tokens[0].type == "heading_open"
        and tokens[0].tag == "h1"
        and _same_title(tokens[1].content, title)
    ):
        tokens = tokens[3:]
    return _markdown.renderer.render(tokens, _markdown.options, env)
