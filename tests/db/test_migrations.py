"""Migrations on a fresh database, and the constraints the schema relies on.

Runs on whatever server the run uses: the embedded PostgreSQL 18 by default, and
PostgreSQL 15 when REELDOCS_DATABASE_URL points at one (scripts/start-postgres15.sh).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from psycopg import errors, sql

from reeldocs.core.db import DatabaseUrls, migrate, migrations_dir
from tests.db.conftest import throwaway_database

APP_TABLES = {
    "users",
    "organizations",
    "organization_members",
    "api_tokens",
    "user_sessions",
    "login_failures",
    "projects",
    "videos",
    "processing_jobs",
    "video_segments",
    "chapters",
    "articles",
    "subtitles",
    "screenshots",
    "glossary_terms",
    "invitations",
    "job_events",
}
QUEUE_TABLES = {
    "procrastinate_jobs",
    "procrastinate_workers",
    "procrastinate_events",
    "procrastinate_periodic_defers",
}

# Everything a migration can leave behind in a database, one line per object.
SCHEMA_OBJECTS = r"""
WITH user_schemas AS (
    SELECT oid, nspname FROM pg_namespace
    WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'
)
SELECT 'schema ' || nspname || ' acl ' || coalesce(nspacl::text, '-')
    FROM pg_namespace WHERE oid IN (SELECT oid FROM user_schemas)
UNION ALL
SELECT 'relation ' || c.relkind::text || ' ' || s.nspname || '.' || c.relname
       || ' acl ' || coalesce(c.relacl::text, '-')
    FROM pg_class c JOIN user_schemas s ON s.oid = c.relnamespace
UNION ALL
SELECT 'function ' || s.nspname || '.' || p.oid::regprocedure::text
    FROM pg_proc p JOIN user_schemas s ON s.oid = p.pronamespace
UNION ALL
SELECT 'type ' || s.nspname || '.' || t.typname
    FROM pg_type t JOIN user_schemas s ON s.oid = t.typnamespace
    WHERE t.typrelid = 0 AND t.typcategory <> 'A'
UNION ALL
SELECT 'constraint ' || s.nspname || '.' || con.conname || ' ' || pg_get_constraintdef(con.oid)
    FROM pg_constraint con JOIN user_schemas s ON s.oid = con.connamespace
UNION ALL
SELECT 'trigger ' || tgrelid::regclass::text || '.' || tgname
    FROM pg_trigger WHERE NOT tgisinternal
UNION ALL
SELECT 'policy ' || polrelid::regclass::text || '.' || polname || ' '
       || coalesce(pg_get_expr(polqual, polrelid), '-') || ' '
       || coalesce(pg_get_expr(polwithcheck, polrelid), '-')
    FROM pg_policy
