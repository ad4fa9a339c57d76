"""Searching a docs site: PostgreSQL's full-text search over its articles in one language.

Each article carries a search vector made with its language's text-search configuration
(English words are stemmed as English, Spanish ones as Spanish; `simple`, word for word,
where PostgreSQL has none: see migration 0008), its title weighing more than its text. A
query is read as people type into search boxes (`websearch_to_tsquery`: words, "quoted
phrases", -excluded), ranked with `ts_rank`, and each hit gets a highlighted snippet from
`ts_headline`, whose markers are control characters no article text holds: the snippet is
escaped whole, then only the markers become <mark> elements.
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.text import printable
from reeldocs.publishing.access import Site

MAX_QUERY_CHARS = 200
MAX_RESULTS = 20
_START, _STOP = "\x02", "\x03"
HEADLINE_OPTIONS = (
    f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, ShortWord=2, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)

# Ranked first, then only the page of hits gets its snippet (ts_headline reads the text).
_SEARCH = sa.text(
    """
WITH hits AS (
    SELECT a.id, a.title, a.slug, a.content_markdown, v.slug AS video_slug,
           v.title AS video_title, ts_rank(a.search_vector, query) AS rank
    FROM articles a
    JOIN videos v ON v.id = a.video_id AND v.docs_run_id = a.run_id,
         websearch_to_tsquery(reeldocs_private.search_config(:language), :query) AS query
    WHERE a.project_id = :project AND a.language = :language AND a.status = 'published'
      AND (v.published OR :preview) AND a.search_vector @@ query
    ORDER BY rank DESC, a.title, a.id
    LIMIT :limit
)
SELECT id, title, slug, video_slug, video_title, rank,
       ts_headline(reeldocs_private.search_config(:language),
                   reeldocs_private.article_text(content_markdown),
                   websearch_to_tsquery(reeldocs_private.search_config(:language), :query),
                   :options)
FROM hits
ORDER BY rank DESC, title, id
"""
)


@dataclass(frozen=True)
class SearchHit:
    article_id: uuid.UUID
    title: str
    article_slug: str
    video_slug: str
    video_title: str
    rank: float
    snippet: Markup  # escaped text, the words found in <mark>


def highlighted(headline: str) -> Markup:
    """`headline` as safe HTML: everything escaped, then the markers made <mark> elements."""
    text = " ".join(html.escape(headline, quote=True).split())
    return Markup(text.replace(_START, "<mark>").replace(_STOP, "</mark>"))


def clean_query(query: str | None) -> str:
    """What was typed, on one line, without invisible characters (PostgreSQL refuses NUL)."""
    return printable(query or "")[:MAX_QUERY_CHARS]


async def search(db: AsyncSession, site: Site, language: str, query: str) -> list[SearchHit]:
    """The site's articles in `language` that match `query`, best first."""
    if not query:
        return []
    rows = await db.execute(
        _SEARCH,
        {
            "project": site.project_id,
            "language": language,
            "query": query,
            "preview": site.preview,
            "limit": MAX_RESULTS,
            "options": HEADLINE_OPTIONS,
        },
    )
    return [
        SearchHit(row[0], row[1], row[2], row[3], row[4], float(row[5]), highlighted(row[6]))
        for row in rows
    ]
