"""How a job ends: its run's docs replace the video's old ones, or it fails with a sentence."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from reeldocs.pipeline.context import RunContext

_logger = logging.getLogger(__name__)

RUN_TABLES = ("articles", "chapters", "video_segments", "subtitles", "screenshots")


async def still_running(engine: AsyncEngine, job_id: uuid.UUID) -> bool:
    async with engine.connect() as conn:
        status = (
            await conn.execute(
                sa.text("SELECT status FROM processing_jobs WHERE id = :id"), {"id": job_id}
            )
        ).scalar_one_or_none()
    return status == "processing"


async def save_language_results(ctx: RunContext) -> None:
    async with ctx.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "UPDATE processing_jobs "
                "SET language_results = language_results || CAST(:r AS jsonb) "
                "WHERE id = :id AND status = 'processing'"
            ),
            {"id": ctx.job_id, "r": json.dumps(ctx.language_results)},
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
    """Publish the run in one transaction; False if the job was cancelled meanwhile."""
    video_id, run_id = ctx.video.id, ctx.run_id
    async with ctx.engine.begin() as conn:
        status = (
            await conn.execute(
                sa.text(
                    "SELECT status, cancel_requested FROM processing_jobs WHERE id = :id FOR UPDATE"
                ),
                {"id": ctx.job_id},
            )
        ).first()
        if status is None or status.status != "processing" or status.cancel_requested:
            return False
        await conn.execute(
            sa.text("SELECT 1 FROM videos WHERE id = :v FOR UPDATE"), {"v": video_id}
        )
        old_runs = list(
            (
                await conn.execute(
                    sa.text(
                        "SELECT DISTINCT run_id FROM screenshots "
                        "WHERE video_id = :v AND run_id <> :r"
                    ),
                    {"v": video_id, "r": run_id},
                )
            ).scalars()
        )
        for table in RUN_TABLES:
            await conn.execute(
                sa.text(f"DELETE FROM {table} WHERE video_id = :v AND run_id <> :r"),
                {"v": video_id, "r": run_id},
            )
        articles = (
            await conn.execute(
                sa.text(
                    "SELECT id, language, slug FROM articles WHERE run_id = :r "
                    'ORDER BY language, "order"'
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
        await conn.execute(
            sa.text(
                "UPDATE videos SET status = 'ready', docs_run_id = :r, source_language = :src "
                "WHERE id = :v"
            ),
            {"r": run_id, "v": video_id, "src": ctx.spoken},
        )
        await conn.execute(
            sa.text(
                """
                UPDATE processing_jobs
                SET status = 'completed', step = 'complete', step_message = 'Done', progress = 1,
                    completed_at = now(), language_results = CAST(:results AS jsonb)
                WHERE id = :id
                """
            ),
            {"id": ctx.job_id, "results": json.dumps(ctx.language_results)},
        )
    for old in old_runs:
        # in a thread, and only logged if the storage does not answer: the rows are gone
        await ctx.storage.discard_prefix(f"videos/{video_id}/runs/{old}")
    return True


async def fail(
    conn: AsyncConnection,
    job: RowMapping | Mapping[str, Any],
    video: RowMapping | Mapping[str, Any],
    message: str,
    step: str,
) -> None:
    results = dict(job["language_results"] or {})
    for code in job["languages"]:
        if results.get(code, {}).get("status") != "completed":
            results[code] = {
                "status": "failed",
                "detail": "The job failed before this language was done.",
            }
    await conn.execute(
        sa.text(
            """
            UPDATE processing_jobs
            SET status = 'failed', error_message = :message, failed_step = :step,
                step_message = 'Failed', completed_at = now(), language_results = CAST(:r AS jsonb)
            WHERE id = :id AND status IN ('pending', 'processing')
            """
        ),
        {"id": job["id"], "message": message, "step": step, "r": json.dumps(results)},
    )
    # A video that had docs keeps them and stays ready; one that never had any is failed.
    await conn.execute(
        sa.text(
            """
            UPDATE videos SET status = CASE WHEN docs_run_id IS NULL THEN 'failed' ELSE 'ready' END
            WHERE id = :v AND status = 'processing'
            """
        ),
        {"v": video["id"]},
    )


async def fail_running(engine: AsyncEngine, job_id: uuid.UUID, message: str, step: str) -> None:
    async with engine.begin() as conn:
        job = (
            (
                await conn.execute(
                    sa.text("SELECT * FROM processing_jobs WHERE id = :id FOR UPDATE"),
                    {"id": job_id},
                )
            )
            .mappings()
            .first()
        )
        if job is None or job["status"] != "processing":
            return
        video = (
            (
                await conn.execute(
                    sa.text("SELECT id FROM videos WHERE id = :v"), {"v": job["video_id"]}
                )
            )
            .mappings()
            .one()
        )
        await fail(conn, job, video, message, step)