UNION ALL
SELECT 'extension ' || extname FROM pg_extension
UNION ALL
SELECT 'default acl ' || defaclobjtype::text || ' ' || defaclacl::text FROM pg_default_acl
"""


def _alembic_config(conn: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["connection"] = conn
    return config


def _downgrade_to_base(urls: DatabaseUrls) -> None:
    engine = sa.create_engine(urls.sqlalchemy, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            command.downgrade(_alembic_config(conn), "base")
            conn.commit()
    finally:
        engine.dispose()


def _head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def _schema(urls: DatabaseUrls) -> set[str]:
    with psycopg.connect(urls.libpq) as conn:
        return {row[0] for row in conn.execute(SCHEMA_OBJECTS)}


def _tables(urls: DatabaseUrls) -> set[str]:
    with psycopg.connect(urls.libpq) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in rows}


def _revision(urls: DatabaseUrls) -> list[str]:
    with psycopg.connect(urls.libpq) as conn:
        return [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]


@pytest.fixture
def empty_database(db_url: str) -> Iterator[DatabaseUrls]:
    with throwaway_database(db_url, "reeldocs_migrations") as urls:
        yield urls


def test_upgrade_downgrade_upgrade_leaves_nothing_behind(empty_database: DatabaseUrls) -> None:
    urls = empty_database
    before = _schema(urls)

    migrate(urls)
    upgraded = _schema(urls)
    assert _revision(urls) == [_head_revision()]
    tables = _tables(urls)
    assert APP_TABLES <= tables, f"missing tables: {APP_TABLES - tables}"
    assert QUEUE_TABLES <= tables, f"missing queue tables: {QUEUE_TABLES - tables}"

    _downgrade_to_base(urls)
    assert _revision(urls) == []
    # Alembic keeps its (now empty) version table; nothing else may remain.
    leftovers = _schema(urls) - before
    leftovers = {line for line in leftovers if "alembic_version" not in line}
    assert leftovers == set(), f"downgrade left these behind: {sorted(leftovers)}"

    migrate(urls)
    assert _revision(urls) == [_head_revision()]
    assert _schema(urls) == upgraded


def test_upgrading_a_migrated_database_changes_nothing(empty_database: DatabaseUrls) -> None:
    migrate(empty_database)
    first = _schema(empty_database)
    migrate(empty_database)
    assert _schema(empty_database) == first
    assert _revision(empty_database) == [_head_revision()]


@pytest.fixture
def video(service_conn: psycopg.Connection) -> Iterator[dict[str, uuid.UUID]]:
    """An org, project and video, inside a transaction rolled back after the test."""
    ids = {"org": uuid.uuid4(), "project": uuid.uuid4(), "video": uuid.uuid4()}
    with service_conn.transaction(force_rollback=True):
        service_conn.execute(
            "INSERT INTO organizations (id, name, slug) VALUES (%(org)s, 'Org', %(slug)s)",
            {**ids, "slug": f"org-{ids['org']}"},
        )
        service_conn.execute(
            "INSERT INTO projects (id, org_id, name, slug) "
            "VALUES (%(project)s, %(org)s, 'Guides', 'guides')",
            ids,
        )
        service_conn.execute(
            "INSERT INTO videos (id, org_id, project_id, title) "
            "VALUES (%(video)s, %(org)s, %(project)s, 'Tour')",
            ids,
        )
        yield ids


def _insert_job(
    conn: psycopg.Connection, ids: dict[str, uuid.UUID], status: str = "pending"
) -> uuid.UUID:
    row = conn.execute(
        "INSERT INTO processing_jobs (org_id, project_id, video_id, status, languages, run_id, "
        "video_status_before, updated_at) VALUES (%(org)s, %(project)s, %(video)s, %(status)s, "
        "ARRAY['en'], gen_random_uuid(), 'uploaded', '2000-01-01T00:00:00Z') RETURNING id",
        {**ids, "status": status},
    ).fetchone()
    assert row is not None
    job_id: uuid.UUID = row[0]
    return job_id


def test_updating_a_job_sets_its_updated_at(
    service_conn: psycopg.Connection, video: dict[str, uuid.UUID]
) -> None:
    job = _insert_job(service_conn, video)
    service_conn.execute("UPDATE processing_jobs SET progress = 0.5 WHERE id = %s", (job,))
    row = service_conn.execute(
        "SELECT updated_at, now() FROM processing_jobs WHERE id = %s", (job,)
    ).fetchone()
    assert row is not None
    updated_at, transaction_time = row
    assert updated_at != datetime(2000, 1, 1, tzinfo=UTC)
    assert updated_at == transaction_time


@pytest.mark.parametrize(
    ("first", "second"),
    [("pending", "pending"), ("processing", "pending"), ("pending", "processing")],
)
def test_a_video_has_at_most_one_active_job(
    service_conn: psycopg.Connection, video: dict[str, uuid.UUID], first: str, second: str
) -> None:
    _insert_job(service_conn, video, first)
    with pytest.raises(errors.UniqueViolation) as refused:
        with service_conn.transaction():
            _insert_job(service_conn, video, second)
    assert refused.value.diag.constraint_name == "processing_jobs_one_active_per_video"


def test_finished_jobs_do_not_block_a_new_one(
    service_conn: psycopg.Connection, video: dict[str, uuid.UUID]
) -> None:
    for status in ("completed", "failed", "retried", "cancelled"):
        _insert_job(service_conn, video, status)
    _insert_job(service_conn, video, "pending")
    count = service_conn.execute(
        "SELECT count(*) FROM processing_jobs WHERE video_id = %(video)s", video
    ).fetchone()
    assert count == (5,)


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(
            "UPDATE processing_jobs SET status = 'done' WHERE video_id = %(video)s",
            id="job-status",
        ),
        pytest.param(
            "UPDATE processing_jobs SET progress = 1.5 WHERE video_id = %(video)s",
            id="job-progress",
        ),
        pytest.param(
            "UPDATE processing_jobs SET languages = '{}' WHERE video_id = %(video)s",
            id="job-languages",
        ),
        pytest.param("UPDATE videos SET status = 'lost' WHERE id = %(video)s", id="video-status"),
        pytest.param(
            "INSERT INTO organization_members (org_id, user_id, role) "
            "VALUES (%(org)s, %(user)s, 'admin')",
            id="member-role",
        ),
        pytest.param(
            "INSERT INTO users (email, password_hash) VALUES ('Someone@Example.com', 'x')",
            id="user-email-case",
        ),
    ],
)
def test_check_constraints_refuse_bad_values(
    service_conn: psycopg.Connection, video: dict[str, uuid.UUID], statement: str
) -> None:
    _insert_job(service_conn, video)
    user = uuid.uuid4()
    service_conn.execute(
        "INSERT INTO users (id, email, password_hash) VALUES (%s, %s, 'x')",
        (user, f"{user}@example.com"),
    )
    with pytest.raises(errors.CheckViolation):
        with service_conn.transaction():
            service_conn.execute(statement, {**video, "user": user})


def _url_as(service_url: str, user: str, password: str, database: str) -> str:
    parts = urlsplit(service_url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(user)}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc, path="/" + database))


@pytest.fixture
def second_login_role(service_conn: psycopg.Connection) -> Iterator[tuple[str, str]]:
    """Another installation's login role on the same server, made by the service role."""
    name = f"reeldocs_other_{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(24)
    service_conn.execute(
        sql.SQL("CREATE ROLE {} LOGIN CREATEDB CREATEROLE PASSWORD {}").format(
            sql.Identifier(name), sql.Literal(password)
        )
    )
    try:
        yield name, password
    finally:
        service_conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def test_a_second_login_role_shares_the_existing_app_role(
    db_url: str, service_conn: psycopg.Connection, second_login_role: tuple[str, str]
) -> None:
    """reeldocs_app and reeldocs_public belong to the cluster and already exist. PostgreSQL
    15 lets any CREATEROLE role grant them; 16 and later want ADMIN OPTION, which only
    their creator has, so each migration that needs one must say what an administrator
    has to do."""
    name, password = second_login_role
    database = f"reeldocs_other_{secrets.token_hex(3)}"
    with psycopg.connect(_url_as(db_url, name, password, "postgres"), autocommit=True) as own:
        own.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    libpq = _url_as(db_url, name, password, database)
    urls = DatabaseUrls("postgresql+psycopg://" + libpq.split("://", 1)[1], libpq)
    try:
        version = service_conn.info.server_version
        if version >= 160000:
            with pytest.raises(sa.exc.DBAPIError, match="GRANT reeldocs_app TO"):
                migrate(urls)
            # What the hint asks an administrator (here the role's creator) to run.
            service_conn.execute(sql.SQL("GRANT reeldocs_app TO {}").format(sql.Identifier(name)))
            with pytest.raises(sa.exc.DBAPIError, match="GRANT reeldocs_public TO"):
                migrate(urls)
            service_conn.execute(
                sql.SQL("GRANT reeldocs_public TO {}").format(sql.Identifier(name))
            )
        migrate(urls)
        assert _revision(urls) == [_head_revision()]
        with psycopg.connect(libpq) as conn:
            for role in ("reeldocs_app", "reeldocs_public"):
                conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
                assert conn.execute("SELECT count(*) FROM projects").fetchone() == (0,)
    finally:
        with psycopg.connect(_url_as(db_url, name, password, "postgres"), autocommit=True) as own:
            own.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )


