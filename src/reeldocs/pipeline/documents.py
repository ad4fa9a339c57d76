"""Turning a writer's Document into the articles Reeldocs stores: one per chapter."""

from __future__ import annotations

from typing import Any

from reeldocs.core.text import slugify
from reeldocs.providers.base import Document


def articles_from_document(document: Document) -> list[dict[str, Any]]:
    articles: list[dict[str, Any]] = []
    used: set[str] = set()
    for chapter in document.chapters:
        parts = [f"# {chapter.title.strip()}"]
        for section in chapter.sections:
            if section.title.strip() and section.title.strip() != chapter.title.strip():
                parts.append(f"## {section.title.strip()}")
            parts.append(section.markdown.strip())
        slug = base = slugify(chapter.title, fallback="chapter")
        counter = 2
        while slug in used:
            slug = f"{base}-{counter}"
            counter += 1
        used.add(slug)
        articles.append(
            {
                "title": chapter.title.strip(),
                "slug": slug,
                "markdown": "\n\n".join(p for p in parts if p) + "\n",
                "chapter_title": chapter.title.strip(),
                "start_time": chapter.start_time,
            }
        )
    return articles
