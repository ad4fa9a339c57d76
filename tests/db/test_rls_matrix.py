"""Row-level security, proved with raw SQL under the app role and no app-level checks.

Two organisations, A and B, each with one row in every tenant table. Every actor
runs SELECT, INSERT, UPDATE and DELETE with no org filter on every table, the way a
request with a forgotten WHERE clause would, and the database alone must allow
exactly what the actor's role may do:

- members of an organisation read its rows;
- owners and editors insert, update and delete projects, videos, jobs, docs and glossaries;
- viewers only read; people outside the organisation see and change nothing;
- only owners change the organisation and its members; nobody creates one
  (sign-up does that through the service role);
- users see themselves and the people they share an organisation with, and change
  only their own name; API tokens are their owner's alone;
- job events are read by the organisation's members and written by the service role
  only: the app role may not insert, update or delete them at all;
- article revisions are read by members and added by owners and editors, as themselves:
  nobody changes or deletes one through the app role;
- webhook endpoints are seen, added and deleted by owners and editors only (viewers see
  none), and changed by nobody; their deliveries are seen by owners and editors and
  written by the service role only.
- the docs sites' anonymous readers (their own role, reeldocs_public) read org A's
  project, whose docs are public, its published video and that video's current docs, and
  nothing of org B, whose project is private though its video is published; they may
  read no other table at all, and change nothing anywhere.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from psycopg import errors

from reeldocs.core.db import APP_ROLE, PUBLIC_ROLE
from tests.db.conftest import acting_as

ORGS = ("A", "B")
MEMBERSHIPS: dict[tuple[str, str], str] = {
    ("ownerA", "A"): "owner",
    ("editorA", "A"): "editor",
    ("viewerA", "A"): "viewer",
    ("editorAB", "A"): "editor",
    ("editorAB", "B"): "editor",
    ("outsider", "B"): "editor",
    ("ownerB", "B"): "owner",
}
MEMBER_USERS = ("ownerA", "editorA", "viewerA", "editorAB", "outsider", "ownerB")
# invitee belongs to no organisation: owners add them in the INSERT checks.
ALL_USERS = (*MEMBER_USERS, "invitee")
ANONYMOUS = "anonymous"  # a transaction whose app.user_id is empty
PUBLIC = "public"  # a docs site's reader, as the anonymous readers' role
ACTORS = (*MEMBER_USERS, ANONYMOUS, PUBLIC)
# Org A's project has public docs, org B's not; both videos are published with docs.
PUBLIC_ORGS = ("A",)
# What the anonymous readers' role may read at all (of rows a docs site shows).
PUBLIC_TABLES = (
    "organizations",
    "projects",
    "videos",
    "processing_jobs",
    "chapters",
    "articles",
    "screenshots",
    "subtitles",
)

CONTENT_TABLES = (
    "projects",
    "videos",
    "processing_jobs",
    "video_segments",
    "chapters",
    "articles",
    "subtitles",
    "screenshots",
    "glossary_terms",
)
# Each organisation has one pending invitation, addressed to someone outside it: owners
# manage them, the addressee sees and declines theirs, nobody else sees them.
INVITATION_ADDRESSEE = {"A": "outsider", "B": "viewerA"}
# Written by the service role alone; members read them.
SERVICE_WRITTEN_TABLES = ("job_events",)
# History: writers add rows (as themselves), nobody changes or removes one.
APPEND_ONLY_TABLES = ("article_revisions",)
# Owners and editors only, viewers nothing: endpoints they add and delete (never change),
# deliveries they read (the service role writes them).
WEBHOOK_ENDPOINTS = "webhook_endpoints"
WEBHOOK_DELIVERIES = "webhook_deliveries"
WRITERS_ONLY_TABLES = (WEBHOOK_ENDPOINTS, WEBHOOK_DELIVERIES)
# What the app role has no grant for at all.
UNGRANTED = {
    **{
        (table, op): True
        for table in SERVICE_WRITTEN_TABLES
        for op in ("insert", "update", "delete")
    },
    **{(table, op): True for table in APPEND_ONLY_TABLES for op in ("update", "delete")},
    (WEBHOOK_ENDPOINTS, "update"): True,
    **{(WEBHOOK_DELIVERIES, op): True for op in ("insert", "update", "delete")},
}
ORG_TABLES = (
    "organizations",
    "organization_members",
    *CONTENT_TABLES,
    "invitations",
    *SERVICE_WRITTEN_TABLES,
    *APPEND_ONLY_TABLES,
    *WRITERS_ONLY_TABLES,
)
TABLES = (*ORG_TABLES, "users", "api_tokens")
OPERATIONS = ("select", "insert", "update", "delete")

# How a row is named in the checks, and a column an UPDATE can set to itself.
ROW_KEY = {"organization_members": "org_id::text || '/' || user_id::text"}
UPDATED_COLUMN = {
    "organizations": "name",
    "organization_members": "role",
    "projects": "name",
    "videos": "title",
    "processing_jobs": "step_message",
    "video_segments": "spoken_content",
    "chapters": "title",
    "articles": "title",
    "subtitles": "language",
    "screenshots": "name",
    "glossary_terms": "term",
    "invitations": "role",
    "job_events": "type",
    "article_revisions": "title",
    "webhook_endpoints": "url",
    "webhook_deliveries": "status",
    "users": "name",
    "api_tokens": "name",
}

INSERT_SQL = {
    "organizations": (
        "INSERT INTO organizations (id, name, slug) VALUES (%(new_id)s, 'New', %(slug)s)"
    ),
    "organization_members": (
        "INSERT INTO organization_members (org_id, user_id, role) "
        "VALUES (%(org)s, %(invitee)s, 'viewer')"
    ),
    "projects": (
        "INSERT INTO projects (id, org_id, name, slug) "
        "VALUES (%(new_id)s, %(org)s, 'New', %(slug)s)"
    ),
    "videos": "INSERT INTO videos (org_id, project_id, title) VALUES (%(org)s, %(project)s, 'New')",
    "processing_jobs": (
        "INSERT INTO processing_jobs (org_id, project_id, video_id, languages, run_id, "
        "video_status_before, retry_of) VALUES (%(org)s, %(project)s, %(video)s, ARRAY['en'], "
        "gen_random_uuid(), 'uploaded', %(job)s)"
    ),
    "video_segments": (
        'INSERT INTO video_segments (org_id, video_id, run_id, "order", start_time, end_time) '
        "VALUES (%(org)s, %(video)s, gen_random_uuid(), 0, 0, 1)"
    ),
    "chapters": (
        'INSERT INTO chapters (org_id, video_id, run_id, language, "order", title) '
        "VALUES (%(org)s, %(video)s, gen_random_uuid(), 'en', 0, 'New')"
    ),
    "articles": (
        "INSERT INTO articles (org_id, project_id, video_id, chapter_id, run_id, language, "
        '"order", title, slug, content_markdown) VALUES (%(org)s, %(project)s, %(video)s, '
        "%(chapter)s, gen_random_uuid(), 'en', 0, 'New', %(slug)s, '# New')"
    ),
    "subtitles": (
        "INSERT INTO subtitles (org_id, video_id, run_id, language, cues) "
        "VALUES (%(org)s, %(video)s, gen_random_uuid(), 'en', '[]')"
    ),
    "screenshots": (
        "INSERT INTO screenshots (org_id, video_id, run_id, name, time_seconds, storage_path) "
        "VALUES (%(org)s, %(video)s, gen_random_uuid(), 'shot.png', 1, 'x/shot.png')"
    ),
    "glossary_terms": (
        "INSERT INTO glossary_terms (org_id, project_id, term, translations) "
        """VALUES (%(org)s, %(project)s, %(slug)s, '{"es": "nuevo"}')"""
    ),
    "invitations": (
        "INSERT INTO invitations (org_id, email, role) "
        "VALUES (%(org)s, %(slug)s || '@example.com', 'viewer')"
    ),
    "job_events": (
        "INSERT INTO job_events (org_id, project_id, job_id, type, payload) "
        "VALUES (%(org)s, %(project)s, %(job_id)s, 'job.failed', '{}')"
    ),
    "article_revisions": (
        "INSERT INTO article_revisions (org_id, article_id, revision, source, author_id, title, "
        "content_markdown) VALUES (%(org)s, %(article)s, 2 + floor(random() * 1e6)::int, "
        "'edited', %(author)s, 'New', '# New')"
    ),
    "webhook_endpoints": (
        "INSERT INTO webhook_endpoints (org_id, project_id, url, events, secret) VALUES "
        "(%(org)s, %(project)s, 'https://example.com/hooks', ARRAY['job.failed'], 'whsec_new')"
    ),
    "webhook_deliveries": (
        "INSERT INTO webhook_deliveries (org_id, endpoint_id, event_id, job_id, event, "
        "message_id) VALUES (%(org)s, %(endpoint)s, %(event)s, %(job_id)s, 'job.failed', "
        "%(slug)s)"
    ),
    "users": "INSERT INTO users (email, password_hash) VALUES (%(email)s, 'x')",
    "api_tokens": (
        "INSERT INTO api_tokens (user_id, name, token_hash) VALUES (%(user)s, 'New', %(slug)s)"
    ),
}


@dataclass
class Tenancy:
    """The ids of everything the fixture created, and what each actor may touch."""

    users: dict[str, uuid.UUID] = field(default_factory=dict)
    orgs: dict[str, uuid.UUID] = field(default_factory=dict)
    # org name -> table -> id of that org's row (job events have bigint ids)
    rows: dict[str, dict[str, uuid.UUID | int]] = field(default_factory=dict)
    tokens: dict[str, uuid.UUID] = field(default_factory=dict)

    def user_id(self, actor: str) -> uuid.UUID | None:
        return None if actor in (ANONYMOUS, PUBLIC) else self.users[actor]

    def keys(self, table: str, org: str) -> set[str]:
        """The fixture rows of an org-scoped table that belong to one organisation."""
        if table == "organizations":
            return {str(self.orgs[org])}
        if table == "organization_members":
            return {
                f"{self.orgs[org]}/{self.users[user]}"
                for (user, member_org) in MEMBERSHIPS
                if member_org == org
            }
        return {str(self.rows[org][table])}

    def all_keys(self, table: str) -> set[str]:
        if table == "users":
            return {str(user) for user in self.users.values()}
        if table == "api_tokens":
            return {str(token) for token in self.tokens.values()}
        return set().union(*(self.keys(table, org) for org in ORGS))

    def insert_params(self, org: str, **overrides: Any) -> dict[str, Any]:
        rows = self.rows[org]
        params: dict[str, Any] = {
            "new_id": uuid.uuid4(),
            "slug": f"new-{secrets.token_hex(6)}",
            "org": self.orgs[org],
            "project": rows["projects"],
            "video": rows["videos"],
            "chapter": rows["chapters"],
            "article": rows["articles"],
            "author": None,
            "job": None,
            "job_id": rows["processing_jobs"],
            "endpoint": rows["webhook_endpoints"],
            "event": rows["job_events"],
            "invitee": self.users["invitee"],
        }
        params.update(overrides)
        return params


def role_in(actor: str, org: str) -> str | None:
    return MEMBERSHIPS.get((actor, org))


def may(role: str | None, table: str, operation: str) -> bool:
    """The rules the policies must implement, for org-scoped tables."""
    if role is None:
        return False
    if table == "invitations":  # owners manage them (addressees: see _addressee)
        return role == "owner"
    if table in WRITERS_ONLY_TABLES:
        return role in ("owner", "editor") and not UNGRANTED.get((table, operation), False)
    if operation == "select":
        return True
    if table in SERVICE_WRITTEN_TABLES:
        return False
    if table in APPEND_ONLY_TABLES:
        return operation == "insert" and role in ("owner", "editor")
    if table == "organizations":
        return operation != "insert" and role == "owner"
    if table in ("organization_members", "invitations"):
        return role == "owner"
    return role in ("owner", "editor")


def shares_an_org(actor: str, other: str) -> bool:
    return any(role_in(actor, org) and role_in(other, org) for org in ORGS)


def role_of(actor: str) -> str:
    return PUBLIC_ROLE if actor == PUBLIC else APP_ROLE


def expected_rows(tenancy: Tenancy, actor: str, table: str, operation: str) -> set[str]:
    """Fixture rows the actor's SELECT / UPDATE / DELETE with no filter must reach."""
    if actor == ANONYMOUS:
        return set()
    if actor == PUBLIC:
        return set().union(*(tenancy.keys(table, org) for org in PUBLIC_ORGS))
    if table == "users":
        if operation == "select":
            return {
                str(tenancy.users[u]) for u in ALL_USERS if u == actor or shares_an_org(actor, u)
            }
        return {str(tenancy.users[actor])}
    if table == "api_tokens":
        return {str(tenancy.tokens[actor])}
    return set().union(
        *(
            tenancy.keys(table, org)
            for org in ORGS
            if may(role_in(actor, org), table, operation)
            or (table == "invitations" and _addressee(actor, org, operation))
        )
    )


