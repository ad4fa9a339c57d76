"""What people wrote survives a new run of the pipeline.

When a job publishes its run, an article a person edited keeps its id, its revisions, its
text and the screenshots its text shows (in any of its revisions, so restoring one finds
its pictures); the run's text for the same chapter, found by where the chapters sit in
the video, becomes the article's proposal. A transcript segment a person corrected keeps
its text, which replaces the run's words over the same stretch of time.

Everything here runs in the publishing transaction, as the service role, before the
previous runs' rows are deleted: what it moves into the new run is no longer theirs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from reeldocs.docs.export_text import shown_screenshots
from reeldocs.docs.matching import chapter_spans, pair_spans
from reeldocs.docs.models import Article, ArticleRevision, Chapter, Screenshot, Subtitle
from reeldocs.docs.subtitles import build_source_cues
from reeldocs.docs.transcript import as_segment, cue_rows, word_rows, words_of
from reeldocs.providers.base import Word
from reeldocs.videos.models import VideoSegment

# Segments read as plain rows (a connection does not build ORM objects).
_SEGMENTS = VideoSegment.__table__

# Rows moved into the run take orders from here until they are numbered in time order.
_MOVED_ORDER = 1_000_000


@dataclass(frozen=True)
class _Piece:
    """An article with where its chapter starts."""

    id: uuid.UUID
    chapter_id: uuid.UUID
    language: str
    order: int
    start: float
    title: str
    markdown: str
    edited: bool


async def _pieces(conn: AsyncConnection, *where: sa.ColumnElement[bool]) -> list[_Piece]:
    rows = await conn.execute(
        sa.select(
            Article.id,
            Article.chapter_id,
            Article.language,
            Article.order,
            Chapter.start_time,
            Article.title,
            Article.content_markdown,
            Article.edited,
        )
        .join(Chapter, Chapter.id == Article.chapter_id)
        .where(*where)
    )
    return [_Piece(*row) for row in rows]


# ---- articles ----


async def keep_articles(
    conn: AsyncConnection,
    *,
    org_id: uuid.UUID,
    video_id: uuid.UUID,
    run_id: uuid.UUID,
    job_id: uuid.UUID,
    video_end: float,
) -> set[uuid.UUID]:
    """Move the edited articles of the video's published docs into `run_id`, each in place
    of the run's article for the same chapter, whose text becomes its proposal; an edited
    article whose chapter the run no longer has keeps a chapter of its own. Returns the
    ids of the articles kept."""
    old = await _pieces(
        conn,
        Article.video_id == video_id,
        Article.run_id != run_id,
        Article.status == "published",
    )
    kept: set[uuid.UUID] = set()
    for language in sorted({piece.language for piece in old if piece.edited}):
        in_language = [piece for piece in old if piece.language == language]
        new = await _pieces(conn, Article.run_id == run_id, Article.language == language)
        new_by_id = {piece.id: piece for piece in new}
        edited = {piece.id for piece in in_language if piece.edited}
        # Spans of all the old chapters: an edited chapter ends where the next one began.
        old_spans = chapter_spans([(p.id, p.start) for p in in_language], video_end)
        pairs = pair_spans(
            [span for span in old_spans if span.key in edited],
            chapter_spans([(p.id, p.start) for p in new], video_end),
        )
        moved_order = _MOVED_ORDER
        for piece in (p for p in in_language if p.edited):
            match = new_by_id.get(pairs[piece.id]) if piece.id in pairs else None
            if match is not None:
                await _take_place(conn, piece, match, run_id, job_id)
            else:
                await _keep_own_chapter(conn, piece, org_id, video_id, run_id, moved_order)
                moved_order += 1
            kept.add(piece.id)
        if moved_order != _MOVED_ORDER:
            await _number_by_time(conn, run_id, language)
    return kept


async def _take_place(
    conn: AsyncConnection, piece: _Piece, match: _Piece, run_id: uuid.UUID, job_id: uuid.UUID
) -> None:
    """The edited article takes the place of the run's article for its chapter."""
    offered = (match.title, match.markdown) != (piece.title, piece.markdown)
    await conn.execute(sa.delete(Article).where(Article.id == match.id))
    await conn.execute(
        sa.update(Chapter).where(Chapter.id == match.chapter_id).values(title=piece.title)
    )
    await conn.execute(
        sa.update(Article)
        .where(Article.id == piece.id)
        .values(
            run_id=run_id,
            chapter_id=match.chapter_id,
            order=match.order,
            # an older proposal is outdated by this one (or by the run agreeing with the text)
            proposal_title=match.title if offered else None,
            proposal_markdown=match.markdown if offered else None,
            proposal_job_id=job_id if offered else None,
            proposal_created_at=sa.func.now() if offered else None,
        )
    )


