"""Initial schema: tenants, videos, docs, processing jobs, row-level security, the queue.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The role web requests run as (SET LOCAL ROLE per transaction). It owns nothing,
# is not superuser and has no BYPASSRLS, so every policy below applies to it.
APP_ROLE = "reeldocs_app"

ROLES = """
DO $$
DECLARE
    may_switch boolean;
BEGIN
    -- Roles belong to the cluster: another database on the same server may have
    -- created it already.
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reeldocs_app') THEN
        CREATE ROLE reeldocs_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
    END IF;
    -- PostgreSQL 16 separates membership from the right to SET ROLE (a CREATEROLE
    -- creator is only given ADMIN OPTION); in 15 every member may switch.
    IF current_setting('server_version_num')::int >= 160000 THEN
        may_switch := pg_has_role(current_user, 'reeldocs_app', 'SET');
    ELSE
        may_switch := pg_has_role(current_user, 'reeldocs_app', 'MEMBER');
    END IF;
    IF NOT may_switch THEN
        BEGIN
            EXECUTE format('GRANT reeldocs_app TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE EXCEPTION 'The database role reeldocs_app exists but % may not use it.',
                current_user
                USING HINT = format(
                    'Ask an administrator of the database server to run: GRANT reeldocs_app TO %I;',
                    current_user);
        END;
    END IF;
END $$;
"""

TABLES = """
CREATE SCHEMA IF NOT EXISTS reeldocs_private;

CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL,
    name text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_lower CHECK (email = lower(email))
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE organizations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    slug text NOT NULL UNIQUE,
    personal boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE organization_members (
    org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX organization_members_user_idx ON organization_members (user_id);

CREATE TABLE api_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL,
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);

-- Browser sessions: the cookie holds a random token, the table only its hash, so
-- logging out (or deleting the user) ends the session everywhere.
CREATE TABLE user_sessions (
    token_hash text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX user_sessions_user_idx ON user_sessions (user_id);

-- Failed log-ins, counted per e-mail address to slow down password guessing.
CREATE TABLE login_failures (
    id bigserial PRIMARY KEY,
    email text NOT NULL,
    client text NOT NULL DEFAULT '',
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (email, at);

CREATE TABLE projects (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name text NOT NULL,
    slug text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, slug),
    UNIQUE (id, org_id)
);

CREATE TABLE videos (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL,
    project_id uuid NOT NULL,
    title text NOT NULL,
    status text NOT NULL DEFAULT 'uploading'
        CHECK (status IN ('uploading', 'uploaded', 'processing', 'ready', 'failed')),
    storage_path text,
    mime text,
    size_bytes bigint,
    duration_seconds double precision,
    codecs jsonb NOT NULL DEFAULT '{}'::jsonb,
    source_language text,
    -- the processing run whose segments, docs and subtitles are the published ones
    docs_run_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, org_id),
    FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE
);
CREATE INDEX videos_project_idx ON videos (project_id, created_at DESC);

CREATE TABLE processing_jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL,
    project_id uuid NOT NULL,
    video_id uuid NOT NULL,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'retried', 'cancelled')),
    step text NOT NULL DEFAULT 'uploading',
    step_message text NOT NULL DEFAULT 'Waiting for a worker',
    progress numeric(5, 4) NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
    error_message text,
    failed_step text,
    languages text[] NOT NULL CHECK (cardinality(languages) >= 1),
    source_language text,
    language_results jsonb NOT NULL DEFAULT '{}'::jsonb,
    providers jsonb NOT NULL DEFAULT '{}'::jsonb,
    attempt integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    retry_of uuid,
    -- checkpoints belong to a run: the first job and every retry of it share one
    run_id uuid NOT NULL,
    queue_job_id bigint,
    video_status_before text NOT NULL,
    cancel_requested boolean NOT NULL DEFAULT false,
    started_at timestamptz,
    completed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, org_id),
    FOREIGN KEY (video_id, org_id) REFERENCES videos (id, org_id) ON DELETE CASCADE,
    FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE,
    -- a retry continues a job of the same organisation; deleting the original keeps the retry
    FOREIGN KEY (retry_of, org_id) REFERENCES processing_jobs (id, org_id)
        ON DELETE SET NULL (retry_of)
);
-- One active job per video, whatever races the web tier loses.
CREATE UNIQUE INDEX processing_jobs_one_active_per_video
    ON processing_jobs (video_id) WHERE status IN ('pending', 'processing');