def _addressee(actor: str, org: str, operation: str) -> bool:
    """The invited person reads and declines (deletes) their own invitation."""
    return INVITATION_ADDRESSEE[org] == actor and operation in ("select", "delete")


def _create_tenancy(conn: psycopg.Connection) -> Tenancy:
    tenancy = Tenancy()
    run = secrets.token_hex(4)
    for name in ALL_USERS:
        tenancy.users[name] = uuid.uuid4()
        conn.execute(
            "INSERT INTO users (id, email, password_hash) VALUES (%s, %s, 'not a real hash')",
            (tenancy.users[name], f"{name.lower()}-{run}@example.com"),
        )
        tenancy.tokens[name] = uuid.uuid4()
        conn.execute(
            "INSERT INTO api_tokens (id, user_id, name, token_hash) VALUES (%s, %s, 'ci', %s)",
            (tenancy.tokens[name], tenancy.users[name], f"hash-{name}-{run}"),
        )
    for org in ORGS:
        ids: dict[str, uuid.UUID | int] = {table: uuid.uuid4() for table in CONTENT_TABLES}
        org_id = tenancy.orgs[org] = uuid.uuid4()
        tenancy.rows[org] = ids
        conn.execute(
            "INSERT INTO organizations (id, name, slug) VALUES (%s, %s, %s)",
            (org_id, f"Org {org}", f"org-{org.lower()}-{run}"),
        )
        conn.execute(
            "INSERT INTO projects (id, org_id, name, slug, public_docs) "
            "VALUES (%s, %s, 'Guides', %s, %s)",
            (ids["projects"], org_id, f"guides-{org.lower()}", org in PUBLIC_ORGS),
        )
        # The video's docs are the rows of this run (the job's, the chapter's, …).
        common = {
            "org": org_id,
            "project": ids["projects"],
            "video": ids["videos"],
            "run": uuid.uuid4(),
        }
        conn.execute(
            "INSERT INTO videos (id, org_id, project_id, title, status, docs_run_id, published) "
            "VALUES (%(id)s, %(org)s, %(project)s, 'Tour', 'ready', %(run)s, true)",
            {**common, "id": ids["videos"]},
        )
        conn.execute(
            "INSERT INTO processing_jobs (id, org_id, project_id, video_id, status, languages, "
            "run_id, video_status_before) VALUES (%(id)s, %(org)s, %(project)s, %(video)s, "
            "'completed', ARRAY['en'], %(run)s, 'uploaded')",
            {**common, "id": ids["processing_jobs"]},
        )
        event = conn.execute(
            "INSERT INTO job_events (org_id, project_id, job_id, type, payload) "
            "VALUES (%(org)s, %(project)s, %(id)s, 'job.completed', '{}') RETURNING id",
            {**common, "id": ids["processing_jobs"]},
        ).fetchone()
        assert event is not None
        ids["job_events"] = int(event[0])
        ids["webhook_endpoints"] = uuid.uuid4()
        conn.execute(
            "INSERT INTO webhook_endpoints (id, org_id, project_id, url, events, secret) "
            "VALUES (%(id)s, %(org)s, %(project)s, 'https://example.com/hooks', "
            "ARRAY['job.completed'], 'whsec_c2VjcmV0')",
            {**common, "id": ids["webhook_endpoints"]},
        )
        ids["webhook_deliveries"] = uuid.uuid4()
        conn.execute(
            "INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_id, job_id, event, "
            "message_id) VALUES (%(id)s, %(org)s, %(endpoint)s, %(event)s, %(job)s, "
            "'job.completed', %(message)s)",
            {
                **common,
                "id": ids["webhook_deliveries"],
                "endpoint": ids["webhook_endpoints"],
                "event": ids["job_events"],
                "job": ids["processing_jobs"],
                "message": f"msg_{org}_{run}",
            },
        )
        conn.execute(
            'INSERT INTO video_segments (id, org_id, video_id, run_id, "order", start_time, '
            "end_time, spoken_content) VALUES (%(id)s, %(org)s, %(video)s, gen_random_uuid(), "
            "0, 0, 2.5, 'Welcome')",
            {**common, "id": ids["video_segments"]},
        )
        conn.execute(
            'INSERT INTO chapters (id, org_id, video_id, run_id, language, "order", title) '
            "VALUES (%(id)s, %(org)s, %(video)s, %(run)s, 'en', 0, 'Intro')",
            {**common, "id": ids["chapters"]},
        )
        conn.execute(
            "INSERT INTO articles (id, org_id, project_id, video_id, chapter_id, run_id, "
            'language, "order", title, slug, content_markdown, status) VALUES (%(id)s, '
            "%(org)s, %(project)s, %(video)s, %(chapter)s, %(run)s, 'en', 0, 'Intro', "
            "'intro', '# Intro', 'published')",
            {**common, "id": ids["articles"], "chapter": ids["chapters"]},
        )
        ids["article_revisions"] = uuid.uuid4()
        conn.execute(
            "INSERT INTO article_revisions (id, org_id, article_id, revision, source, title, "
            "content_markdown) VALUES (%(id)s, %(org)s, %(article)s, 1, 'generated', 'Intro', "
            "'# Intro')",
            {**common, "id": ids["article_revisions"], "article": ids["articles"]},
        )
        conn.execute(
            "INSERT INTO subtitles (id, org_id, video_id, run_id, language, cues) "
            "VALUES (%(id)s, %(org)s, %(video)s, %(run)s, 'en', '[]')",
            {**common, "id": ids["subtitles"]},
        )
        conn.execute(
            "INSERT INTO screenshots (id, org_id, video_id, run_id, name, time_seconds, "
            "storage_path) VALUES (%(id)s, %(org)s, %(video)s, %(run)s, 'intro.png', "
            "1, 'shots/intro.png')",
            {**common, "id": ids["screenshots"]},
        )
        conn.execute(
            "INSERT INTO glossary_terms (id, org_id, project_id, term, translations) "
            """VALUES (%(id)s, %(org)s, %(project)s, 'Acme Uploader', '{"es": "Acme"}')""",
            {**common, "id": ids["glossary_terms"]},
        )
    for (user, org), role in MEMBERSHIPS.items():
        conn.execute(
            "INSERT INTO organization_members (org_id, user_id, role) VALUES (%s, %s, %s)",
            (tenancy.orgs[org], tenancy.users[user], role),
        )
    for org, addressee in INVITATION_ADDRESSEE.items():
        tenancy.rows[org]["invitations"] = uuid.uuid4()
        conn.execute(
            "INSERT INTO invitations (id, org_id, email, role) "
            "SELECT %s, %s, email, 'editor' FROM users WHERE id = %s",
            (tenancy.rows[org]["invitations"], tenancy.orgs[org], tenancy.users[addressee]),
        )
    return tenancy