async def _keep_own_chapter(
    conn: AsyncConnection,
    piece: _Piece,
    org_id: uuid.UUID,
    video_id: uuid.UUID,
    run_id: uuid.UUID,
    order: int,
) -> None:
    chapter_id = (
        await conn.execute(
            sa.insert(Chapter)
            .values(
                org_id=org_id,
                video_id=video_id,
                run_id=run_id,
                language=piece.language,
                order=order,
                title=piece.title,
                start_time=piece.start,
            )
            .returning(Chapter.id)
        )
    ).scalar_one()
    await conn.execute(
        sa.update(Article)
        .where(Article.id == piece.id)
        .values(run_id=run_id, chapter_id=chapter_id, order=order)
    )


async def _number_by_time(conn: AsyncConnection, run_id: uuid.UUID, language: str) -> None:
    """Chapters (and their articles) numbered from 0 in the order they start. Through
    negative numbers, so that no two rows ever hold the same number on the way."""
    where = {"r": run_id, "l": language}
    await conn.execute(
        sa.text(
            'WITH ranked AS (SELECT id, row_number() OVER (ORDER BY start_time, "order") AS n '
            "FROM chapters WHERE run_id = :r AND language = :l) "
            'UPDATE chapters c SET "order" = -ranked.n FROM ranked WHERE c.id = ranked.id'
        ),
        where,
    )
    await conn.execute(
        sa.text(
            'UPDATE articles a SET "order" = c."order" FROM chapters c '
            "WHERE c.id = a.chapter_id AND a.run_id = :r AND a.language = :l"
        ),
        where,
    )
    for table in ("chapters", "articles"):
        await conn.execute(
            sa.text(
                f'UPDATE {table} SET "order" = -"order" - 1 WHERE run_id = :r AND language = :l'
            ),
            where,
        )


async def mark_stale_translations(
    conn: AsyncConnection,
    *,
    run_id: uuid.UUID,
    primary: str,
    kept: set[uuid.UUID],
    transcript_changed: bool,
    video_end: float,
) -> None:
    """Translations that no longer translate their primary article: the run's translation
    of a chapter whose edited primary article was kept (it translates the proposal), and a
    kept translation whose primary article the run replaced. When corrected segments
    changed the run's transcript, every translation was made without them."""
    if transcript_changed:
        await conn.execute(
            sa.update(Article)
            .where(Article.run_id == run_id, Article.language != primary)
            .values(stale=True)
        )
        return
    if not kept:
        return
    pieces = await _pieces(conn, Article.run_id == run_id)
    primary_spans = chapter_spans(
        [(p.id, p.start) for p in pieces if p.language == primary], video_end
    )
    stale: list[uuid.UUID] = []
    for language in sorted({p.language for p in pieces} - {primary}):
        translations = chapter_spans(
            [(p.id, p.start) for p in pieces if p.language == language], video_end
        )
        for original, translation in pair_spans(primary_spans, translations).items():
            if (original in kept) != (translation in kept):
                stale.append(translation)
    if stale:
        await conn.execute(sa.update(Article).where(Article.id.in_(stale)).values(stale=True))


# ---- screenshots ----


async def keep_screenshots(
    conn: AsyncConnection,
    *,
    video_id: uuid.UUID,
    run_id: uuid.UUID,
    docs_run_id: uuid.UUID | None,
    kept: set[uuid.UUID],
) -> list[str]:
    """Move into `run_id` the screenshots the kept articles show. Where the run has a
    screenshot of the same name (the same moment), its row keeps the file the article
    showed; the run's own file is returned, to be deleted once the transaction is over."""
    if not kept:
        return []
    texts = await conn.execute(
        sa.select(ArticleRevision.content_markdown)
        .where(ArticleRevision.article_id.in_(kept))
        .union(sa.select(Article.content_markdown).where(Article.id.in_(kept)))
    )
    names = set().union(*(shown_screenshots(text) for text in texts.scalars()))
    if not names:
        return []
    old = (
        await conn.execute(
            sa.select(Screenshot.id, Screenshot.name, Screenshot.storage_path, Screenshot.run_id)
            .where(
                Screenshot.video_id == video_id,
                Screenshot.run_id != run_id,
                Screenshot.name.in_(names),
            )
            # the published run's file first, should an abandoned run have the name too
            .order_by((Screenshot.run_id == docs_run_id).desc())
        )
    ).all()
    new = {
        name: (shot_id, path)
        for shot_id, name, path in await conn.execute(
            sa.select(Screenshot.id, Screenshot.name, Screenshot.storage_path).where(
                Screenshot.run_id == run_id, Screenshot.name.in_(names)
            )
        )
    }
    replaced: list[str] = []
    done: set[str] = set()
    for shot_id, name, path, _ in old:
        if name in done:
            continue
        done.add(name)
        if name in new:
            new_id, new_path = new[name]
            await conn.execute(
                sa.update(Screenshot).where(Screenshot.id == new_id).values(storage_path=path)
            )
            replaced.append(new_path)
        else:
            await conn.execute(
                sa.update(Screenshot).where(Screenshot.id == shot_id).values(run_id=run_id)
            )
    return replaced


