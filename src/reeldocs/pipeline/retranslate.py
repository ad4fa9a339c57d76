"""Translating a video's published docs again from their current primary text, without
processing the video: what a `retranslate` job does.

Its steps write into the published run itself, one language in one transaction: an
untouched translation gets the new text as a revision (source `translated`); one a person
edited gets it as its proposal. Then the subtitles of those languages are made again from
the transcript as it now reads.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from reeldocs.docs.matching import chapter_spans, pair_spans
from reeldocs.docs.models import Article, ArticleRevision, Chapter, Screenshot, Subtitle
from reeldocs.docs.subtitles import build_source_cues, translate_cues
from reeldocs.docs.transcript import as_segment, cue_rows
from reeldocs.jobs import lifecycle
from reeldocs.jobs.progress import JobProgressReporter, JobStopped
from reeldocs.pipeline.context import VideoInfo, run_in_thread
from reeldocs.pipeline.documents import article_title
from reeldocs.pipeline.steps import translate_checked
from reeldocs.pipeline.terms import find_product_names, load_glossary, terminology
from reeldocs.providers.base import ProviderError, Scene, Segment
from reeldocs.providers.registry import ProviderSet, language_name
from reeldocs.videos.models import VideoSegment

T = TypeVar("T")

# Where each step's share of the progress bar starts and ends.
SPAN = {"translating": (0.0, 0.8), "subtitles": (0.8, 0.98)}


def _at(step: str, fraction: float) -> float:
    start, end = SPAN[step]
    return start + (end - start) * min(max(fraction, 0.0), 1.0)


@dataclass
class RetranslateContext:
    job_id: uuid.UUID
    video: VideoInfo
    docs_run_id: uuid.UUID
    languages: list[str]  # the primary first, then the translations to make again
    spoken: str
    engine: AsyncEngine
    providers: ProviderSet
    reporter: JobProgressReporter
    language_results: dict[str, Any] = field(default_factory=dict)
    scenes: list[Scene] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)

    @property
    def primary(self) -> str:
        return self.languages[0]

    @property
    def translations(self) -> list[str]:
        return self.languages[1:]

    async def run_blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await run_in_thread(self.reporter, fn, *args, **kwargs)


async def load_sources(ctx: RetranslateContext) -> None:
    """The published run's scenes and transcript: product names and subtitles come from
    them."""
    async with ctx.engine.connect() as conn:
        shots = await conn.execute(
            sa.select(Screenshot.__table__)
            .where(Screenshot.run_id == ctx.docs_run_id, Screenshot.scene_index.is_not(None))
            .order_by(Screenshot.scene_index)
        )
        ctx.scenes = [
            Scene(
                start=r.time_seconds,
                end=r.scene_end or r.time_seconds,
                screenshot=r.name,
                text=r.scene_text,
                title=r.scene_title,
            )
            for r in shots
        ]
        rows = await conn.execute(
            sa.select(VideoSegment.__table__)
            .where(VideoSegment.run_id == ctx.docs_run_id)
            .order_by(VideoSegment.order)
        )
        ctx.segments = [as_segment(row) for row in rows]


@dataclass(frozen=True)
class _Text:
    id: uuid.UUID
    start: float
    title: str
    markdown: str
    version: int
    stale: bool


async def _texts(conn: AsyncConnection, run_id: uuid.UUID, language: str) -> list[_Text]:
    rows = await conn.execute(
        sa.select(
            Article.id,
            Chapter.start_time,
            Article.title,
            Article.content_markdown,
            Article.version,
            Article.stale,
        )
        .join(Chapter, Chapter.id == Article.chapter_id)
        .where(
            Article.run_id == run_id,
            Article.language == language,
            Article.status == "published",
        )
    )
    return [_Text(*row) for row in rows]


async def translate_again(ctx: RetranslateContext, language: str, index: int) -> None:
    """The language's stale articles (all of them when none is stale), translated from
    their primary article's current text."""
    step, name = f"translating_{language}", language_name(language)
    count = len(ctx.translations)
    await ctx.reporter.update(
        step, f"Translating to {name} again", _at("translating", index / count)
    )
    translator = ctx.providers.translator
    if translator is None:
        raise ProviderError(
            f"No translator is configured, so Reeldocs cannot translate into {name}."
        )
    async with ctx.engine.connect() as conn:
        originals = await _texts(conn, ctx.docs_run_id, ctx.primary)
        translations = await _texts(conn, ctx.docs_run_id, language)
    chosen = [t for t in translations if t.stale] or translations
    end = ctx.video.duration
    pairs = pair_spans(
        [s for s in chapter_spans([(t.id, t.start) for t in translations], end)],
        chapter_spans([(o.id, o.start) for o in originals], end),
    )
    by_id = {original.id: original for original in originals}
    work = [(t, by_id[pairs[t.id]]) for t in chosen if t.id in pairs]
    if not work:
        return
    glossary = await load_glossary(ctx.engine, ctx.video.project_id)
    terms = terminology(language, find_product_names(ctx.scenes, ctx.segments), glossary)
    markdowns = await ctx.run_blocking(
        translate_checked,
        translator,
        [original.markdown for _, original in work],
        ctx.primary,
        language,
        ctx.reporter.check,
        terms,
    )
    async with ctx.engine.begin() as conn:
        if not await lifecycle.lock_running(conn, ctx.job_id, ctx.reporter.lease):
            raise JobStopped()
        for (translation, original), markdown in zip(work, markdowns, strict=True):
            title = article_title(markdown) or original.title
            await _store(conn, ctx.job_id, translation.id, original, title, markdown)


