"""Each transition of jobs.lifecycle on the real database, in a transaction rolled back.

No worker and no web request: the functions are called the way the worker and the
services call them, on rows this module writes, so a failure names the transition.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import procrastinate
import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from reeldocs.core.db import DatabaseUrls, connection_lost, create_engine
from reeldocs.core.settings import Settings
from reeldocs.jobs import lifecycle
from reeldocs.jobs.lifecycle import JobStatus, RequeueReason
from reeldocs.jobs.models import ACTIVE_STATUSES, JOB_STATUSES
from reeldocs.jobs.queue import build_queue


@pytest.fixture(scope="module")
async def engine(db_urls: DatabaseUrls) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_urls, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def conn(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection as the service role, in a transaction rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture(scope="module")
def queue(db_urls: DatabaseUrls, settings: Settings) -> procrastinate.App:
    # Never opened: every engine call here goes through the test's own connection.
    return build_queue(db_urls.libpq, settings)


def _providers(languages: list[str]) -> dict[str, Any]:
    return {"understanding": "fake", "languages": languages}


@dataclass
class Seeded:
    video_id: uuid.UUID
    job_id: uuid.UUID
    run_id: uuid.UUID


async def _seed(
    conn: AsyncConnection,
    *,
    status: str = "pending",
    attempt: int = 1,
    docs_run_id: uuid.UUID | None = None,
    language_results: str = '{"en": {"status": "pending"}, "es": {"status": "pending"}}',
) -> Seeded:
    org, project, video, job, run = (uuid.uuid4() for _ in range(5))
    statements = [
        ("INSERT INTO organizations (id, name, slug) VALUES (:org, 'Org', :slug)", {}),
        (
            "INSERT INTO projects (id, org_id, name, slug) VALUES (:project, :org, 'P', 'p')",
            {},
        ),
        (
            "INSERT INTO videos (id, org_id, project_id, title, status, storage_path, "
            "docs_run_id) VALUES (:video, :org, :project, 'Tour', 'processing', 'x.mp4', :docs)",
            {"docs": docs_run_id},
        ),
        (
            "INSERT INTO processing_jobs (id, org_id, project_id, video_id, status, attempt, "
            "languages, run_id, video_status_before, language_results) VALUES (:job, :org, "
            ":project, :video, :status, :attempt, ARRAY['en', 'es'], :run, 'uploaded', "
            "CAST(:results AS jsonb))",
            {"status": status, "attempt": attempt, "results": language_results},
        ),
    ]
    common = {
        "org": org,
        "slug": f"org-{org.hex[:8]}",
        "project": project,
        "video": video,
        "job": job,
        "run": run,
    }
    for statement, extra in statements:
        await conn.execute(sa.text(statement), {**common, **extra})
    return Seeded(video, job, run)


async def _job(conn: AsyncConnection, job_id: uuid.UUID) -> dict[str, Any]:
    row = (
        (
            await conn.execute(
                sa.text("SELECT * FROM processing_jobs WHERE id = :id"), {"id": job_id}
            )
        )
        .mappings()
        .one()
    )
    return dict(row)


async def _video_status(conn: AsyncConnection, video_id: uuid.UUID) -> str:
    return str(
        (
            await conn.execute(
                sa.text("SELECT status FROM videos WHERE id = :id"), {"id": video_id}
            )
        ).scalar_one()
    )


async def _events(conn: AsyncConnection, job_id: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
    rows = await conn.execute(
        sa.text("SELECT type, payload FROM job_events WHERE job_id = :id ORDER BY id"),
        {"id": job_id},
    )
    return [(row.type, row.payload) for row in rows]


async def _engine_status(conn: AsyncConnection, queue_job_id: int) -> str | None:
    status = (
        await conn.execute(
            sa.text("SELECT status FROM procrastinate_jobs WHERE id = :id"), {"id": queue_job_id}
        )
    ).scalar_one_or_none()
    return None if status is None else str(status)


async def _claim(
    conn: AsyncConnection, job_id: uuid.UUID, queue_job_id: int | None = None, max_attempts: int = 3
) -> lifecycle.Claim | None:
    return await lifecycle.claim(
        conn, job_id, queue_job_id=queue_job_id, max_attempts=max_attempts, providers=_providers
    )


def test_the_status_enum_is_the_schema_s() -> None:
    assert tuple(status.value for status in JobStatus) == JOB_STATUSES
    assert lifecycle.ACTIVE_STATUSES == ACTIVE_STATUSES


# ---- claim ----


async def test_claim_takes_a_pending_job_under_a_new_lease(conn: AsyncConnection) -> None:
    seeded = await _seed(conn)
    claimed = await _claim(conn, seeded.job_id)
    assert claimed is not None
    job = await _job(conn, seeded.job_id)
    assert (job["status"], job["attempt"], job["step_message"]) == ("processing", 1, "Starting")
    assert job["lease"] == claimed.lease
    assert job["started_at"] is not None
    assert job["providers"] == _providers(["en", "es"])
    assert claimed.video["id"] == seeded.video_id

    # Handed back and claimed again: a new lease, no attempt counted, said to resume.
    await conn.execute(
        sa.text("UPDATE processing_jobs SET status = 'pending' WHERE id = :id"),
        {"id": seeded.job_id},
    )
    again = await _claim(conn, seeded.job_id)
    assert again is not None and again.lease != claimed.lease
    job = await _job(conn, seeded.job_id)
    assert (job["attempt"], job["step_message"]) == (1, "Resuming")


async def test_claim_refuses_a_job_that_is_not_its_engine_job_s_or_is_cancelled(
    conn: AsyncConnection,
) -> None:
    seeded = await _seed(conn)
    await conn.execute(
        sa.text("UPDATE processing_jobs SET queue_job_id = 41 WHERE id = :id"),
        {"id": seeded.job_id},
    )
    assert await _claim(conn, seeded.job_id, queue_job_id=40) is None  # handed back since
    assert (await _job(conn, seeded.job_id))["status"] == "pending"
    await conn.execute(
        sa.text("UPDATE processing_jobs SET status = 'cancelled' WHERE id = :id"),
        {"id": seeded.job_id},
    )
    assert await _claim(conn, seeded.job_id, queue_job_id=41) is None


async def test_claim_after_a_vanished_worker_counts_an_attempt_and_fails_past_the_cap(
    conn: AsyncConnection,
) -> None:
    seeded = await _seed(conn, status="processing", attempt=1)
    claimed = await _claim(conn, seeded.job_id, max_attempts=2)
    assert claimed is not None
    job = await _job(conn, seeded.job_id)
    assert (job["attempt"], job["step_message"]) == (2, "Resuming after the worker stopped")

    assert await _claim(conn, seeded.job_id, max_attempts=2) is None  # the worker died again
    job = await _job(conn, seeded.job_id)
    assert job["status"] == "failed" and job["lease"] is None
    assert "the worker stopped 2 times" in job["error_message"]
    assert await _video_status(conn, seeded.video_id) == "failed"  # it never had docs
    assert [event for event, _ in await _events(conn, seeded.job_id)] == ["job.failed"]


# ---- progress, complete, fail ----


async def test_progress_moves_forward_for_the_lease_holder_only(conn: AsyncConnection) -> None:
    seeded = await _seed(conn)
    claimed = await _claim(conn, seeded.job_id)
    assert claimed is not None
    assert await lifecycle.progress(conn, seeded.job_id, claimed.lease, "transcribing", "Hi", 0.3)
    assert await lifecycle.progress(conn, seeded.job_id, claimed.lease, "transcribing", "Hi", 0.2)
    job = await _job(conn, seeded.job_id)
    assert (job["step"], float(job["progress"])) == ("transcribing", 0.3)
    assert not await lifecycle.progress(conn, seeded.job_id, uuid.uuid4(), "subtitles", "No", 0.9)
    await conn.execute(
        sa.text("UPDATE processing_jobs SET cancel_requested = true WHERE id = :id"),
        {"id": seeded.job_id},
    )
    assert not await lifecycle.progress(conn, seeded.job_id, claimed.lease, "subtitles", "", 0.9)
    assert float((await _job(conn, seeded.job_id))["progress"]) == 0.3


async def test_complete_leaves_one_event_with_the_job_as_the_api_shows_it(
    conn: AsyncConnection,
) -> None:
    seeded = await _seed(conn)
    claimed = await _claim(conn, seeded.job_id)
    assert claimed is not None
    assert not await lifecycle.lock_running(conn, seeded.job_id, uuid.uuid4())
    assert await lifecycle.lock_running(conn, seeded.job_id, claimed.lease)
    results = {"en": {"status": "completed"}, "es": {"status": "completed"}}
    await lifecycle.complete(conn, seeded.job_id, results)
    job = await _job(conn, seeded.job_id)
    assert (job["status"], job["step"], float(job["progress"])) == ("completed", "complete", 1.0)
    assert job["lease"] is None and job["language_results"] == results
    shown = (await lifecycle.job_as_shown(conn, seeded.job_id)).model_dump(mode="json")
    assert await _events(conn, seeded.job_id) == [("job.completed", shown)]
    assert shown["video_title"] == "Tour" and shown["status"] == "completed"


async def test_fail_needs_the_lease_and_fails_what_was_not_done(conn: AsyncConnection) -> None:
    docs = uuid.uuid4()
    seeded = await _seed(
        conn,
        docs_run_id=docs,
        language_results='{"en": {"status": "completed"}, "es": {"status": "pending"}}',
    )
    claimed = await _claim(conn, seeded.job_id)
    assert claimed is not None
    assert not await lifecycle.fail(conn, seeded.job_id, "No.", "subtitles", lease=uuid.uuid4())
    assert (await _job(conn, seeded.job_id))["status"] == "processing"
    assert await _events(conn, seeded.job_id) == []

    message = "The audio track could not be read; upload it again."
    assert await lifecycle.fail(conn, seeded.job_id, message, "transcribing", lease=claimed.lease)
    job = await _job(conn, seeded.job_id)
    assert (job["status"], job["error_message"], job["failed_step"]) == (
        "failed",
        message,
        "transcribing",
    )
    assert job["language_results"]["en"] == {"status": "completed"}
    assert job["language_results"]["es"]["status"] == "failed"
    assert await _video_status(conn, seeded.video_id) == "ready"  # it keeps its old docs
    events = await _events(conn, seeded.job_id)
    assert [event for event, _ in events] == ["job.failed"]
    assert events[0][1]["error_message"] == message
    assert not await lifecycle.fail(conn, seeded.job_id, "Again.", "subtitles")  # finished


# ---- cancel and retry ----


async def test_cancel_gives_the_video_back_and_cancels_the_engine_job(
    conn: AsyncConnection, queue: procrastinate.App
) -> None:
    seeded = await _seed(conn)
    queue_job_id = await lifecycle.defer(conn, queue, seeded.job_id)
    await conn.execute(
        sa.text("UPDATE processing_jobs SET queue_job_id = :q WHERE id = :id"),
        {"q": queue_job_id, "id": seeded.job_id},
    )
    session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint")
    assert await lifecycle.cancel(session, seeded.job_id, "Cancelled")
    job = await _job(conn, seeded.job_id)
    assert (job["status"], job["cancel_requested"], job["step_message"]) == (
        "cancelled",
        True,
        "Cancelled",
    )
    assert await _video_status(conn, seeded.video_id) == "uploaded"
    assert await _engine_status(conn, queue_job_id) is None  # a queued one is deleted
    assert [event for event, _ in await _events(conn, seeded.job_id)] == ["job.cancelled"]
    assert not await lifecycle.cancel(session, seeded.job_id, "Cancelled")  # not active now
    assert len(await _events(conn, seeded.job_id)) == 1


async def test_retry_queues_a_new_job_on_the_same_run_keeping_finished_languages(
    conn: AsyncConnection, queue: procrastinate.App
) -> None:
    seeded = await _seed(
        conn,
        status="failed",
        language_results='{"en": {"status": "completed"}, "es": {"status": "failed"}}',
    )
    session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint")
    new_id = await lifecycle.retry(session, queue, seeded.job_id)
    assert (await _job(conn, seeded.job_id))["status"] == "retried"
    new = await _job(conn, new_id)
    assert (new["status"], new["attempt"], new["run_id"], new["retry_of"]) == (
        "pending",
        1,
        seeded.run_id,
        seeded.job_id,
    )
    assert new["language_results"] == {"en": {"status": "completed"}, "es": {"status": "pending"}}
    assert await _engine_status(conn, new["queue_job_id"]) == "todo"
    assert await _events(conn, seeded.job_id) == []  # retried is no finish: it already ended


# ---- requeue and recover ----


async def test_requeue_hands_the_job_back_without_counting_an_attempt(
    conn: AsyncConnection, queue: procrastinate.App
) -> None:
    seeded = await _seed(conn)
    claimed = await _claim(conn, seeded.job_id)
    assert claimed is not None
    await lifecycle.progress(conn, seeded.job_id, claimed.lease, "generating_docs", "Writing", 0.6)
    assert not await lifecycle.requeue(
        conn,
        queue,
        seeded.job_id,
        lease=uuid.uuid4(),
        queue_job_id=None,
        reason=RequeueReason.DATABASE_LOST,
    )
    assert await lifecycle.requeue(
        conn,
        queue,
        seeded.job_id,
        lease=claimed.lease,
        queue_job_id=None,
        reason=RequeueReason.DATABASE_LOST,
    )
    job = await _job(conn, seeded.job_id)
    assert (job["status"], job["attempt"], job["lease"]) == ("pending", 1, None)
    assert job["step_message"] == "Waiting for a worker: the database connection was lost"
    assert float(job["progress"]) == 0.6  # progress never goes back
    assert await _engine_status(conn, job["queue_job_id"]) == "todo"
    again = await _claim(conn, seeded.job_id, queue_job_id=job["queue_job_id"])
    assert again is not None
    assert (await _job(conn, seeded.job_id))["attempt"] == 1
    assert await _events(conn, seeded.job_id) == []


async def test_recover_requeues_active_jobs_whose_engine_job_ended(
    conn: AsyncConnection, queue: procrastinate.App
) -> None:
    orphan, running = await _seed(conn), await _seed(conn)
    for seeded, engine_status in ((orphan, "failed"), (running, "doing")):
        claimed = await _claim(conn, seeded.job_id)
        assert claimed is not None
        queue_job_id = await lifecycle.defer(conn, queue, seeded.job_id)
        await conn.execute(
            sa.text("UPDATE procrastinate_jobs SET status = :s WHERE id = :q"),
            {"s": engine_status, "q": queue_job_id},
        )
        await conn.execute(
            sa.text("UPDATE processing_jobs SET queue_job_id = :q WHERE id = :id"),
            {"q": queue_job_id, "id": seeded.job_id},
        )
    recovered = await lifecycle.recover_orphans(conn, queue)
    assert orphan.job_id in recovered and running.job_id not in recovered
    job = await _job(conn, orphan.job_id)
    assert (job["status"], job["attempt"]) == ("pending", 1)
    assert await _engine_status(conn, job["queue_job_id"]) == "todo"
    assert (await _job(conn, running.job_id))["status"] == "processing"


# ---- what counts as a lost connection ----


async def test_a_terminated_connection_counts_as_lost(engine: AsyncEngine, db_url: str) -> None:
    async with engine.connect() as conn:
        pid = (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()
        with psycopg.connect(db_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(DBAPIError) as lost:
            await conn.execute(sa.text("SELECT 1"))
    assert connection_lost(lost.value)


async def test_a_statement_s_own_errors_are_not_a_lost_connection(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(sa.text("SET statement_timeout = 1"))
        with pytest.raises(DBAPIError) as cancelled:
            await conn.execute(sa.text("SELECT pg_sleep(1)"))
    assert isinstance(cancelled.value.orig, psycopg.errors.QueryCanceled)
    assert not connection_lost(cancelled.value)
    async with engine.connect() as conn:
        with pytest.raises(DBAPIError) as missing:
            await conn.execute(sa.text("SELECT * FROM no_such_table"))
    assert not connection_lost(missing.value)


def _raised_in(module: str, error: BaseException) -> BaseException:
    try:
        exec(compile("raise error", "<driver>", "exec"), {"__name__": module, "error": error})
    except BaseException as raised:  # noqa: BLE001 - handed back to the test
        return raised
    raise AssertionError("unreachable")


def test_socket_errors_count_only_when_the_driver_raised_them() -> None:
    assert connection_lost(_raised_in("psycopg.waiting", ConnectionResetError(104, "reset")))
    assert not connection_lost(_raised_in("reeldocs.core.storage", OSError(28, "No space")))
    assert connection_lost(psycopg.OperationalError("server closed the connection"))
    wrapped = RuntimeError("speech recognition stopped")
    wrapped.__cause__ = psycopg.errors.AdminShutdown("terminating connection")
    assert connection_lost(wrapped)
    assert not connection_lost(psycopg.errors.LockNotAvailable("lock not available"))


async def test_every_connection_carries_tcp_keepalives(
    engine: AsyncEngine, queue: procrastinate.App, db_urls: DatabaseUrls
) -> None:
    """A half-open TCP connection must not hang a worker: libpq gets keepalives and a
    user timeout on the app's pool and on the job engine's (a unix socket ignores them)."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        dsn = raw.driver_connection.info.dsn
    async with queue.open_async():
        async with queue.connector.pool.connection() as engine_conn:
            engine_dsn = engine_conn.info.dsn
    for expected in ("keepalives_idle=10", "tcp_user_timeout=30000", "connect_timeout=10"):
        assert expected in dsn and expected in engine_dsn