CREATE INDEX processing_jobs_project_idx ON processing_jobs (project_id, created_at DESC);
CREATE INDEX processing_jobs_run_idx ON processing_jobs (run_id);

CREATE TABLE video_segments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL,
    video_id uuid NOT NULL,
    run_id uuid NOT NULL,
    "order" integer NOT NULL,
    start_time double precision NOT NULL,
    end_time double precision NOT NULL,
    spoken_content text NOT NULL DEFAULT '',
    visual_context text NOT NULL DEFAULT '',
    words jsonb NOT NULL DEFAULT '[]'::jsonb,
    CHECK (end_time >= start_time),
    UNIQUE (run_id, "order"),
    FOREIGN KEY (video_id, org_id) REFERENCES videos (id, org_id) ON DELETE CASCADE
);
CREATE INDEX video_segments_video_idx ON video_segments (video_id, run_id, "order");

CREATE TABLE chapters (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL,
    video_id uuid NOT NULL,
    run_id uuid NOT NULL,
    language text NOT NULL,
    "order" integer NOT NULL,
    title text NOT NULL,
    start_time double precision NOT NULL DEFAULT 0,
    UNIQUE (run_id, language, "order"),
    UNIQUE (id, org_id),
    FOREIGN KEY (video_id, org_id) REFERENCES videos (id, org_id) ON DELETE CASCADE
);

CREATE TABLE articles (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL,
    project_id uuid NOT NULL,
    video_id uuid NOT NULL,
    chapter_id uuid NOT NULL,
    run_id uuid NOT NULL,
    language text NOT NULL,
    "order" integer NOT NULL,
    title text NOT NULL,
    slug text NOT NULL,
    content_markdown text NOT NULL,
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, language, "order"),
    FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE,
    FOREIGN KEY (video_id, org_id) REFERENCES videos (id, org_id) ON DELETE CASCADE,
    FOREIGN KEY (chapter_id, org_id) REFERENCES chapters (id, org_id) ON DELETE CASCADE
);
-- Published slugs are unique per project and language: two videos with a chapter of
-- the same title get "setup" and "setup-2", never one overwriting the other.
CREATE UNIQUE INDEX articles_published_slug
    ON articles (project_id, language, slug) WHERE status = 'published';
CREATE INDEX articles_video_idx ON articles (video_id, language, "order");

CREATE TABLE subtitles (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL,
    video_id uuid NOT NULL,
    run_id uuid NOT NULL,
    language text NOT NULL,
    cues jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, language),
    FOREIGN KEY (video_id, org_id) REFERENCES videos (id, org_id) ON DELETE CASCADE
);

CREATE TABLE screenshots (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL,
    video_id uuid NOT NULL,
    run_id uuid NOT NULL,
    name text NOT NULL,
    time_seconds double precision NOT NULL,
    storage_path text NOT NULL,
    -- set for the one screenshot of each scene: the scene's extent and on-screen text
    scene_index integer,
    scene_end double precision,
    scene_text text NOT NULL DEFAULT '',
    UNIQUE (run_id, name),
    FOREIGN KEY (video_id, org_id) REFERENCES videos (id, org_id) ON DELETE CASCADE
);

CREATE TRIGGER projects_updated_at BEFORE UPDATE ON projects
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER videos_updated_at BEFORE UPDATE ON videos
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER processing_jobs_updated_at BEFORE UPDATE ON processing_jobs
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
"""

# Helper functions run as their owner (SECURITY DEFINER) so policies on
# organization_members can ask about membership without recursing into themselves.
FUNCTIONS = """
CREATE FUNCTION reeldocs_private.current_user_id() RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('app.user_id', true), '')::uuid
$$;

