"""How a job ends: its run's docs replace the video's old ones, or it fails with a sentence.

The job's own status changes are jobs.lifecycle's; this module swaps the docs.
"""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from reeldocs.core.errors import StorageUnavailable
from reeldocs.jobs import lifecycle
from reeldocs.pipeline import keep_edits
from reeldocs.pipeline.context import RunContext

_logger = logging.getLogger(__name__)

RUN_TABLES = ("articles", "chapters", "video_segments", "subtitles", "screenshots")


async def still_active(engine: AsyncEngine, job_id: uuid.UUID) -> bool:
    async with engine.connect() as conn:
        return await lifecycle.is_active(conn, job_id)


async def save_language_results(ctx: RunContext) -> None:
    async with ctx.engine.begin() as conn:
        await lifecycle.save_language_results(
            conn, ctx.job_id, ctx.reporter.lease, ctx.language_results
        )


async def _unique_slug(
    conn: AsyncConnection, project_id: uuid.UUID, language: str, base: str
) -> str:
    taken = set(
        (
            await conn.execute(
                sa.text(
                    "SELECT slug FROM articles WHERE project_id = :p AND language = :l "
                    "AND status = 'published' AND (slug = :b OR slug LIKE :pattern)"
                ),
                {"p": project_id, "l": language, "b": base, "pattern": base + "-%"},
            )
        ).scalars()
    )
    slug, counter = base, 2
    while slug in taken:
        slug = f"{base}-{counter}"
        counter += 1
    return slug


async def complete(ctx: RunContext) -> bool:
    """Publish the run in one transaction; False if the job was cancelled meanwhile.

    The run's rows replace the earlier runs' ones, except what people wrote (see
    keep_edits): edited articles and corrected segments move into this run instead.
    """
    video_id, run_id = ctx.video.id, ctx.run_id
    async with ctx.engine.begin() as conn:
        if not await lifecycle.lock_running(conn, ctx.job_id, ctx.reporter.lease):
            return False
        docs_run_id = (
            await conn.execute(
                sa.text("SELECT docs_run_id FROM videos WHERE id = :v FOR UPDATE"), {"v": video_id}
            )
        ).scalar_one()
        old_files: list[tuple[uuid.UUID, str]] = [
            (run, path)
            for run, path in await conn.execute(
                sa.text(
                    "SELECT run_id, storage_path FROM screenshots "
                    "WHERE video_id = :v AND run_id <> :r"
                ),
                {"v": video_id, "r": run_id},
            )
        ]
        kept = await keep_edits.keep_articles(
            conn,
            org_id=ctx.video.org_id,
            video_id=video_id,
            run_id=run_id,
            job_id=ctx.job_id,
            video_end=ctx.video.duration,
        )
        replaced_files = await keep_edits.keep_screenshots(
            conn, video_id=video_id, run_id=run_id, docs_run_id=docs_run_id, kept=kept
        )
        transcript_changed = await keep_edits.keep_segments(
            conn, video_id=video_id, run_id=run_id, spoken=ctx.spoken
        )
        for table in RUN_TABLES:
            await conn.execute(
                sa.text(f"DELETE FROM {table} WHERE video_id = :v AND run_id <> :r"),
                {"v": video_id, "r": run_id},
            )
        await keep_edits.mark_stale_translations(
            conn,
            run_id=run_id,
            primary=ctx.primary,
            kept=kept,
            transcript_changed=transcript_changed,
            video_end=ctx.video.duration,
        )
        articles = (
            await conn.execute(
                sa.text(
                    "SELECT id, language, slug FROM articles WHERE run_id = :r "
                    "AND status = 'draft' ORDER BY language, \"order\""
                ),
                {"r": run_id},
            )
        ).all()
        for article in articles:
            slug = await _unique_slug(conn, ctx.video.project_id, article.language, article.slug)
            await conn.execute(
                sa.text("UPDATE articles SET status = 'published', slug = :s WHERE id = :id"),
                {"s": slug, "id": article.id},
            )
        # What the run wrote is each new article's first revision.
        await conn.execute(
            sa.text(
                "INSERT INTO article_revisions (org_id, article_id, revision, source, job_id, "
                "title, content_markdown) "
                "SELECT org_id, id, 1, 'generated', :job, title, content_markdown "
                "FROM articles WHERE run_id = :r "
                "ON CONFLICT (article_id, revision) DO NOTHING"
            ),
            {"r": run_id, "job": ctx.job_id},
        )
        await conn.execute(
            sa.text(
                "UPDATE videos SET status = 'ready', docs_run_id = :r, source_language = :src "
                "WHERE id = :v"
            ),
            {"r": run_id, "v": video_id, "src": ctx.spoken},
        )
        in_use = set(
            (
                await conn.execute(
                    sa.text("SELECT storage_path FROM screenshots WHERE video_id = :v"),
                    {"v": video_id},
                )
            ).scalars()
        )
        await lifecycle.complete(conn, ctx.job_id, ctx.language_results)
    await _remove_files(ctx, old_files, replaced_files, in_use)
    return True


async def _remove_files(
    ctx: RunContext,
    old_files: list[tuple[uuid.UUID, str]],
    replaced_files: list[str],
    in_use: set[str],
) -> None:
    """The files of the rows that went. An earlier run's folder goes whole unless a kept
    screenshot still uses a file in it; then its other files go one by one. In a thread,
    and only logged if the storage does not answer: the rows are gone."""
    folders = {f"videos/{ctx.video.id}/runs/{run}/" for run, _ in old_files}
    busy = {folder for folder in folders if any(p.startswith(folder) for p in in_use)}
    for folder in sorted(folders - busy):
        await ctx.storage.discard_prefix(folder.rstrip("/"))
    leftovers = {path for _, path in old_files} | set(replaced_files)
    for path in sorted(leftovers - in_use):
        if any(path.startswith(folder) for folder in folders - busy):
            continue
        try:
            await ctx.storage.delete(path)
        except StorageUnavailable as error:
            _logger.warning("the file %s was left in storage: %s", path, error.reason)


async def fail_running(
    engine: AsyncEngine, job_id: uuid.UUID, lease: uuid.UUID, message: str, step: str
) -> None:
    """Fail the job this worker runs, unless it was cancelled or is no longer its own."""
    async with engine.begin() as conn:
        await lifecycle.fail(conn, job_id, message, step, lease=lease)
