"""The docs site for programs: each article as Markdown, llms.txt, llms-full.txt, sitemap.xml.

llms.txt follows llmstxt.org: the project's name as the only H1, a one-line summary as a
blockquote, then one H2 section per video with a Markdown link per article (to the
article's Markdown, its page's address with `.md`); translations come last, under
"Optional", the section readers may skip. llms-full.txt holds every published article's
Markdown. In both, and in each article's Markdown, moments and screenshots are absolute
links, so the text stands on its own wherever it is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from io import BytesIO
from xml.etree import ElementTree

from reeldocs.core.languages import language_name
from reeldocs.docs.export_text import SCREENSHOT_TARGET, description, link_text
from reeldocs.docs.references import display_moment, replace_video_references
from reeldocs.publishing import addresses
from reeldocs.publishing.reading import ArticleEntry, ArticleText, SiteContents, SiteVideo

SITEMAP_NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
_FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^(#{1,6})(?=\s|$)")


def summary(contents: SiteContents) -> str:
    """One sentence on what the site holds."""
    videos = contents.videos
    count = "one video" if len(videos) == 1 else f"{len(videos)} videos"
    names = [language_name(code) for code in contents.languages]
    written = ""
    if names:
        written = " in " + (
            names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        )
    return (
        f"Documentation of {contents.site.project_name}, written from {count}{written}: "
        "one article per chapter, with links to the moments of the video it describes."
    )


def _nested(markdown: str, title: str, by: int) -> str:
    """The article's Markdown under a heading of its own: a first line repeating its title
    goes, and every heading outside code goes `by` levels deeper (at most level 6)."""
    lines = markdown.strip("\n").split("\n")
    first = lines[0].lstrip("# ").strip() if lines and lines[0].startswith("# ") else None
    if (
        first is not None
        and " ".join(first.split()).casefold() == " ".join(title.split()).casefold()
    ):
        lines = lines[1:]
    fence: str | None = None
    out = []
    for line in lines:
        opened = _FENCE.match(line)
        if opened:
            marker = opened.group(1)[0]
            fence = None if fence == marker else (fence or marker)
        elif fence is None:
            line = _HEADING.sub(lambda m: "#" * min(6, len(m.group(1)) + by), line)
        out.append(line)
    return "\n".join(out).strip("\n")


def article_markdown(
    text: ArticleText, *, moment: Callable[[int], str], screenshot: Callable[[str], str]
) -> str:
    """An article's Markdown with its moments and screenshots as absolute links."""
    body = SCREENSHOT_TARGET.sub(lambda m: f"]({screenshot(m.group(1))})", text.content_markdown)
    return replace_video_references(
        body, lambda ref: f"[▶ {display_moment(ref.seconds)}]({moment(ref.seconds)})"
    )


class SiteAddresses:
    """Absolute addresses of one site's pages and files."""

    def __init__(self, base_url: str, contents: SiteContents) -> None:
        self.base = base_url.rstrip("/")
        self.site = contents.site.path

    def home(self, language: str | None = None) -> str:
        return self.base + self.site + (f"?lang={language}" if language else "")

    def video(self, video: SiteVideo, language: str) -> str:
        return self.base + addresses.video_path(self.site, language, video.slug)

    def article(self, video: SiteVideo, entry: ArticleEntry, suffix: str = "") -> str:
        return (
            self.base
            + addresses.article_path(self.site, entry.language, video.slug, entry.slug)
            + suffix
        )

    def moment(self, video: SiteVideo, language: str) -> Callable[[int], str]:
        return lambda seconds: f"{self.video(video, language)}#t={seconds}"

    def screenshot(self, video: SiteVideo) -> Callable[[str], str]:
        return lambda name: self.base + addresses.screenshot_path(self.site, video.slug, name)


def llms_txt(contents: SiteContents, links: SiteAddresses, texts: dict[object, str]) -> str:
    """llms.txt: `texts` maps article ids to their Markdown, for each link's description."""
    lines = [f"# {contents.site.project_name}", "", f"> {summary(contents)}", ""]
    lines += [
        "Each link below is an article's Markdown; its page is the same address without "
        "`.md`. All articles in one file: llms-full.txt.",
        "",
    ]
    translations: list[str] = []
    for video in contents.videos:
        lines += [f"## {video.title}", ""]
        for language in video.languages:
            primary = language == video.primary
            for entry in contents.articles(video, language):
                label = (
                    entry.title
                    if primary
                    else f"{entry.title} ({language_name(language)}, {video.title})"
                )
                item = f"- [{link_text(label)}]({links.article(video, entry, '.md')})"
                note = " ".join(description(texts.get(entry.id, ""), "").split())
                if note:
                    item += f": {note}"
                (lines if primary else translations).append(item)
        lines.append("")
    if translations:
        lines += ["## Optional", "", *translations, ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def llms_full_txt(
    contents: SiteContents, links: SiteAddresses, texts: dict[object, ArticleText]
) -> str:
    """Every published article's Markdown, video by video, the primary language first."""
    parts = [f"# {contents.site.project_name}\n\n> {summary(contents)}\n"]
    for video in contents.videos:
        for language in video.languages:
            for entry in contents.articles(video, language):
                text = texts.get(entry.id)
                if text is None:
                    continue
                body = article_markdown(
                    text,
                    moment=links.moment(video, language),
                    screenshot=links.screenshot(video),
                )
                parts.append(
                    f"## {entry.title}\n\n"
                    f"Source: {links.article(video, entry)}\n"
                    f"Video: {video.title} ({language_name(language)})\n\n"
                    f"{_nested(body, entry.title, 1)}\n"
                )
    return "\n".join(parts)


def _w3c(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def sitemap_xml(contents: SiteContents, links: SiteAddresses) -> bytes:
    """The sitemap protocol's <urlset>: the home page in each language, every video's page
    and every article's page in each language, with when they last changed."""
    ElementTree.register_namespace("", SITEMAP_NAMESPACE)
    urlset = ElementTree.Element(f"{{{SITEMAP_NAMESPACE}}}urlset")

    def add(location: str, changed: datetime | None) -> None:
        url = ElementTree.SubElement(urlset, f"{{{SITEMAP_NAMESPACE}}}url")
        ElementTree.SubElement(url, f"{{{SITEMAP_NAMESPACE}}}loc").text = location
        lastmod = _w3c(changed)
        if lastmod:
            ElementTree.SubElement(url, f"{{{SITEMAP_NAMESPACE}}}lastmod").text = lastmod

    newest = max((v.edited_at for v in contents.videos if v.edited_at), default=None)
    main = contents.main_language
    for language in contents.languages:
        add(links.home(None if language == main else language), newest)
    for video in contents.videos:
        for language in video.languages:
            entries = contents.articles(video, language)
            add(links.video(video, language), max((e.updated_at for e in entries), default=None))
            for entry in entries:
                add(links.article(video, entry), entry.updated_at)
    tree = ElementTree.ElementTree(urlset)
    ElementTree.indent(tree)
    out = BytesIO()
    tree.write(out, encoding="UTF-8", xml_declaration=True)
    return out.getvalue() + b"\n"