@pytest.fixture(scope="module")
def tenancy(service_conn: psycopg.Connection) -> Iterator[Tenancy]:
    """Both organisations, created by the service role and removed afterwards."""
    with service_conn.transaction():
        created = _create_tenancy(service_conn)
    yield created
    with service_conn.transaction():
        service_conn.execute(
            "DELETE FROM organizations WHERE id = ANY(%s)", (list(created.orgs.values()),)
        )
        service_conn.execute(
            "DELETE FROM users WHERE id = ANY(%s)", (list(created.users.values()),)
        )


def _key(table: str) -> str:
    return ROW_KEY.get(table, "id::text")


def _reached(conn: psycopg.Connection, statement: str, tenancy: Tenancy, table: str) -> set[str]:
    """Run a statement that returns row keys; keep the keys of this module's rows."""
    return {row[0] for row in conn.execute(statement)} & tenancy.all_keys(table)


def _refused(conn: psycopg.Connection, statement: str, params: Any = None) -> None:
    with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
        with conn.transaction():
            conn.execute(statement, params)


def _check_public_reader(
    conn: psycopg.Connection, tenancy: Tenancy, table: str, operation: str
) -> None:
    """The anonymous readers' role reads what a docs site shows, and changes nothing."""
    if operation == "select" and table in PUBLIC_TABLES:
        seen = _reached(conn, f"SELECT {_key(table)} FROM {table}", tenancy, table)
        assert seen == expected_rows(tenancy, PUBLIC, table, "select")
        org_column = "id" if table == "organizations" else "org_id"
        visible = {row[0] for row in conn.execute(f"SELECT DISTINCT {org_column} FROM {table}")}
        assert tenancy.orgs["B"] not in visible
        return
    if operation == "select":
        _refused(conn, f"SELECT count(*) FROM {table}")
    elif operation == "insert":
        params = tenancy.insert_params("A", user=tenancy.users["ownerA"])
        params["email"] = f"new-{secrets.token_hex(4)}@example.com"
        _refused(conn, INSERT_SQL[table], params)
    elif operation == "update":
        column = UPDATED_COLUMN[table]
        _refused(conn, f"UPDATE {table} SET {column} = {column}")
    else:
        _refused(conn, f"DELETE FROM {table}")


