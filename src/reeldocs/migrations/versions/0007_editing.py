"""Editing: articles with revisions and proposals, edited transcript segments, stale
translations, and jobs that re-translate a video's docs without processing it again.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

APP_ROLE = "reeldocs_app"

REVISION_SOURCES = ("generated", "edited", "restored", "accepted", "translated")


def upgrade() -> None:
    sources = ", ".join(f"'{source}'" for source in REVISION_SOURCES)
    op.execute(
        f"""
-- `edited`: a person changed the article since it was generated, so regenerating the
-- video proposes the new text instead of replacing it. `version` changes with the title
-- or the text and makes the ETag a save is checked against. `stale`: a translation whose
-- primary article or transcript changed after it was made. The proposal is the text a
-- later job offers for an edited article, until a person accepts or rejects it.
ALTER TABLE articles
    ADD COLUMN edited boolean NOT NULL DEFAULT false,
    ADD COLUMN stale boolean NOT NULL DEFAULT false,
    ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    ADD COLUMN updated_at timestamptz,
    ADD COLUMN proposal_title text,
    ADD COLUMN proposal_markdown text,
    ADD COLUMN proposal_job_id uuid,
    ADD COLUMN proposal_created_at timestamptz,
    ADD CONSTRAINT articles_proposal_whole
        CHECK ((proposal_title IS NULL) = (proposal_markdown IS NULL)),
    ADD CONSTRAINT articles_id_org UNIQUE (id, org_id);
UPDATE articles SET updated_at = created_at;
ALTER TABLE articles
    ALTER COLUMN updated_at SET DEFAULT now(),
    ALTER COLUMN updated_at SET NOT NULL;

-- A segment a person corrected: its text survives regeneration over its time span.
ALTER TABLE video_segments ADD COLUMN edited boolean NOT NULL DEFAULT false;

-- What a job does: process the video (the whole pipeline), or re-translate its docs.
ALTER TABLE processing_jobs
    ADD COLUMN kind text NOT NULL DEFAULT 'process' CHECK (kind IN ('process', 'retranslate'));

-- Every text an article has had, numbered from 1 (what the pipeline generated). Rows are
-- never changed: restoring one writes a new revision.
CREATE TABLE article_revisions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL,
    article_id uuid NOT NULL,
    revision integer NOT NULL CHECK (revision >= 1),
    source text NOT NULL CHECK (source IN ({sources})),
    -- who saved it; NULL for what a job wrote, or once the account is deleted
    author_id uuid REFERENCES users (id) ON DELETE SET NULL,
    -- the job whose text it is (generated, accepted, translated)
    job_id uuid,
    title text NOT NULL,
    content_markdown text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (article_id, revision),
    FOREIGN KEY (article_id, org_id) REFERENCES articles (id, org_id) ON DELETE CASCADE
);

-- What the pipeline published so far is revision 1 of each article.
INSERT INTO article_revisions (org_id, article_id, revision, source, title, content_markdown,
                               created_at)
SELECT org_id, id, 1, 'generated', title, content_markdown, created_at
FROM articles WHERE status = 'published';

-- Members read the history; owners and editors add to it, as themselves only. Nobody
-- changes or deletes a revision through the app (they go with their article).
ALTER TABLE article_revisions ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT ON article_revisions TO {APP_ROLE};
CREATE POLICY article_revisions_read ON article_revisions FOR SELECT
    USING (reeldocs_private.can_read(org_id));
CREATE POLICY article_revisions_insert ON article_revisions FOR INSERT
    WITH CHECK (
        reeldocs_private.can_write(org_id)
        AND author_id IS NOT DISTINCT FROM reeldocs_private.current_user_id()
    );
"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS article_revisions CASCADE")
    op.execute("ALTER TABLE processing_jobs DROP COLUMN IF EXISTS kind")
    op.execute("ALTER TABLE video_segments DROP COLUMN IF EXISTS edited")
    op.execute(
        """
ALTER TABLE articles
    DROP CONSTRAINT IF EXISTS articles_id_org,
    DROP CONSTRAINT IF EXISTS articles_proposal_whole,
    DROP COLUMN IF EXISTS proposal_created_at,
    DROP COLUMN IF EXISTS proposal_job_id,
    DROP COLUMN IF EXISTS proposal_markdown,
    DROP COLUMN IF EXISTS proposal_title,
    DROP COLUMN IF EXISTS updated_at,
    DROP COLUMN IF EXISTS version,
    DROP COLUMN IF EXISTS stale,
    DROP COLUMN IF EXISTS edited
"""
    )