async def _counter(conn: AsyncConnection, metric: str, labels: dict[str, str]) -> float:
    value = (
        await conn.execute(
            sa.text(
                "SELECT value FROM metric_counters WHERE metric = :m AND labels = CAST(:l AS jsonb)"
            ),
            {"m": metric, "l": json.dumps(labels)},
        )
    ).scalar_one_or_none()
    return float(value or 0)


async def _step_began_ago(conn: AsyncConnection, job_id: uuid.UUID, seconds: int) -> None:
    await conn.execute(
        sa.text(
            "UPDATE processing_jobs SET step_started_at = now() - make_interval(secs => :s) "
            "WHERE id = :id"
        ),
        {"s": seconds, "id": job_id},
    )


async def test_entering_a_step_times_the_last_one_and_finishing_counts_the_job(
    conn: AsyncConnection,
) -> None:
    seeded = await _seed(conn)
    claimed = await _claim(conn, seeded.job_id)
    assert claimed is not None
    before = {
        "uploading": await _counter(conn, "reeldocs_job_step_seconds_count", {"step": "uploading"}),
        "in_60": await _counter(
            conn, "reeldocs_job_step_seconds_bucket", {"step": "uploading", "le": "60.0"}
        ),
        "sum": await _counter(conn, "reeldocs_job_step_seconds_sum", {"step": "transcribing"}),
        "done": await _counter(conn, "reeldocs_jobs_finished_total", {"status": "completed"}),
    }
    assert await lifecycle.progress(conn, seeded.job_id, claimed.lease, "uploading", "Go", 0.01)
    await _step_began_ago(conn, seeded.job_id, 42)
    assert await lifecycle.progress(conn, seeded.job_id, claimed.lease, "uploading", "Go", 0.05)
    assert (
        await _counter(conn, "reeldocs_job_step_seconds_count", {"step": "uploading"})
        == before["uploading"]
    )  # the same step again: nothing timed yet
    assert await lifecycle.progress(conn, seeded.job_id, claimed.lease, "transcribing", "Hm", 0.1)
    assert (
        await _counter(conn, "reeldocs_job_step_seconds_count", {"step": "uploading"})
        == before["uploading"] + 1
    )
    assert (
        await _counter(
            conn, "reeldocs_job_step_seconds_bucket", {"step": "uploading", "le": "60.0"}
        )
        == before["in_60"] + 1
    )
    await _step_began_ago(conn, seeded.job_id, 7)
    assert await lifecycle.lock_running(conn, seeded.job_id, claimed.lease)
    await lifecycle.complete(conn, seeded.job_id, {"en": {"status": "completed"}})
    assert await _counter(
        conn, "reeldocs_job_step_seconds_sum", {"step": "transcribing"}
    ) == pytest.approx(before["sum"] + 7)
    assert (
        await _counter(conn, "reeldocs_jobs_finished_total", {"status": "completed"})
        == before["done"] + 1
    )
