"""Database-level helpers: throwaway databases, and acting as a user under the app role."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from reeldocs.core.db import APP_ROLE, DatabaseUrls


def url_for_database(libpq_url: str, database: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(libpq_url)
    return urlunsplit(parts._replace(path="/" + database))


@contextmanager
def throwaway_database(service_url: str, prefix: str) -> Iterator[DatabaseUrls]:
    """An empty database on the test server, dropped afterwards (the service role may CREATEDB)."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(service_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    libpq = url_for_database(service_url, name)
    try:
        yield DatabaseUrls("postgresql+psycopg://" + libpq.split("://", 1)[1], libpq)
    finally:
        with psycopg.connect(service_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def acting_as(
    conn: psycopg.Connection, user_id: uuid.UUID | None, role: str = APP_ROLE
) -> Iterator[None]:
    """One transaction run the way a web request runs, rolled back at the end: as the app
    role with `user_id`, or as the docs sites' anonymous readers (PUBLIC_ROLE).

    Before anything else it checks that the role really is one the policies bind:
    not superuser, no BYPASSRLS, owner of nothing, and unable to become another role.
    """
    with conn.transaction(force_rollback=True):
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        conn.execute(
            "SELECT set_config('app.user_id', %s, true)",
            ("" if user_id is None else str(user_id),),
        )
        facts = conn.execute(
            """
            SELECT r.rolname, r.rolsuper, r.rolbypassrls,
                   (SELECT count(*) FROM pg_class c
                      JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.relowner = r.oid AND n.nspname = 'public'),
                   (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid),
                   (SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid)
            FROM pg_roles r WHERE r.rolname = current_user
            """
        ).fetchone()
        assert facts is not None
        name, superuser, bypass_rls, owned_in_public, owned_anywhere, memberships = facts
        assert name == role
        assert superuser is False, f"{role} must not be a superuser"
        assert bypass_rls is False, f"{role} must not bypass row-level security"
        assert owned_in_public == 0, f"{role} must own no table in public"
        assert owned_anywhere == 0, f"{role} must own no relation at all"
        assert memberships == 0, f"{role} must not be able to SET ROLE to another role"
        yield


@pytest.fixture(scope="module")
def service_conn(db_url: str) -> Iterator[psycopg.Connection]:
    """A connection as the service role (tables' owner), in autocommit mode."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn
