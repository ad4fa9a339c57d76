"""Job events (an outbox written when a job finishes) and the lease of a claimed job.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APP_ROLE = "reeldocs_app"


def upgrade() -> None:
    op.execute(
        f"""
-- Set by each claim and required by every write of the claiming worker, so a worker
-- that lost a job (its heartbeat stopped, the job was handed to another) cannot change
-- it any more: its next progress write finds another lease and stops.
ALTER TABLE processing_jobs ADD COLUMN lease uuid;

-- One row per finished job (completed, failed, cancelled), written in the transaction
-- that finished it: what webhooks, metrics and pages read, in id order. The payload is
-- the job as the API shows it at that moment. Events outlive their job, video and
-- project (a deleted video's job is cancelled first); they go with the organisation.
CREATE TABLE job_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    project_id uuid NOT NULL,
    job_id uuid NOT NULL,
    type text NOT NULL CHECK (type IN ('job.completed', 'job.failed', 'job.cancelled')),
    payload jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_events_job_idx ON job_events (job_id);
CREATE INDEX job_events_org_idx ON job_events (org_id, id);

-- Members read their organisation's events; only the service role (the workers, and
-- web requests stepping out of the user's role to finish a job) writes them.
ALTER TABLE job_events ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON job_events TO {APP_ROLE};
CREATE POLICY job_events_read ON job_events FOR SELECT
    USING (reeldocs_private.can_read(org_id));
"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS job_events CASCADE")
    op.execute("ALTER TABLE processing_jobs DROP COLUMN IF EXISTS lease")
