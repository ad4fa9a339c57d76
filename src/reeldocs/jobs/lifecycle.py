"""Every change of a processing job's status, in one place.

`processing_jobs` is what users see; the engine's job (Procrastinate) is plumbing that
gets a worker to it. A job's life:

    pending ──claim──► processing ──complete──► completed
       ▲                │   │   └──fail──► failed ──retry──► retried (+ a new pending job)
       │                │   └──cancel──► cancelled ──retry──► retried (+ a new pending job)
       └─────requeue────┘
           recover

- claim: a worker takes the job and gets a lease, a token every later write of that
  worker must show. A claim that finds the job still `processing` means the worker
  before vanished without handing it back (killed, out of memory, power lost): that
  counts an attempt, and past REELDOCS_JOB_MAX_ATTEMPTS the job fails instead.
- progress, complete, fail: the claiming worker's writes, each conditional on its
  lease and on the job not being cancelled meanwhile.
- cancel and retry: a user's requests. Cancel also works on a pending job.
- requeue: a worker hands its job back to the queue (it is stopping, or it lost its
  database connection) as `pending` with a new engine job. Its next claim resumes
  from the run's checkpoints and counts no attempt.
- recover: what the sweeper does for jobs nobody will finish. An engine job whose
  worker stopped sending heartbeats goes back to the queue (the engine's own retry;
  the claim then counts the attempt). An active job whose engine job is no longer
  queued or running (it ended while the database was unreachable, so the job's own
  row could not be written) is requeued like a handed-back job: losing the database
  is not the job's fault and costs no attempt.

Finishing a job (completed, failed, cancelled) writes one `job_events` row in the same
transaction, carrying the job as the API shows it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import procrastinate
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from reeldocs.core.db import as_service
from reeldocs.jobs.queue import PROCESS_VIDEO_TASK, QUEUE
from reeldocs.jobs.schemas import JobOut


class JobStatus(StrEnum):
    PENDING = "pending"  #: waiting in the queue for a worker
    PROCESSING = "processing"  #: a worker has claimed it
    COMPLETED = "completed"  #: its docs are published
    FAILED = "failed"  #: it stopped with an error a user can read
    RETRIED = "retried"  #: a newer job took over its run
    CANCELLED = "cancelled"  #: a user (or deleting its video) stopped it


ACTIVE_STATUSES: tuple[str, ...] = (JobStatus.PENDING.value, JobStatus.PROCESSING.value)


class JobEventType(StrEnum):
    COMPLETED = "job.completed"
    FAILED = "job.failed"
    CANCELLED = "job.cancelled"


class RequeueReason(StrEnum):
    WORKER_STOPPING = "worker_stopping"
    DATABASE_LOST = "database_lost"


_WAITING_MESSAGE = {
    RequeueReason.WORKER_STOPPING: "Waiting for a worker: the last one was stopped",
    RequeueReason.DATABASE_LOST: "Waiting for a worker: the database connection was lost",
}

# The engine's statuses of a job that a worker has or will pick up ('aborting' is a
# legacy status an older engine version may still have written).
ENGINE_ALIVE_STATUSES = ("todo", "doing", "aborting")


@dataclass(frozen=True)
class Claim:
    job: dict[str, Any]  # the processing_jobs row as claimed
    video: dict[str, Any]  # the videos row
    lease: uuid.UUID
    # the job was still `processing`: the worker before died without handing it back
    worker_vanished: bool = False


# ---- claim, progress, complete, fail: the worker's side ----


async def _lock(conn: AsyncConnection, job_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        (
            await conn.execute(
                sa.text("SELECT * FROM processing_jobs WHERE id = :id FOR UPDATE"), {"id": job_id}
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


async def claim(
    conn: AsyncConnection,
    job_id: uuid.UUID,
    *,
    queue_job_id: int | None,
    max_attempts: int,
    providers: Callable[[list[str]], dict[str, Any]],
) -> Claim | None:
    """Take the job for the engine job `queue_job_id`; None when it is not ours to run."""
    job = await _lock(conn, job_id)
    if job is None or job["status"] not in ACTIVE_STATUSES or job["cancel_requested"]:
        return None
    if queue_job_id is not None and job["queue_job_id"] not in (None, queue_job_id):
        return None  # handed back meanwhile: a newer engine job runs it
    worker_vanished = job["status"] == JobStatus.PROCESSING
    attempt = job["attempt"] + (1 if worker_vanished else 0)
    if attempt > max_attempts:
        await _fail(
            conn,
            job,
            f"Processing stopped: the worker stopped {attempt - 1} times while processing "
            "this video. It may be too large or damaged for this server; retry, or try a "
            "shorter or re-encoded copy.",
            job["step"],
        )
        return None
    if worker_vanished:
        message = "Resuming after the worker stopped"
    else:
        message = "Resuming" if job["started_at"] is not None else "Starting"
    lease = uuid.uuid4()
    await conn.execute(
        sa.text(
            """
            UPDATE processing_jobs
            SET status = 'processing', attempt = :attempt, lease = :lease,
                started_at = coalesce(started_at, now()), providers = :providers,
                step_message = :message
            WHERE id = :id
            """
        ).bindparams(sa.bindparam("providers", type_=sa.JSON)),
        {
            "id": job_id,
            "attempt": attempt,
            "lease": lease,
            "message": message,
            "providers": providers(list(job["languages"])),
        },
    )
    video = (
        (
            await conn.execute(
                sa.text("SELECT * FROM videos WHERE id = :id"), {"id": job["video_id"]}
            )
        )
        .mappings()
        .one()
    )
    claimed = {**job, "status": JobStatus.PROCESSING.value, "attempt": attempt, "lease": lease}
    return Claim(job=claimed, video=dict(video), lease=lease, worker_vanished=worker_vanished)


async def progress(
    conn: AsyncConnection,
    job_id: uuid.UUID,
    lease: uuid.UUID,
    step: str,
    message: str,
    fraction: float,
) -> bool:
    """Record the step and its progress (which only moves forward); False: stop working."""
    row = (
        await conn.execute(
            sa.text(
                """
                UPDATE processing_jobs
                SET step = :step, step_message = :message,
                    progress = GREATEST(progress, :progress)
                WHERE id = :id AND status = 'processing' AND NOT cancel_requested
                  AND lease = :lease
                RETURNING id
                """
            ),
            {
                "id": job_id,
                "lease": lease,
                "step": step,
                "message": message,
                "progress": round(min(max(fraction, 0.0), 1.0), 4),
            },
        )
    ).first()
    return row is not None


async def save_language_results(
    conn: AsyncConnection, job_id: uuid.UUID, lease: uuid.UUID, results: Mapping[str, Any]
) -> None:
    await conn.execute(
        sa.text(
            "UPDATE processing_jobs "
            "SET language_results = language_results || CAST(:r AS jsonb) "
            "WHERE id = :id AND status = 'processing' AND lease = :lease"
        ),
        {"id": job_id, "lease": lease, "r": json.dumps(dict(results))},
    )


async def record_source_language(conn: AsyncConnection, job_id: uuid.UUID, language: str) -> None:
    """The spoken language the recogniser detected, stored with the segments' checkpoint."""
    await conn.execute(
        sa.text("UPDATE processing_jobs SET source_language = :l WHERE id = :id"),
        {"l": language, "id": job_id},
    )


