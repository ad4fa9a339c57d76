"""A glossary per project, and each scene's slide title beside its on-screen text.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APP_ROLE = "reeldocs_app"


def upgrade() -> None:
    op.execute(
        f"""
-- The slide's title as the on-screen text reader found it: its top-most large line read
-- with confidence; empty when the scene shows none.
ALTER TABLE screenshots ADD COLUMN scene_title text NOT NULL DEFAULT '';

-- Terms a project wants translated its own way, or never translated (no entry for a
-- language keeps the term as it is).
CREATE TABLE glossary_terms (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL,
    project_id uuid NOT NULL,
    term text NOT NULL CHECK (length(btrim(term)) > 0),
    translations jsonb NOT NULL DEFAULT '{{}}'::jsonb
        CHECK (jsonb_typeof(translations) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX glossary_terms_project_term ON glossary_terms (project_id, lower(term));

ALTER TABLE glossary_terms ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON glossary_terms TO {APP_ROLE};
CREATE POLICY glossary_terms_read ON glossary_terms FOR SELECT
    USING (reeldocs_private.can_read(org_id));
CREATE POLICY glossary_terms_insert ON glossary_terms FOR INSERT
    WITH CHECK (reeldocs_private.can_write(org_id));
CREATE POLICY glossary_terms_update ON glossary_terms FOR UPDATE
    USING (reeldocs_private.can_write(org_id)) WITH CHECK (reeldocs_private.can_write(org_id));
CREATE POLICY glossary_terms_delete ON glossary_terms FOR DELETE
    USING (reeldocs_private.can_write(org_id));
"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS glossary_terms CASCADE")
    op.execute("ALTER TABLE screenshots DROP COLUMN IF EXISTS scene_title")