def _check_select(conn: psycopg.Connection, tenancy: Tenancy, actor: str, table: str) -> None:
    seen = _reached(conn, f"SELECT {_key(table)} FROM {table}", tenancy, table)
    assert seen == expected_rows(tenancy, actor, table, "select")
    if table in ORG_TABLES:
        # Whatever else the database holds (other tests' data), nothing from an
        # organisation the actor is not in may show.
        org_column = "id" if table == "organizations" else "org_id"
        visible_orgs = {
            row[0] for row in conn.execute(f"SELECT DISTINCT {org_column} FROM {table}")
        }
        member_of = {tenancy.orgs[org] for org in ORGS if role_in(actor, org)}
        if table == "invitations":
            member_of |= {tenancy.orgs[o] for o in ORGS if INVITATION_ADDRESSEE[o] == actor}
        assert visible_orgs <= member_of


def _check_write(
    conn: psycopg.Connection, tenancy: Tenancy, actor: str, table: str, operation: str
) -> None:
    if table == "users" and operation == "delete":
        # Accounts are deleted by the service role only; the app role has no grant.
        with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
            with conn.transaction():
                conn.execute("DELETE FROM users")
        return
    if UNGRANTED.get((table, operation), False):
        statement = (
            f"UPDATE {table} SET {UPDATED_COLUMN[table]} = {UPDATED_COLUMN[table]}"
            if operation == "update"
            else f"DELETE FROM {table}"
        )
        with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
            with conn.transaction():
                conn.execute(statement)
        return
    if operation == "update":
        column = UPDATED_COLUMN[table]
        statement = f"UPDATE {table} SET {column} = {column} RETURNING {_key(table)}"
    else:
        statement = f"DELETE FROM {table} RETURNING {_key(table)}"
    with conn.transaction(force_rollback=True):
        reached = _reached(conn, statement, tenancy, table)
    assert reached == expected_rows(tenancy, actor, table, operation)