async def lock_running(conn: AsyncConnection, job_id: uuid.UUID, lease: uuid.UUID) -> bool:
    """Lock the job for finishing it; False when it was cancelled or is no longer ours."""
    job = await _lock(conn, job_id)
    return (
        job is not None
        and job["status"] == JobStatus.PROCESSING
        and not job["cancel_requested"]
        and job["lease"] == lease
    )


async def complete(
    conn: AsyncConnection, job_id: uuid.UUID, language_results: Mapping[str, Any]
) -> None:
    """Mark the job completed (after `lock_running`, in the transaction publishing its docs)."""
    await conn.execute(
        sa.text(
            """
            UPDATE processing_jobs
            SET status = 'completed', step = 'complete', step_message = 'Done', progress = 1,
                completed_at = now(), lease = NULL,
                language_results = CAST(:results AS jsonb)
            WHERE id = :id
            """
        ),
        {"id": job_id, "results": json.dumps(dict(language_results))},
    )
    await _emit(conn, job_id, JobEventType.COMPLETED)


async def fail(
    conn: AsyncConnection,
    job_id: uuid.UUID,
    message: str,
    step: str,
    *,
    lease: uuid.UUID | None = None,
) -> bool:
    """Fail an active job with a sentence a user can act on; with `lease`, only if ours."""
    job = await _lock(conn, job_id)
    if job is None or job["status"] not in ACTIVE_STATUSES:
        return False
    if lease is not None and job["lease"] != lease:
        return False
    await _fail(conn, job, message, step)
    return True


