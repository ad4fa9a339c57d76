"""Invitations: owners invite an e-mail address; the person joins when they accept.
Also: failed log-ins and sign-ups are counted per client address.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

APP_ROLE = "reeldocs_app"


def upgrade() -> None:
    op.execute(
        f"""
-- The signed-in user's own e-mail address, for policies that match invitations to it.
CREATE FUNCTION reeldocs_private.current_user_email() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT email FROM users WHERE id = reeldocs_private.current_user_id()
$$;
GRANT EXECUTE ON FUNCTION reeldocs_private.current_user_email() TO {APP_ROLE};

-- A pending invitation; it is deleted when accepted, declined or revoked.
CREATE TABLE invitations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email text NOT NULL CHECK (email = lower(email)),
    role text NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    invited_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, email)
);

-- Failed log-ins and sign-ups, counted per client address as well as per account.
ALTER TABLE login_failures ADD COLUMN kind text NOT NULL DEFAULT 'login';
CREATE INDEX login_failures_client_idx ON login_failures (client, at);
CREATE INDEX invitations_email_idx ON invitations (email);

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON invitations TO {APP_ROLE};
-- The team's owners manage its invitations; the invited person sees and declines theirs.
CREATE POLICY invitations_read ON invitations FOR SELECT
    USING (reeldocs_private.is_owner(org_id) OR email = reeldocs_private.current_user_email());
CREATE POLICY invitations_insert ON invitations FOR INSERT
    WITH CHECK (reeldocs_private.is_owner(org_id));
CREATE POLICY invitations_update ON invitations FOR UPDATE
    USING (reeldocs_private.is_owner(org_id)) WITH CHECK (reeldocs_private.is_owner(org_id));
CREATE POLICY invitations_delete ON invitations FOR DELETE
    USING (reeldocs_private.is_owner(org_id) OR email = reeldocs_private.current_user_email());
"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS invitations CASCADE")
    op.execute("DROP INDEX IF EXISTS login_failures_client_idx")
    op.execute("ALTER TABLE login_failures DROP COLUMN IF EXISTS kind")
    op.execute("DROP FUNCTION IF EXISTS reeldocs_private.current_user_email()")