async def _store(
    conn: AsyncConnection,
    job_id: uuid.UUID,
    article_id: uuid.UUID,
    original: _Text,
    title: str,
    markdown: str,
) -> None:
    """A new translation: the article's next revision, or its proposal when a person
    edited it (read again under lock: they may have saved while the job translated)."""
    row = (
        await conn.execute(
            sa.select(Article.org_id, Article.chapter_id, Article.edited)
            .where(Article.id == article_id)
            .with_for_update()
        )
    ).first()
    if row is None:
        return  # regenerated meanwhile: the new run replaced it
    org_id, chapter_id, edited = row
    # The primary article changed while this one was translated: still stale.
    current = (
        await conn.execute(sa.select(Article.version).where(Article.id == original.id))
    ).scalar_one_or_none()
    fresh = current == original.version
    if edited:
        await conn.execute(
            sa.update(Article)
            .where(Article.id == article_id)
            .values(
                proposal_title=title,
                proposal_markdown=markdown,
                proposal_job_id=job_id,
                proposal_created_at=sa.func.now(),
            )
        )
        return
    latest = (
        await conn.execute(
            sa.select(sa.func.max(ArticleRevision.revision)).where(
                ArticleRevision.article_id == article_id
            )
        )
    ).scalar_one()
    await conn.execute(
        sa.insert(ArticleRevision).values(
            org_id=org_id,
            article_id=article_id,
            revision=(latest or 0) + 1,
            source="translated",
            job_id=job_id,
            title=title,
            content_markdown=markdown,
        )
    )
    await conn.execute(sa.update(Chapter).where(Chapter.id == chapter_id).values(title=title))
    await conn.execute(
        sa.update(Article)
        .where(Article.id == article_id)
        .values(
            title=title,
            content_markdown=markdown,
            version=Article.version + 1,
            updated_at=sa.func.now(),
            stale=not fresh,
        )
    )


async def subtitles_again(ctx: RetranslateContext, languages: list[str]) -> None:
    """The subtitles of `languages`, made again from the transcript as it now reads."""
    source_cues = build_source_cues(ctx.segments)
    names = find_product_names(ctx.scenes, ctx.segments)
    glossary = await load_glossary(ctx.engine, ctx.video.project_id)
    for position, language in enumerate(languages):
        await ctx.reporter.update(
            "subtitles",
            f"Writing subtitles in {language_name(language)}",
            _at("subtitles", position / len(languages)),
        )
        if language == ctx.spoken or not source_cues:
            cues = source_cues
        else:
            translator = ctx.providers.translator
            if translator is None:
                continue
            texts = await ctx.run_blocking(
                translator.translate_lines,
                [re.sub(r"\s*\n\s*", " ", c.text) for c in source_cues],
                ctx.spoken,
                language,
                terms=terminology(language, names, glossary),
            )
            cues = translate_cues(source_cues, texts)
        async with ctx.engine.begin() as conn:
            await conn.execute(
                pg_insert(Subtitle)
                .values(
                    org_id=ctx.video.org_id,
                    video_id=ctx.video.id,
                    run_id=ctx.docs_run_id,
                    language=language,
                    cues=cue_rows(cues),
                )
                .on_conflict_do_update(
                    index_elements=[Subtitle.run_id, Subtitle.language],
                    set_={"cues": cue_rows(cues), "created_at": sa.func.now()},
                )
            )


async def complete(ctx: RetranslateContext) -> bool:
    """Finish the job; False if it was cancelled meanwhile."""
    async with ctx.engine.begin() as conn:
        if not await lifecycle.lock_running(conn, ctx.job_id, ctx.reporter.lease):
            return False
        await conn.execute(
            sa.text("UPDATE videos SET status = 'ready' WHERE id = :v AND status = 'processing'"),
            {"v": ctx.video.id},
        )
        await lifecycle.complete(conn, ctx.job_id, ctx.language_results)
    return True