CREATE FUNCTION reeldocs_private.org_role(target_org uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT role FROM organization_members
    WHERE org_id = target_org AND user_id = reeldocs_private.current_user_id()
$$;

CREATE FUNCTION reeldocs_private.can_read(target_org uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT reeldocs_private.org_role(target_org) IS NOT NULL
$$;

CREATE FUNCTION reeldocs_private.can_write(target_org uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(reeldocs_private.org_role(target_org) IN ('owner', 'editor'), false)
$$;

CREATE FUNCTION reeldocs_private.is_owner(target_org uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(reeldocs_private.org_role(target_org) = 'owner', false)
$$;

CREATE FUNCTION reeldocs_private.shares_org_with(other_user uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT EXISTS (
        SELECT 1 FROM organization_members mine
        JOIN organization_members theirs ON theirs.org_id = mine.org_id
        WHERE mine.user_id = reeldocs_private.current_user_id()
          AND theirs.user_id = other_user
    )
$$;
"""

CONTENT_TABLES = [
    "projects",
    "videos",
    "processing_jobs",
    "video_segments",
    "chapters",
    "articles",
    "subtitles",
    "screenshots",
]


def _policies() -> str:
    parts = [
        f"GRANT USAGE ON SCHEMA public, reeldocs_private TO {APP_ROLE};",
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA reeldocs_private TO {APP_ROLE};",
    ]
    for table in CONTENT_TABLES:
        parts.append(
            f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE};
CREATE POLICY {table}_read ON {table} FOR SELECT
    USING (reeldocs_private.can_read(org_id));
CREATE POLICY {table}_insert ON {table} FOR INSERT
    WITH CHECK (reeldocs_private.can_write(org_id));
CREATE POLICY {table}_update ON {table} FOR UPDATE
    USING (reeldocs_private.can_write(org_id)) WITH CHECK (reeldocs_private.can_write(org_id));
CREATE POLICY {table}_delete ON {table} FOR DELETE
    USING (reeldocs_private.can_write(org_id));
"""
        )
    parts.append(
        f"""
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON organizations TO {APP_ROLE};
CREATE POLICY organizations_read ON organizations FOR SELECT
    USING (reeldocs_private.can_read(id));
-- Creating an organisation happens at sign-up, through the service role.
CREATE POLICY organizations_update ON organizations FOR UPDATE
    USING (reeldocs_private.is_owner(id)) WITH CHECK (reeldocs_private.is_owner(id));
CREATE POLICY organizations_delete ON organizations FOR DELETE
    USING (reeldocs_private.is_owner(id));

ALTER TABLE organization_members ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON organization_members TO {APP_ROLE};
CREATE POLICY organization_members_read ON organization_members FOR SELECT
    USING (reeldocs_private.can_read(org_id));
CREATE POLICY organization_members_insert ON organization_members FOR INSERT
    WITH CHECK (reeldocs_private.is_owner(org_id));
CREATE POLICY organization_members_update ON organization_members FOR UPDATE
    USING (reeldocs_private.is_owner(org_id)) WITH CHECK (reeldocs_private.is_owner(org_id));
CREATE POLICY organization_members_delete ON organization_members FOR DELETE
    USING (reeldocs_private.is_owner(org_id));

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
GRANT SELECT (id, email, name, created_at), UPDATE (name) ON users TO {APP_ROLE};
CREATE POLICY users_read ON users FOR SELECT
    USING (id = reeldocs_private.current_user_id() OR reeldocs_private.shares_org_with(id));
CREATE POLICY users_update ON users FOR UPDATE
    USING (id = reeldocs_private.current_user_id())
    WITH CHECK (id = reeldocs_private.current_user_id());

ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON api_tokens TO {APP_ROLE};
CREATE POLICY api_tokens_own ON api_tokens FOR ALL
    USING (user_id = reeldocs_private.current_user_id())
    WITH CHECK (user_id = reeldocs_private.current_user_id());
"""
    )
    return "\n".join(parts)


def upgrade() -> None:
    op.execute(ROLES)
    op.execute(TABLES)
    op.execute(FUNCTIONS)
    op.execute(_policies())


def downgrade() -> None:
    for table in [
        "login_failures",
        "user_sessions",
        "screenshots",
        "subtitles",
        "articles",
        "chapters",
        "video_segments",
        "processing_jobs",
        "videos",
        "projects",
        "api_tokens",
        "organization_members",
        "organizations",
        "users",
    ]:
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute("DROP SCHEMA IF EXISTS reeldocs_private CASCADE")
    op.execute("DROP FUNCTION IF EXISTS set_updated_at()")
    # The role itself stays: it belongs to the cluster, and other databases may use it.
    op.execute(
        f"""
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        REVOKE USAGE ON SCHEMA public FROM {APP_ROLE};
    END IF;
END $$;
"""
    )
