"""What a docs site shows: its videos, their articles, and what its pages' ETags come from.

Queries name their columns: the anonymous readers' role may read only some of them. They
run under whichever role `access.open_site` chose, so the database's policies decide which
videos and articles exist; `visible` repeats the rule for published videos as a second
line behind them.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.languages import ordered_languages
from reeldocs.publishing.access import Site, nothing_here


@dataclass(frozen=True)
class SiteVideo:
    """A video the site shows: published (or any, in a member's preview) and with docs."""

    id: uuid.UUID
    slug: str
    title: str
    published: bool
    run_id: uuid.UUID
    duration_seconds: float | None
    created_at: datetime
    primary: str
    languages: list[str]  # the primary language first, then the others by name
    # what the ETag of every page of the site follows
    articles: int
    versions: int
    edited_at: datetime | None

    def language_for(self, wanted: str) -> str:
        """`wanted` when the video's docs are written or translated in it, else its primary."""
        return wanted if wanted in self.languages else self.primary


@dataclass(frozen=True)
class ArticleEntry:
    """An article as menus and lists show it (its text is read only where it is shown)."""

    id: uuid.UUID
    video_id: uuid.UUID
    language: str
    order: int
    title: str
    slug: str
    start_time: float
    updated_at: datetime


@dataclass
class SiteContents:
    """The site's videos, oldest first, and the articles of theirs a page needs, by video
    and language."""

    site: Site
    videos: list[SiteVideo]
    entries: dict[tuple[uuid.UUID, str], list[ArticleEntry]] = field(default_factory=dict)
    # (video, language asked for) pairs whose articles are in `entries` (see load_articles)
    loaded: set[tuple[uuid.UUID, str | None]] = field(default_factory=set)

    @property
    def languages(self) -> list[str]:
        """The languages the site has docs in, the most common primary language first."""
        return ordered_languages(
            {code for video in self.videos for code in video.languages}, self.main_language
        )

    @property
    def main_language(self) -> str | None:
        counts = Counter(video.primary for video in self.videos)
        if not counts:
            return None
        top = max(counts.values())
        return next(video.primary for video in self.videos if counts[video.primary] == top)

    def video(self, slug: str) -> SiteVideo:
        for video in self.videos:
            if video.slug == slug:
                return video
        raise nothing_here()

    def articles(self, video: SiteVideo, language: str) -> list[ArticleEntry]:
        return self.entries.get((video.id, language), [])

    def stamp(self) -> list[object]:
        """What every page of the site depends on: the ETags are made from it."""
        site = self.site
        return [
            site.org_slug,
            site.project_slug,
            site.project_name,
            site.public,
            site.preview,
            [
                [v.id, v.slug, v.title, v.published, v.run_id, v.articles, v.versions, v.edited_at]
                for v in self.videos
            ],
        ]


_VIDEOS = sa.text(
    """
SELECT v.id, v.slug, v.title, v.published, v.docs_run_id, v.duration_seconds, v.created_at,
       (SELECT j.languages[1] FROM processing_jobs j
         WHERE j.run_id = v.docs_run_id AND j.status = 'completed'
         ORDER BY j.created_at LIMIT 1),
       a.languages, a.articles, a.versions, a.edited_at
FROM videos v
CROSS JOIN LATERAL (
    SELECT array_agg(DISTINCT language) AS languages, count(*) AS articles,
           coalesce(sum(version), 0) AS versions, max(updated_at) AS edited_at
    FROM articles
    WHERE video_id = v.id AND run_id = v.docs_run_id AND status = 'published'
) a
WHERE v.project_id = :project AND v.docs_run_id IS NOT NULL AND (v.published OR :preview)
  AND a.articles > 0
ORDER BY v.created_at, v.id
"""
)

# The articles of some videos, each in one language (or in all of them: language NULL).
_ENTRIES = sa.text(
    """
SELECT a.id, a.video_id, a.language, a."order", a.title, a.slug, c.start_time, a.updated_at
FROM unnest(CAST(:videos AS uuid[]), CAST(:languages AS text[])) AS wanted (video_id, language)
JOIN articles a ON a.video_id = wanted.video_id
    AND (wanted.language IS NULL OR a.language = wanted.language)
JOIN chapters c ON c.id = a.chapter_id
JOIN videos v ON v.id = a.video_id AND v.docs_run_id = a.run_id
WHERE a.status = 'published'
ORDER BY a.video_id, a.language, a."order"
"""
)


async def load(db: AsyncSession, site: Site) -> SiteContents:
    """The site's videos; their articles are added by `load_articles`, for what a page shows
    (a large site has thousands of them)."""
    rows = await db.execute(_VIDEOS, {"project": site.project_id, "preview": site.preview})
    videos = []
    for row in rows:
        languages: list[str] = list(row[8] or [])
        primary = row[7] if row[7] in languages else ordered_languages(languages)[0]
        videos.append(
            SiteVideo(
                id=row[0],
                slug=row[1],
                title=row[2],
                published=row[3],
                run_id=row[4],
                duration_seconds=row[5],
                created_at=row[6],
                primary=primary,
                languages=ordered_languages(languages, primary),
                articles=int(row[9]),
                versions=int(row[10]),
                edited_at=row[11],
            )
        )
    return SiteContents(site, videos)


async def load_articles(
    db: AsyncSession, contents: SiteContents, videos: list[SiteVideo], language: str | None
) -> None:
    """Add the articles of `videos` to `contents`: each video's in its language for
    `language` (see SiteVideo.language_for), or in all its languages when None."""
    wanted = [
        video
        for video in videos
        if (video.id, None) not in contents.loaded and (video.id, language) not in contents.loaded
    ]
    if not wanted:
        return
    known = {entry.id for group in contents.entries.values() for entry in group}
    rows = await db.execute(
        _ENTRIES,
        {
            "videos": [video.id for video in wanted],
            "languages": [
                None if language is None else video.language_for(language) for video in wanted
            ],
        },
    )
    for row in rows:
        entry = ArticleEntry(*row)
        if entry.id not in known:
            contents.entries.setdefault((entry.video_id, entry.language), []).append(entry)
    for group in contents.entries.values():
        group.sort(key=lambda entry: entry.order)
    contents.loaded.update((video.id, language) for video in wanted)


@dataclass(frozen=True)
class ArticleText:
    entry: ArticleEntry
    content_markdown: str


async def texts(db: AsyncSession, entries: list[ArticleEntry]) -> list[ArticleText]:
    """The Markdown of `entries`, in their order."""
    if not entries:
        return []
    rows = await db.execute(
        sa.text("SELECT id, content_markdown FROM articles WHERE id = ANY(:ids)"),
        {"ids": [entry.id for entry in entries]},
    )
    markdown = {article_id: text for article_id, text in rows}
    return [ArticleText(entry, markdown[entry.id]) for entry in entries if entry.id in markdown]


@dataclass(frozen=True)
class StoredFile:
    storage_path: str
    size_bytes: int | None
    mime: str | None


async def video_source(db: AsyncSession, video: SiteVideo) -> StoredFile:
    row = (
        await db.execute(
            sa.text("SELECT storage_path, size_bytes, mime FROM videos WHERE id = :v"),
            {"v": video.id},
        )
    ).one_or_none()
    if row is None or row[0] is None:
        raise nothing_here()
    return StoredFile(row[0], row[1], row[2])


async def screenshot_path(db: AsyncSession, video: SiteVideo, name: str) -> str:
    path = (
        await db.execute(
            sa.text(
                "SELECT storage_path FROM screenshots "
                "WHERE video_id = :v AND run_id = :r AND name = :n"
            ),
            {"v": video.id, "r": video.run_id, "n": name},
        )
    ).scalar_one_or_none()
    if path is None:
        raise nothing_here()
    return str(path)


async def subtitle_cues(
    db: AsyncSession, video: SiteVideo, language: str
) -> tuple[list[dict[str, Any]], datetime]:
    row = (
        await db.execute(
            sa.text(
                "SELECT cues, created_at FROM subtitles "
                "WHERE video_id = :v AND run_id = :r AND language = :l"
            ),
            {"v": video.id, "r": video.run_id, "l": language},
        )
    ).one_or_none()
    if row is None:
        raise nothing_here()
    return list(row[0]), row[1]


async def subtitle_languages(db: AsyncSession, video: SiteVideo) -> list[str]:
    rows = await db.execute(
        sa.text("SELECT language FROM subtitles WHERE video_id = :v AND run_id = :r"),
        {"v": video.id, "r": video.run_id},
    )
    return ordered_languages(rows.scalars(), video.primary)