# ---- transcript ----


def _spoken(words: Iterable[Word]) -> str:
    return " ".join(" ".join(word.text for word in words).split())


def _same_words(a: str, b: str) -> bool:
    return a.casefold().split() == b.casefold().split()


async def keep_segments(
    conn: AsyncConnection, *, video_id: uuid.UUID, run_id: uuid.UUID, spoken: str
) -> bool:
    """Move the corrected segments of earlier runs into `run_id`, in place of the run's
    words over their time spans, and make the subtitles in the spoken language again.
    True when that changed what the run's transcript says."""
    edited = (
        await conn.execute(
            sa.select(_SEGMENTS)
            .where(
                VideoSegment.video_id == video_id,
                VideoSegment.run_id != run_id,
                VideoSegment.edited,
            )
            .order_by(VideoSegment.start_time)
        )
    ).all()
    if not edited:
        return False
    changed = False
    for position, corrected in enumerate(edited):
        replaced = await _clear_span(conn, run_id, corrected.start_time, corrected.end_time)
        changed = changed or not _same_words(replaced, corrected.spoken_content)
        await conn.execute(
            sa.update(VideoSegment)
            .where(VideoSegment.id == corrected.id)
            .values(run_id=run_id, order=_MOVED_ORDER + position)
        )
    await conn.execute(
        sa.text(
            'WITH ranked AS (SELECT id, row_number() OVER (ORDER BY start_time, "order") AS n '
            "FROM video_segments WHERE run_id = :r) "
            'UPDATE video_segments s SET "order" = -ranked.n FROM ranked WHERE s.id = ranked.id'
        ),
        {"r": run_id},
    )
    await conn.execute(
        sa.text('UPDATE video_segments SET "order" = -"order" - 1 WHERE run_id = :r'),
        {"r": run_id},
    )
    rows = await conn.execute(
        sa.select(_SEGMENTS).where(VideoSegment.run_id == run_id).order_by(VideoSegment.order)
    )
    cues = build_source_cues([as_segment(row) for row in rows])
    await conn.execute(
        sa.update(Subtitle)
        .where(Subtitle.run_id == run_id, Subtitle.language == spoken)
        .values(cues=cue_rows(cues))
    )
    return changed


async def _clear_span(conn: AsyncConnection, run_id: uuid.UUID, start: float, end: float) -> str:
    """Take the run's words between `start` and `end` out of its segments (a segment left
    with none goes); what they said."""
    overlapping = (
        await conn.execute(
            sa.select(_SEGMENTS)
            .where(
                VideoSegment.run_id == run_id,
                VideoSegment.start_time < end,
                VideoSegment.end_time > start,
            )
            .order_by(VideoSegment.start_time)
        )
    ).all()
    said: list[str] = []
    for segment in overlapping:
        words = words_of(segment.words)
        if not words:
            # Untimed text goes with the span when most of the segment lies inside it.
            length = segment.end_time - segment.start_time
            inside = min(segment.end_time, end) - max(segment.start_time, start)
            if length <= 0 or inside / length >= 0.5:
                said.append(segment.spoken_content)
                await conn.execute(sa.delete(VideoSegment).where(VideoSegment.id == segment.id))
            continue
        within = [w for w in words if start <= (w.start + w.end) / 2 <= end]
        outside = [w for w in words if not start <= (w.start + w.end) / 2 <= end]
        said.append(_spoken(within))
        if not within:
            continue
        if not outside:
            await conn.execute(sa.delete(VideoSegment).where(VideoSegment.id == segment.id))
            continue
        first = max(segment.start_time, min(w.start for w in outside))
        last = min(segment.end_time, max(w.end for w in outside))
        await conn.execute(
            sa.update(VideoSegment)
            .where(VideoSegment.id == segment.id)
            .values(
                words=word_rows(outside),
                spoken_content=_spoken(outside),
                start_time=first,
                end_time=max(first, last),
            )
        )
    return " ".join(said)