def _insert_targets(
    tenancy: Tenancy, actor: str, table: str
) -> list[tuple[str, dict[str, Any], bool]]:
    """(label, parameters, allowed) for each row the actor tries to create."""
    if table == "api_tokens":
        owners = [actor] if actor != ANONYMOUS else []
        owners.append("ownerA" if actor == "ownerB" else "ownerB")
        return [
            (
                f"token of {owner}",
                tenancy.insert_params("A", user=tenancy.users[owner]),
                owner == actor,
            )
            for owner in owners
        ]
    if table in APPEND_ONLY_TABLES:
        # A revision names its author: the actor, never someone else.
        author = tenancy.user_id(actor)
        return [
            (
                f"row in org {org}",
                tenancy.insert_params(org, author=author),
                may(role_in(actor, org), table, "insert"),
            )
            for org in ORGS
        ]
    return [
        (f"row in org {org}", tenancy.insert_params(org), may(role_in(actor, org), table, "insert"))
        for org in ORGS
    ]


def _check_insert(conn: psycopg.Connection, tenancy: Tenancy, actor: str, table: str) -> None:
    if table == "users":
        # Accounts are created at sign-up by the service role; the app role has no grant.
        with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
            with conn.transaction():
                conn.execute(
                    INSERT_SQL["users"], {"email": f"new-{secrets.token_hex(4)}@example.com"}
                )
        return
    if UNGRANTED.get((table, "insert"), False):
        with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
            with conn.transaction():
                conn.execute(INSERT_SQL[table], tenancy.insert_params("A"))
        return
    for label, params, allowed in _insert_targets(tenancy, actor, table):
        if allowed:
            with conn.transaction(force_rollback=True):
                assert conn.execute(INSERT_SQL[table], params).rowcount == 1, label
        else:
            with pytest.raises(errors.InsufficientPrivilege, match="row-level security") as refused:
                with conn.transaction():
                    conn.execute(INSERT_SQL[table], params)
            assert table in str(refused.value), label


