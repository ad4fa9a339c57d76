"""Article Markdown to safe HTML, with `[video:MM:SS]` references as links that seek the player.

Raw HTML is disabled: whatever a transcript or a model put into an article (`<script>`,
`<img onerror=…>`) is shown as text. markdown-it also refuses `javascript:` and similar
link targets. References become ordinary Markdown links to a moment of the video (the
app's video page with `#t=` unless `ArticleLinks` say otherwise, as on the docs site),
which the renderer marks with `data-seek` so the page's script can seek its own player.

On a page, an article's own headings are nested under the article's title (no level is
skipped), and its screenshots carry their pixel size so that the page does not shift as
they load; all but the page's first are loaded lazily.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from reeldocs.docs.references import VideoReference, display_moment, replace_video_references

_SEEK_HREF = re.compile(r"^/videos/[0-9a-f-]{36}#t=(\d+)$")
_SCREENSHOT_SRC = re.compile(r"^screenshots/([A-Za-z0-9._-]{1,100})$")
SCREENSHOT_REFERENCE = re.compile(r"\(screenshots/([A-Za-z0-9._-]{1,100})\)")
DEEPEST_HEADING = 6


@dataclass(frozen=True)
class ArticleLinks:
    """Where a page sends an article's moments (whole seconds) and screenshots (by name)."""

    moment: Callable[[int], str]
    screenshot: Callable[[str], str]


def app_links(video_id: uuid.UUID) -> ArticleLinks:
    """The app's own pages: the video's page for moments, the API for screenshots."""
    return ArticleLinks(
        moment=lambda seconds: f"/videos/{video_id}#t={seconds}",
        screenshot=lambda name: f"/api/videos/{video_id}/screenshots/{name}",
    )


@dataclass
class PageImages:
    """The screenshots of one page: their sizes (name -> width, height), and how many
    images the page's articles have shown so far."""

    sizes: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    shown: int = 0


def _link_open(
    renderer: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    href = str(token.attrGet("href") or "")
    moments: dict[str, int] = env.get("moments", {})
    match = _SEEK_HREF.match(href)
    seconds = moments.get(href, int(match.group(1)) if match else None)
    if seconds is not None:
        token.attrSet("data-seek", str(seconds))
        token.attrSet("class", "timestamp")
    return renderer.renderToken(tokens, idx, options, env)


def _image(
    renderer: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    match = _SCREENSHOT_SRC.match(str(token.attrGet("src") or ""))
    images: PageImages | None = env.get("images")
    links: ArticleLinks | None = env.get("links")
    if match and links is not None:
        token.attrSet("src", links.screenshot(match.group(1)))
        size = images.sizes.get(match.group(1)) if images else None
        if size:
            token.attrSet("width", str(size[0]))
            token.attrSet("height", str(size[1]))
    # The first image may be in view as the page opens: the browser fetches it at once.
    if images is None or images.shown > 0:
        token.attrSet("loading", "lazy")
    if images is not None:
        images.shown += 1
    return renderer.image(tokens, idx, options, env)


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False})
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("image", _image)
    return md


_markdown = _build()


def _reference_link(
    links: ArticleLinks, moments: dict[str, int]
) -> Callable[[VideoReference], str]:
    def link(reference: VideoReference) -> str:
        label = display_moment(reference.seconds)
        href = links.moment(reference.seconds)
        moments[href] = reference.seconds
        return f"[▶ {label}]({href})"

    return link


def _same_title(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _nest_headings(tokens: list[Token], under: int) -> None:
    """Renumber the article's headings to sit below a heading of level `under`: its
    highest level becomes `under` + 1, and none is more than one deeper than the one
    before it, as screen reader users move through a page by heading levels."""
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    if not levels:
        return
    highest = min(levels)
    previous = under
    for token in tokens:
        if token.type == "heading_open":
            wanted = under + 1 + int(token.tag[1]) - highest
            level = max(under + 1, min(wanted, previous + 1, DEEPEST_HEADING))
            token.tag = f"h{level}"
            previous = level
        elif token.type == "heading_close":
            token.tag = f"h{previous}"


def render_article(
    markdown: str,
    video_id: uuid.UUID,
    title: str | None = None,
    *,
    heading_level: int | None = None,
    images: PageImages | None = None,
    links: ArticleLinks | None = None,
) -> str:
    """Safe HTML for one article of the video `video_id`.

    A first-level heading that repeats the article's `title` is dropped: the page
    already shows the title above the article. With `heading_level` (the level of the
    title's heading on the page) the article's headings are nested below it; `images`
    gives the screenshots' sizes and counts the images shown so far on the page; `links`
    say where moments and screenshots point (the app's pages by default).
    """
    links = links or app_links(video_id)
    moments: dict[str, int] = {}
    linked = replace_video_references(markdown, _reference_link(links, moments))
    env: EnvType = {"links": links, "images": images, "moments": moments}
    tokens = _markdown.parse(linked, env)
    if (
        title is not None
        and len(tokens) >= 3
        and tokens[0].type == "heading_open"
        and tokens[0].tag == "h1"
        and _same_title(tokens[1].content, title)
    ):
        tokens = tokens[3:]
    if heading_level is not None:
        _nest_headings(tokens, heading_level)
    return _markdown.renderer.render(tokens, _markdown.options, env)
