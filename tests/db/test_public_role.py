"""The docs sites' anonymous readers, proved with raw SQL under their own role.

One team has a public project with a published video whose regeneration is under way (a
second run's draft docs beside its current ones), an unpublished video with docs and a
published video without any; a private project of the same team has a published video;
another team has only a private project. The role must see exactly the public project,
its published video with docs and that video's current run, and of them only the columns
a docs site shows.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
from psycopg import errors

from reeldocs.core.db import PUBLIC_ROLE
from tests.db.conftest import acting_as


@dataclass
class Site:
    ids: dict[str, uuid.UUID] = field(default_factory=dict)

    def __getitem__(self, name: str) -> uuid.UUID:
        return self.ids[name]


def _video(
    conn: psycopg.Connection,
    site: Site,
    name: str,
    *,
    org: str,
    project: str,
    published: bool,
    run: str | None,
) -> None:
    site.ids[name] = uuid.uuid4()
    conn.execute(
        "INSERT INTO videos (id, org_id, project_id, title, status, docs_run_id, published) "
        "VALUES (%s, %s, %s, %s, 'ready', %s, %s)",
        (site[name], site[org], site[project], name, site.ids.get(run or ""), published),
    )


def _docs(
    conn: psycopg.Connection,
    site: Site,
    video: str,
    run: str,
    *,
    org: str,
    project: str,
    status: str,
    job: str,
) -> None:
    """A run's rows for `video`: its job, a chapter, an article, a screenshot, subtitles."""
    values = {
        "org": site[org],
        "project": site[project],
        "video": site[video],
        "run": site[run],
        "status": status,
        "job": job,
        "slug": f"{run}-{secrets.token_hex(3)}",
    }
    for table in ("processing_jobs", "chapters", "articles", "screenshots", "subtitles"):
        site.ids[f"{run}.{table}"] = uuid.uuid4()
        values[table] = site[f"{run}.{table}"]
    conn.execute(
        "INSERT INTO processing_jobs (id, org_id, project_id, video_id, status, languages, "
        "run_id, video_status_before) VALUES (%(processing_jobs)s, %(org)s, %(project)s, "
        "%(video)s, %(job)s, ARRAY['en'], %(run)s, 'uploaded')",
        values,
    )
    conn.execute(
        'INSERT INTO chapters (id, org_id, video_id, run_id, language, "order", title) '
        "VALUES (%(chapters)s, %(org)s, %(video)s, %(run)s, 'en', 0, 'Intro')",
        values,
    )
    conn.execute(
        "INSERT INTO articles (id, org_id, project_id, video_id, chapter_id, run_id, language, "
        '"order", title, slug, content_markdown, status) VALUES (%(articles)s, %(org)s, '
        "%(project)s, %(video)s, %(chapters)s, %(run)s, 'en', 0, 'Intro', %(slug)s, "
        "'# Intro', %(status)s)",
        values,
    )
    conn.execute(
        "INSERT INTO screenshots (id, org_id, video_id, run_id, name, time_seconds, "
        "storage_path) VALUES (%(screenshots)s, %(org)s, %(video)s, %(run)s, 'a.webp', 1, 'x')",
        values,
    )
    conn.execute(
        "INSERT INTO subtitles (id, org_id, video_id, run_id, language, cues) "
        "VALUES (%(subtitles)s, %(org)s, %(video)s, %(run)s, 'en', '[]')",
        values,
    )


@pytest.fixture(scope="module")
def site(service_conn: psycopg.Connection) -> Iterator[Site]:
    site = Site()
    tag = secrets.token_hex(4)
    for name in ("team", "other_team", "public", "private", "elsewhere"):
        site.ids[name] = uuid.uuid4()
    for name in ("current", "regenerating", "unpublished_docs", "draft_only", "private_docs"):
        site.ids[name] = uuid.uuid4()
    with service_conn.transaction():
        for team in ("team", "other_team"):
            service_conn.execute(
                "INSERT INTO organizations (id, name, slug) VALUES (%s, %s, %s)",
                (site[team], team, f"{team.replace('_', '-')}-{tag}"),
            )
        for project, team, public in (
            ("public", "team", True),
            ("private", "team", False),
            ("elsewhere", "other_team", False),
        ):
            service_conn.execute(
                "INSERT INTO projects (id, org_id, name, slug, public_docs) "
                "VALUES (%s, %s, %s, %s, %s)",
                (site[project], site[team], project, project, public),
            )
        in_public = {"org": "team", "project": "public"}
        _video(service_conn, site, "shown", **in_public, published=True, run="current")
        _docs(
            service_conn, site, "shown", "current", **in_public, status="published", job="completed"
        )
        # Its regeneration, under way: a draft of the next run.
        _docs(
            service_conn,
            site,
            "shown",
            "regenerating",
            **in_public,
            status="draft",
            job="processing",
        )
        _video(
            service_conn, site, "unpublished", **in_public, published=False, run="unpublished_docs"
        )
        _docs(
            service_conn,
            site,
            "unpublished",
            "unpublished_docs",
            **in_public,
            status="published",
            job="completed",
        )
        _video(service_conn, site, "no_docs", **in_public, published=True, run=None)
        _docs(
            service_conn, site, "no_docs", "draft_only", **in_public, status="draft", job="failed"
        )
        in_private = {"org": "team", "project": "private"}
        _video(
            service_conn, site, "private_video", **in_private, published=True, run="private_docs"
        )
        _docs(
            service_conn,
            site,
            "private_video",
            "private_docs",
            **in_private,
            status="published",
            job="completed",
        )
    yield site
    with service_conn.transaction():
        service_conn.execute(
            "DELETE FROM organizations WHERE id = ANY(%s)", ([site["team"], site["other_team"]],)
        )


