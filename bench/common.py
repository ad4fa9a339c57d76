"""What every benchmark shares: a fresh embedded database, a team to own videos, job creation."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent


def fresh_environment(prefix: str) -> tuple[dict[str, str], Any, Any, Path]:
    """A new data directory with a migrated embedded PostgreSQL, used by this process and
    by the worker processes started with the returned environment."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    env = dict(os.environ)
    env.update(
        REELDOCS_DATA_DIR=str(data_dir),
        REELDOCS_STORAGE_URL=str(data_dir / "storage"),
        REELDOCS_PROVIDER="offline",
        # this checkout's own package first, whatever copy of Reeldocs is installed
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    )
    env.pop("REELDOCS_DATABASE_URL", None)
    for name in ("REELDOCS_DATA_DIR", "REELDOCS_STORAGE_URL", "REELDOCS_PROVIDER"):
        os.environ[name] = env[name]
    os.environ.pop("REELDOCS_DATABASE_URL", None)
    from reeldocs.core.db import database_urls, migrate
    from reeldocs.core.settings import load_settings

    settings = load_settings()
    urls = database_urls(settings)
    migrate(urls)
    return env, settings, urls, data_dir


def seed_videos(
    libpq: str, storage_key: str, mime: str, size: int, duration: float, count: int
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A user owning a team and project with `count` uploaded videos of one stored file."""
    user, org, project = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ids = [uuid.uuid4() for _ in range(count)]
    with psycopg.connect(libpq) as conn:
        conn.execute(
            "INSERT INTO users (id, email, password_hash) VALUES (%s, %s, 'x')",
            (user, f"bench-{user.hex[:8]}@example.com"),
        )
        conn.execute(
            "INSERT INTO organizations (id, name, slug) VALUES (%s, 'Bench', %s)",
            (org, f"bench-{org.hex[:8]}"),
        )
        conn.execute(
            "INSERT INTO organization_members (org_id, user_id, role) VALUES (%s, %s, 'owner')",
            (org, user),
        )
        conn.execute(
            "INSERT INTO projects (id, org_id, name, slug) VALUES (%s, %s, 'Bench', %s)",
            (project, org, f"bench-{project.hex[:8]}"),
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO videos (id, org_id, project_id, title, status, storage_path, mime, "
                "size_bytes, duration_seconds) "
                "VALUES (%s, %s, %s, 'Bench', 'uploaded', %s, %s, %s, %s)",
                [(v, org, project, storage_key, mime, size, duration) for v in ids],
            )
    return user, ids


async def create_job(
    engine: Any, queue: Any, settings: Any, user: uuid.UUID, video: uuid.UUID, languages: list[str]
) -> Any:
    """Create a job the way a request does: as the user, in one transaction."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from reeldocs.core.db import act_as_user
    from reeldocs.core.deps import Actor
    from reeldocs.jobs import service

    actor = Actor(user, "bench@example.com", "bench", "token")
    async with AsyncSession(engine, expire_on_commit=False) as session:
        async with session.begin():
            await act_as_user(session, user)
            return await service.create_job(session, actor, queue, settings, video, languages)


async def create_job_once(
    settings: Any, urls: Any, user: uuid.UUID, video: uuid.UUID, languages: list[str]
) -> uuid.UUID:
    from reeldocs.core.db import create_engine
    from reeldocs.jobs.queue import build_queue

    engine = create_engine(urls, pool_size=1)
    queue = build_queue(urls.libpq, settings)
    try:
        async with queue.open_async():
            job = await create_job(engine, queue, settings, user, video, languages)
    finally:
        await engine.dispose()
    return uuid.UUID(str(job.id))