MATRIX = [
    pytest.param(actor, table, operation, id=f"{actor}-{table}-{operation}")
    for actor in ACTORS
    for table in TABLES
    for operation in OPERATIONS
]


@pytest.mark.parametrize(("actor", "table", "operation"), MATRIX)
def test_database_allows_exactly_what_the_role_may_do(
    service_conn: psycopg.Connection, tenancy: Tenancy, actor: str, table: str, operation: str
) -> None:
    with acting_as(service_conn, tenancy.user_id(actor), role_of(actor)):
        if actor == PUBLIC:
            _check_public_reader(service_conn, tenancy, table, operation)
        elif operation == "select":
            _check_select(service_conn, tenancy, actor, table)
        elif operation == "insert":
            _check_insert(service_conn, tenancy, actor, table)
        else:
            _check_write(service_conn, tenancy, actor, table, operation)


# Each case: table, the parameter pointed at org B's row, while org_id says org A.
CROSS_ORG_REFERENCES = [
    ("videos", "project"),
    ("processing_jobs", "project"),
    ("processing_jobs", "video"),
    ("processing_jobs", "job"),
    ("video_segments", "video"),
    ("chapters", "video"),
    ("articles", "project"),
    ("articles", "video"),
    ("articles", "chapter"),
    ("subtitles", "video"),
    ("screenshots", "video"),
    ("glossary_terms", "project"),
    ("article_revisions", "article"),
    ("webhook_endpoints", "project"),
]
TABLE_OF_PARAMETER = {
    "project": "projects",
    "video": "videos",
    "job": "processing_jobs",
    "chapter": "chapters",
    "article": "articles",
}


