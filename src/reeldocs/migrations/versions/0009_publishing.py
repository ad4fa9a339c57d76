"""Publishing: a project's docs site can be public, each video published on its own, and
anonymous readers get a database role of their own whose policies show them exactly what
is published. Articles get a full-text search vector in their language.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The role the docs site's anonymous readers run as (SET LOCAL ROLE per transaction). Like
# reeldocs_app it owns nothing, is not superuser and has no BYPASSRLS; unlike it, it may
# only read, and only what is published.
PUBLIC_ROLE = "reeldocs_public"
APP_ROLE = "reeldocs_app"

ROLE = f"""
DO $$
DECLARE
    may_switch boolean;
BEGIN
    -- Roles belong to the cluster: another database on the same server may have made it.
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{PUBLIC_ROLE}') THEN
        CREATE ROLE {PUBLIC_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
    END IF;
    -- PostgreSQL 16 separates membership from the right to SET ROLE (see 0001).
    IF current_setting('server_version_num')::int >= 160000 THEN
        may_switch := pg_has_role(current_user, '{PUBLIC_ROLE}', 'SET');
    ELSE
        may_switch := pg_has_role(current_user, '{PUBLIC_ROLE}', 'MEMBER');
    END IF;
    IF NOT may_switch THEN
        BEGIN
            EXECUTE format('GRANT {PUBLIC_ROLE} TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE EXCEPTION 'The database role {PUBLIC_ROLE} exists but % may not use it.',
                current_user
                USING HINT = format(
                    'Ask an administrator of the database server to run: '
                    'GRANT {PUBLIC_ROLE} TO %I;', current_user);
        END;
    END IF;
END $$;
"""

# Language codes and the text-search configurations PostgreSQL ships for them. Only those
# the server has are used (Catalan, Armenian, Basque, Hindi and Yiddish came with 16,
# Estonian with 17); any other language is searched word for word (`simple`).
SEARCH_CONFIGURATIONS = {
    "ar": "arabic",
    "hy": "armenian",
    "eu": "basque",
    "ca": "catalan",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "et": "estonian",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "el": "greek",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "ga": "irish",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "no": "norwegian",
    "nb": "norwegian",
    "nn": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "es": "spanish",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}


def _search_config_function(available: set[str]) -> str:
    cases = "\n".join(
        f"        WHEN '{code}' THEN 'pg_catalog.{name}'::regconfig"
        for code, name in sorted(SEARCH_CONFIGURATIONS.items())
        if name in available
    )
    # IMMUTABLE, as the generated column needs: the mapping is fixed when this migration
    # runs, from the configurations the server has then.
    return f"""
CREATE FUNCTION reeldocs_private.search_config(language text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE lower(language)
{cases}
        ELSE 'pg_catalog.simple'::regconfig
    END
$$;
"""


SEARCH = r"""
-- The words of an article's Markdown, without what is not prose: screenshots, moments of
-- the video, link targets, quote markers, Markdown's marks and control characters (the
-- search's highlighted snippets use two of those as markers).
CREATE FUNCTION reeldocs_private.article_text(markdown text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT regexp_replace(
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    regexp_replace(markdown, '!\[[^]]*\]\([^)]*\)', ' ', 'g'),
                    '\[video:[0-9:]+\]', ' ', 'g'),
                '\[([^]]*)\]\([^)]*\)', '\1', 'g'),
            '(^|\n)[ \t]*(>[ \t]*)+', '\1', 'g'),
        '[\x01-\x1f#*_`|~]+', ' ', 'g')
$$;

-- The title weighs more than the text in the ranking.
ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector(reeldocs_private.search_config(language), title), 'A')
    || setweight(
        to_tsvector(
            reeldocs_private.search_config(language),
            reeldocs_private.article_text(content_markdown)
        ),
        'B'
    )
) STORED;
CREATE INDEX articles_search ON articles USING gin (search_vector);
"""

PUBLISHING = f"""
-- A project's docs site answers anyone once its docs are public; until then only its
-- team's members see it. A video shows on it once published.
ALTER TABLE projects ADD COLUMN public_docs boolean NOT NULL DEFAULT false;
ALTER TABLE videos ADD COLUMN published boolean NOT NULL DEFAULT false;
CREATE INDEX videos_published_idx ON videos (project_id) WHERE published;

GRANT USAGE ON SCHEMA public, reeldocs_private TO {PUBLIC_ROLE};
GRANT EXECUTE ON FUNCTION reeldocs_private.search_config(text),
    reeldocs_private.article_text(text) TO {PUBLIC_ROLE};

-- Only the columns a docs site shows or needs to find what it shows.
GRANT SELECT (id, name, slug) ON organizations TO {PUBLIC_ROLE};
GRANT SELECT (id, org_id, name, slug, public_docs, updated_at) ON projects TO {PUBLIC_ROLE};
GRANT SELECT (id, org_id, project_id, title, slug, published, docs_run_id, storage_path,
              mime, size_bytes, duration_seconds, created_at)
    ON videos TO {PUBLIC_ROLE};