def _ids(conn: psycopg.Connection, table: str, site: Site) -> set[uuid.UUID]:
    mine = set(site.ids.values())
    return {row[0] for row in conn.execute(f"SELECT id FROM {table}")} & mine


VISIBLE = {
    "organizations": {"team"},
    "projects": {"public"},
    "videos": {"shown"},
    "processing_jobs": {"current.processing_jobs"},
    "chapters": {"current.chapters"},
    "articles": {"current.articles"},
    "screenshots": {"current.screenshots"},
    "subtitles": {"current.subtitles"},
}


@pytest.mark.parametrize("table", sorted(VISIBLE))
def test_readers_see_the_current_docs_of_published_videos_of_public_projects(
    service_conn: psycopg.Connection, site: Site, table: str
) -> None:
    with acting_as(service_conn, None, PUBLIC_ROLE):
        assert _ids(service_conn, table, site) == {site[name] for name in VISIBLE[table]}


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT personal FROM organizations",
        "SELECT created_at FROM organizations",
        "SELECT codecs FROM videos",
        "SELECT status FROM videos",
        "SELECT proposal_markdown FROM articles",
        "SELECT edited FROM articles",
        "SELECT scene_text FROM screenshots",
        "SELECT error_message FROM processing_jobs",
        "SELECT providers FROM processing_jobs",
        "SELECT count(*) FROM video_segments",
        "SELECT count(*) FROM article_revisions",
        "SELECT count(*) FROM glossary_terms",
        "SELECT count(*) FROM organization_members",
        "SELECT count(*) FROM users",
        "SELECT count(*) FROM user_sessions",
        "SELECT count(*) FROM procrastinate_jobs",
    ],
)
def test_readers_cannot_read_what_a_docs_site_does_not_show(
    service_conn: psycopg.Connection, site: Site, statement: str
) -> None:
    with acting_as(service_conn, None, PUBLIC_ROLE):
        with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
            with service_conn.transaction():
                service_conn.execute(statement)


@pytest.mark.parametrize(
    ("change", "gone"),
    [
        pytest.param(
            "UPDATE projects SET public_docs = false WHERE id = %s", "public", id="private"
        ),
        pytest.param(
            "UPDATE videos SET published = false WHERE id = %s", "shown", id="unpublished"
        ),
        pytest.param("DELETE FROM videos WHERE id = %s", "shown", id="deleted"),
    ],
)
def test_nothing_stays_visible_once_private_unpublished_or_deleted(
    service_conn: psycopg.Connection, site: Site, change: str, gone: str
) -> None:
    with service_conn.transaction(force_rollback=True):
        service_conn.execute(change, (site[gone],))
        with acting_as(service_conn, None, PUBLIC_ROLE):
            for table in ("videos", "articles", "chapters", "screenshots", "subtitles"):
                assert _ids(service_conn, table, site) == set(), table


def test_a_completed_regeneration_shows_its_run_instead(
    service_conn: psycopg.Connection, site: Site
) -> None:
    """The swap the pipeline makes when a job completes: the site follows the video."""
    with service_conn.transaction(force_rollback=True):
        service_conn.execute(
            "UPDATE articles SET status = 'published' WHERE run_id = %s", (site["regenerating"],)
        )
        service_conn.execute(
            "UPDATE processing_jobs SET status = 'completed' WHERE run_id = %s",
            (site["regenerating"],),
        )
        service_conn.execute(
            "UPDATE videos SET docs_run_id = %s WHERE id = %s",
            (site["regenerating"], site["shown"]),
        )
        with acting_as(service_conn, None, PUBLIC_ROLE):
            assert _ids(service_conn, "articles", site) == {site["regenerating.articles"]}
            assert _ids(service_conn, "chapters", site) == {site["regenerating.chapters"]}


def test_search_functions_run_as_the_readers_role(
    service_conn: psycopg.Connection, site: Site
) -> None:
    with acting_as(service_conn, None, PUBLIC_ROLE):
        found = service_conn.execute(
            "SELECT id FROM articles WHERE search_vector @@ "
            "websearch_to_tsquery(reeldocs_private.search_config('en'), 'intro')"
        ).fetchall()
        assert {row[0] for row in found} & set(site.ids.values()) == {site["current.articles"]}