async def _fail(conn: AsyncConnection, job: Mapping[str, Any], message: str, step: str) -> None:
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
                step_message = 'Failed', completed_at = now(), lease = NULL,
                language_results = CAST(:r AS jsonb)
            WHERE id = :id
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
        {"v": job["video_id"]},
    )
    await _emit(conn, job["id"], JobEventType.FAILED)


async def is_active(conn: AsyncConnection, job_id: uuid.UUID) -> bool:
    status = (
        await conn.execute(
            sa.text("SELECT status FROM processing_jobs WHERE id = :id"), {"id": job_id}
        )
    ).scalar_one_or_none()
    return status in ACTIVE_STATUSES


# ---- requeue and recover: back to the queue without counting an attempt ----


async def defer(conn: AsyncConnection, queue: procrastinate.App, job_id: uuid.UUID) -> int:
    """Queue an engine job for `job_id` on this connection, inside its transaction."""
    raw = await conn.get_raw_connection()
    queue_job_id: int = await queue.configure_task(
        PROCESS_VIDEO_TASK, queue=QUEUE, connection=raw.driver_connection
    ).defer_async(job_id=str(job_id))
    return queue_job_id


async def requeue(
    conn: AsyncConnection,
    queue: procrastinate.App,
    job_id: uuid.UUID,
    *,
    lease: uuid.UUID | None,
    queue_job_id: int | None,
    reason: RequeueReason,
) -> bool:
    """Hand the job back to the queue as pending; False when it is no longer ours.

    `lease` is the worker's claim; None when its claim may not have happened (the
    database went away during it), and then the engine job must still be the job's own.
    """
    job = await _lock(conn, job_id)
    if job is None or job["status"] not in ACTIVE_STATUSES or job["cancel_requested"]:
        return False
    if lease is not None and job["lease"] != lease:
        return False
    if lease is None and job["queue_job_id"] != queue_job_id:
        return False
    await _back_to_pending(conn, queue, job_id, reason)
    return True


async def _back_to_pending(
    conn: AsyncConnection, queue: procrastinate.App, job_id: uuid.UUID, reason: RequeueReason
) -> None:
    new_queue_job_id = await defer(conn, queue, job_id)
    await conn.execute(
        sa.text(
            """
            UPDATE processing_jobs
            SET status = 'pending', lease = NULL, queue_job_id = :q, step_message = :message
            WHERE id = :id
            """
        ),
        {"id": job_id, "q": new_queue_job_id, "message": _WAITING_MESSAGE[reason]},
    )


async def recover_orphans(conn: AsyncConnection, queue: procrastinate.App) -> list[uuid.UUID]:
    """Requeue active jobs whose engine job is neither queued nor running any more.

    That happens when the engine job ended (or was pruned) while the database could
    not be reached, so the worker could neither finish the job nor hand it back.
    """
    orphans = list(
        (
            await conn.execute(
                sa.text(
                    """
                    SELECT j.id FROM processing_jobs j
                    LEFT JOIN procrastinate_jobs q ON q.id = j.queue_job_id
                    WHERE j.status IN ('pending', 'processing') AND NOT j.cancel_requested
                      AND (q.id IS NULL OR q.status::text NOT IN :alive)
                    FOR UPDATE OF j SKIP LOCKED
                    """
                ).bindparams(sa.bindparam("alive", expanding=True)),
                {"alive": list(ENGINE_ALIVE_STATUSES)},
            )
        ).scalars()
    )
    for job_id in orphans:
        await _back_to_pending(conn, queue, job_id, RequeueReason.DATABASE_LOST)
    return orphans