@pytest.mark.parametrize("actor", ["editorA", "editorAB"])
@pytest.mark.parametrize(
    ("table", "parameter"),
    [pytest.param(t, p, id=f"{t}.{p}") for t, p in CROSS_ORG_REFERENCES],
)
def test_writer_cannot_reference_another_orgs_rows(
    service_conn: psycopg.Connection, tenancy: Tenancy, actor: str, table: str, parameter: str
) -> None:
    """editorAB may write in both orgs, so only the composite foreign keys stand in the way."""
    foreign = tenancy.rows["B"][TABLE_OF_PARAMETER[parameter]]
    params = tenancy.insert_params("A", author=tenancy.user_id(actor), **{parameter: foreign})
    with acting_as(service_conn, tenancy.user_id(actor)):
        # The same row pointing at org A's own objects is accepted: the refusal is the reference.
        with service_conn.transaction(force_rollback=True):
            own = {**params, parameter: tenancy.insert_params("A")[parameter]}
            if parameter == "job":
                own["job"] = tenancy.rows["A"]["processing_jobs"]
            service_conn.execute(INSERT_SQL[table], own)
        with pytest.raises(errors.ForeignKeyViolation):
            with service_conn.transaction():
                service_conn.execute(INSERT_SQL[table], params)


@pytest.mark.parametrize(
    ("actor", "refusal"),
    [
        pytest.param("editorA", errors.InsufficientPrivilege, id="editorA-not-in-B"),
        pytest.param("editorAB", errors.ForeignKeyViolation, id="editorAB-in-both"),
    ],
)
@pytest.mark.parametrize("table", CONTENT_TABLES)
def test_writer_cannot_move_rows_to_another_org(
    service_conn: psycopg.Connection,
    tenancy: Tenancy,
    actor: str,
    refusal: type[Exception],
    table: str,
) -> None:
    with acting_as(service_conn, tenancy.user_id(actor)):
        with pytest.raises(refusal):
            with service_conn.transaction():
                service_conn.execute(
                    f"UPDATE {table} SET org_id = %s WHERE id = %s",
                    (tenancy.orgs["B"], tenancy.rows["A"][table]),
                )