GRANT SELECT (id, org_id, video_id, run_id, status, languages, created_at)
    ON processing_jobs TO {PUBLIC_ROLE};
GRANT SELECT (id, org_id, video_id, run_id, language, "order", title, start_time)
    ON chapters TO {PUBLIC_ROLE};
GRANT SELECT (id, org_id, project_id, video_id, chapter_id, run_id, language, "order", title,
              slug, content_markdown, status, version, updated_at, search_vector)
    ON articles TO {PUBLIC_ROLE};
GRANT SELECT (id, org_id, video_id, run_id, name, time_seconds, storage_path)
    ON screenshots TO {PUBLIC_ROLE};
GRANT SELECT (id, org_id, video_id, run_id, language, cues, created_at)
    ON subtitles TO {PUBLIC_ROLE};

-- What anonymous readers see: public projects, their published videos that have docs, and
-- those videos' current docs (the run the video points at: a regeneration in progress
-- writes another run, shown only once it completes). Each policy asks the one above it,
-- whose own policy applies in turn.
CREATE POLICY projects_public_read ON projects FOR SELECT TO {PUBLIC_ROLE}
    USING (public_docs);
CREATE POLICY organizations_public_read ON organizations FOR SELECT TO {PUBLIC_ROLE}
    USING (EXISTS (SELECT 1 FROM projects p WHERE p.org_id = organizations.id));
CREATE POLICY videos_public_read ON videos FOR SELECT TO {PUBLIC_ROLE}
    USING (
        published AND docs_run_id IS NOT NULL
        AND EXISTS (SELECT 1 FROM projects p WHERE p.id = videos.project_id)
    );
CREATE POLICY processing_jobs_public_read ON processing_jobs FOR SELECT TO {PUBLIC_ROLE}
    USING (
        status = 'completed'
        AND EXISTS (
            SELECT 1 FROM videos v
            WHERE v.id = processing_jobs.video_id AND v.docs_run_id = processing_jobs.run_id
        )
    );
CREATE POLICY articles_public_read ON articles FOR SELECT TO {PUBLIC_ROLE}
    USING (
        status = 'published'
        AND EXISTS (
            SELECT 1 FROM videos v
            WHERE v.id = articles.video_id AND v.docs_run_id = articles.run_id
        )
    );
"""

RUN_TABLES = ("chapters", "screenshots", "subtitles")


def _run_policies() -> str:
    return "\n".join(
        f"""
CREATE POLICY {table}_public_read ON {table} FOR SELECT TO {PUBLIC_ROLE}
    USING (
        EXISTS (
            SELECT 1 FROM videos v
            WHERE v.id = {table}.video_id AND v.docs_run_id = {table}.run_id
        )
    );
"""
        for table in RUN_TABLES
    )


READ_TABLES = (
    "organizations",
    "projects",
    "videos",
    "processing_jobs",
    "chapters",
    "articles",
    "screenshots",
    "subtitles",
)


def _members_policies_for(role: str) -> str:
    # The members' read policies were made for every role (`TO public`); each role now has
    # its own, so that checking an anonymous reader's rows never asks about a membership
    # they cannot have (it halved the time of a search over 5,000 articles).
    return "\n".join(f"ALTER POLICY {table}_read ON {table} TO {role};" for table in READ_TABLES)


def upgrade() -> None:
    conn = op.get_bind()
    available = set(
        conn.execute(
            sa.text(
                "SELECT cfgname FROM pg_ts_config WHERE cfgnamespace = 'pg_catalog'::regnamespace"
            )
        ).scalars()
    )
    op.execute(ROLE)
    op.execute(_search_config_function(available))
    op.execute(SEARCH)
    op.execute(PUBLISHING)
    op.execute(_run_policies())
    op.execute(_members_policies_for(APP_ROLE))


def downgrade() -> None:
    op.execute(_members_policies_for("public"))
    for table in READ_TABLES:
        op.execute(f"DROP POLICY IF EXISTS {table}_public_read ON {table}")
    op.execute("DROP INDEX IF EXISTS articles_search")
    op.execute("ALTER TABLE articles DROP COLUMN IF EXISTS search_vector")
    op.execute("DROP FUNCTION IF EXISTS reeldocs_private.article_text(text)")
    op.execute("DROP FUNCTION IF EXISTS reeldocs_private.search_config(text)")
    op.execute("DROP INDEX IF EXISTS videos_published_idx")
    op.execute("ALTER TABLE videos DROP COLUMN IF EXISTS published")
    op.execute("ALTER TABLE projects DROP COLUMN IF EXISTS public_docs")
    # The role itself stays: it belongs to the cluster, and other databases may use it.
    tables = ", ".join(READ_TABLES)
    op.execute(
        f"""
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{PUBLIC_ROLE}') THEN
        REVOKE ALL ON {tables} FROM {PUBLIC_ROLE};
        REVOKE USAGE ON SCHEMA public, reeldocs_private FROM {PUBLIC_ROLE};
    END IF;
END $$;
"""
    )