# ---- cancel and retry: a user's requests, in the request's session ----


async def cancel(session: AsyncSession, job_id: uuid.UUID, message: str) -> bool:
    """Cancel an active job, give its video its status back, and stop the engine's job.

    The worker's next progress write finds the job cancelled and stops; the engine's
    abort request makes it notice within a fraction of a second. Run it after the
    caller's right to change the job was checked (the policies allow the writes).
    """
    conn = await session.connection()
    job = await _lock(conn, job_id)
    if job is None or job["status"] not in ACTIVE_STATUSES:
        return False
    await conn.execute(
        sa.text(
            """
            UPDATE processing_jobs
            SET status = 'cancelled', cancel_requested = true, step_message = :message,
                completed_at = now(), lease = NULL
            WHERE id = :id
            """
        ),
        {"id": job_id, "message": message},
    )
    await conn.execute(
        sa.text("UPDATE videos SET status = :before WHERE id = :v AND status = 'processing'"),
        {"v": job["video_id"], "before": job["video_status_before"]},
    )
    async with as_service(session):
        await _emit(conn, job_id, JobEventType.CANCELLED)
        if job["queue_job_id"] is not None:
            await conn.execute(
                sa.text("SELECT procrastinate_cancel_job_v1(:id, true, true)"),
                {"id": job["queue_job_id"]},
            )
    return True


async def retry(session: AsyncSession, queue: procrastinate.App, old_id: uuid.UUID) -> uuid.UUID:
    """Mark a failed or cancelled job retried and queue a new one on the same run.

    The new job resumes from the old one's checkpoints and keeps the languages it
    completed. Raises IntegrityError when another job of the video is active.
    """
    conn = await session.connection()
    new_id = (
        await conn.execute(
            sa.text(
                """
                INSERT INTO processing_jobs (org_id, project_id, video_id, kind, languages,
                    source_language, run_id, retry_of, video_status_before, language_results)
                SELECT org_id, project_id, video_id, kind, languages, source_language, run_id,
                    id, video_status_before,
                    (SELECT coalesce(jsonb_object_agg(code, CASE
                            WHEN language_results -> code ->> 'status' = 'completed'
                            THEN language_results -> code
                            ELSE '{"status": "pending"}'::jsonb END), '{}'::jsonb)
                       FROM unnest(languages) AS code)
                FROM processing_jobs WHERE id = :old
                RETURNING id
                """
            ),
            {"old": old_id},
        )
    ).scalar_one()
    await conn.execute(
        sa.text("UPDATE processing_jobs SET status = 'retried' WHERE id = :old"), {"old": old_id}
    )
    async with as_service(session):
        queue_job_id = await defer(conn, queue, new_id)
    await conn.execute(
        sa.text("UPDATE processing_jobs SET queue_job_id = :q WHERE id = :id"),
        {"q": queue_job_id, "id": new_id},
    )
    return uuid.UUID(str(new_id))


# ---- the event a finished job leaves behind ----


async def job_as_shown(conn: AsyncConnection, job_id: uuid.UUID) -> JobOut:
    row = (
        (
            await conn.execute(
                sa.text(
                    "SELECT j.*, v.title AS video_title FROM processing_jobs j "
                    "JOIN videos v ON v.id = j.video_id WHERE j.id = :id"
                ),
                {"id": job_id},
            )
        )
        .mappings()
        .one()
    )
    return JobOut.model_validate(
        {**row, "progress": float(row["progress"]), "languages": list(row["languages"])}
    )


async def _emit(conn: AsyncConnection, job_id: uuid.UUID, event: JobEventType) -> None:
    job = await job_as_shown(conn, job_id)
    await conn.execute(
        sa.text(
            "INSERT INTO job_events (org_id, project_id, job_id, type, payload) "
            "SELECT org_id, project_id, id, :type, CAST(:payload AS jsonb) "
            "FROM processing_jobs WHERE id = :id"
        ),
        {"id": job_id, "type": event.value, "payload": job.model_dump_json()},
    )