def test_video_slugs_are_filled_in_from_titles_unique_per_project(
    empty_database: DatabaseUrls,
) -> None:
    engine = sa.create_engine(empty_database.sqlalchemy, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            command.upgrade(_alembic_config(conn), "0005")
            conn.commit()
    finally:
        engine.dispose()
    org, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    titles = [(first, "Tour"), (first, "Tour"), (first, "Ünïcode café"), (first, "???")]
    titles += [(second, "Tour")]
    with psycopg.connect(empty_database.libpq) as conn:
        conn.execute("INSERT INTO organizations (id, name, slug) VALUES (%s, 'Org', 'org')", (org,))
        for project in (first, second):
            conn.execute(
                "INSERT INTO projects (id, org_id, name, slug) VALUES (%s, %s, 'P', %s)",
                (project, org, f"p-{project}"),
            )
        for minute, (project, title) in enumerate(titles):
            conn.execute(
                "INSERT INTO videos (org_id, project_id, title, created_at) "
                "VALUES (%s, %s, %s, now() + make_interval(mins => %s))",
                (org, project, title, minute),
            )
    migrate(empty_database)
    with psycopg.connect(empty_database.libpq) as conn:
        rows = conn.execute("SELECT project_id, slug FROM videos ORDER BY created_at").fetchall()
        assert rows == [
            (first, "tour"),
            (first, "tour-2"),
            (first, "unicode-cafe"),
            (first, "video"),
            (second, "tour"),
        ]
        with pytest.raises(errors.UniqueViolation):
            conn.execute(
                "INSERT INTO videos (org_id, project_id, title, slug) "
                "VALUES (%s, %s, 'Again', 'tour')",
                (org, first),
            )
        conn.rollback()
        # rows written by other means than Reeldocs still get a slug of the right shape
        default = conn.execute(
            "INSERT INTO videos (org_id, project_id, title) VALUES (%s, %s, 'SQL') RETURNING slug",
            (org, first),
        ).fetchone()
        assert default is not None and default[0].startswith("video-")