@pytest.mark.parametrize("author", ["ownerA", None], ids=["another-member", "nobody"])
def test_a_revision_names_its_writer_as_author(
    service_conn: psycopg.Connection, tenancy: Tenancy, author: str | None
) -> None:
    """An editor cannot pass a revision off as someone else's, nor as a job's."""
    params = tenancy.insert_params("A", author=author and tenancy.users[author])
    with acting_as(service_conn, tenancy.users["editorA"]):
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            with service_conn.transaction():
                service_conn.execute(INSERT_SQL["article_revisions"], params)


def test_owner_cannot_move_a_membership_to_an_org_they_do_not_own(
    service_conn: psycopg.Connection, tenancy: Tenancy
) -> None:
    with acting_as(service_conn, tenancy.users["ownerA"]):
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            with service_conn.transaction():
                service_conn.execute(
                    "UPDATE organization_members SET org_id = %s "
                    "WHERE org_id = %s AND user_id = %s",
                    (tenancy.orgs["B"], tenancy.orgs["A"], tenancy.users["viewerA"]),
                )


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT count(*) FROM user_sessions",
        "SELECT count(*) FROM login_failures",
        "SELECT count(*) FROM alembic_version",
        "SELECT count(*) FROM procrastinate_jobs",
        "SELECT count(*) FROM procrastinate_workers",
        "SELECT count(*) FROM procrastinate_events",
        "SELECT count(*) FROM procrastinate_periodic_defers",
        "SELECT password_hash FROM users",
        "SELECT token_hash FROM user_sessions",
        "SELECT count(*) FROM metric_counters",
        "SELECT secret FROM webhook_endpoints",
    ],
)
def test_app_role_cannot_read_service_only_data(
    service_conn: psycopg.Connection, tenancy: Tenancy, statement: str
) -> None:
    with acting_as(service_conn, tenancy.users["ownerA"]):
        with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
            with service_conn.transaction():
                service_conn.execute(statement)
