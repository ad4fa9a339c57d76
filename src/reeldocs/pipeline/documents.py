"""Turning a writer's Document into the articles Reeldocs stores: one per chapter.

Shared by every writer (offline, Gemini, OpenAI-compatible), so the stored
Markdown has the same shape whoever wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass

from reeldocs.core.text import slugify
from reeldocs.providers.base import Document


@dataclass(frozen=True)
class ArticleDraft:
    """One chapter rendered as an article, as the pipeline stores it for each language."""

    order: int
    chapter_title: str
    title: str
    slug: str
    start_time: float
    markdown: str  # starts with "# <title>"


def render_markdown(document: Document) -> list[ArticleDraft]:
    """One article per chapter: `# Chapter`, then each section (`## Section` when a chapter
    has several), with the sections' references and images as written."""
    articles: list[ArticleDraft] = []
    slugs: set[str] = set()
    for order, chapter in enumerate(document.chapters):
        blocks = [f"# {_heading_text(chapter.title)}"]
        for section in chapter.sections:
            title = _heading_text(section.title)
            if title and title.casefold() != _heading_text(chapter.title).casefold():
                blocks.append(f"## {title}")
            if section.markdown.strip():
                blocks.append(section.markdown.strip("\n"))
        slug = base = slugify(chapter.title, fallback=f"part-{order + 1}")
        number = 2
        while slug in slugs:
            slug = f"{base}-{number}"
            number += 1
        slugs.add(slug)
        articles.append(
            ArticleDraft(
                order=order,
                chapter_title=chapter.title,
                title=chapter.title,
                slug=slug,
                start_time=chapter.start_time,
                markdown="\n\n".join(blocks) + "\n",
            )
        )
    return articles


def article_title(markdown: str) -> str | None:
    """The text of the first `# ` heading, e.g. the title of a translated article."""
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].strip().rstrip("#").strip() or None
    return None


def _heading_text(title: str) -> str:
    # a heading is one line; a title with a line break would end it early
    return " ".join(title.split())
