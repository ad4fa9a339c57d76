"""Webhooks (endpoints and deliveries), metrics that outlive what they count, and a fetch
of the next job that takes turns between organisations.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

APP_ROLE = "reeldocs_app"
EVENTS = ("job.completed", "job.failed", "job.cancelled")
# Held by the fetch of the next video job for its transaction: see reeldocs_fetch_fair_job.
FAIR_FETCH_LOCK_ID = 7_301_2027


def upgrade() -> None:
    events = ", ".join(f"'{event}'" for event in EVENTS)
    op.execute(
        f"""
-- A project's webhook endpoints. The secret signs every request; people see it once, when
-- the endpoint is created: the app role may write it but never read it back.
CREATE TABLE webhook_endpoints (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL,
    project_id uuid NOT NULL,
    url text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    events text[] NOT NULL
        CHECK (cardinality(events) >= 1 AND events <@ ARRAY[{events}]::text[]),
    secret text NOT NULL CHECK (secret LIKE 'whsec_%'),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, org_id),
    FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE
);
CREATE INDEX webhook_endpoints_project_idx ON webhook_endpoints (project_id, created_at);

-- One row per event and endpoint, written in the transaction that finished the job.
-- `message_id` is the webhook-id header: the same at every attempt and redelivery.
CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL,
    endpoint_id uuid NOT NULL,
    event_id bigint NOT NULL REFERENCES job_events (id) ON DELETE CASCADE,
    job_id uuid NOT NULL,
    event text NOT NULL CHECK (event IN ({events})),
    message_id text NOT NULL UNIQUE,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_status_code integer,
    last_error text,
    last_attempt_at timestamptz,
    next_attempt_at timestamptz,
    delivered_at timestamptz,
    -- the engine's job that makes the next attempt
    queue_job_id bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (endpoint_id, event_id),
    FOREIGN KEY (endpoint_id, org_id) REFERENCES webhook_endpoints (id, org_id)
        ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC);
CREATE INDEX webhook_deliveries_job_idx ON webhook_deliveries (job_id);

-- Owners and editors manage a project's webhooks and read their deliveries; viewers see
-- none of them. Deliveries are written by the service role only (workers, and requests
-- stepping out of the user's role to finish a job or redeliver).
ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
GRANT SELECT (id, org_id, project_id, url, events, created_at),
      INSERT (id, org_id, project_id, url, events, secret),
      DELETE
    ON webhook_endpoints TO {APP_ROLE};
CREATE POLICY webhook_endpoints_read ON webhook_endpoints FOR SELECT
    USING (reeldocs_private.can_write(org_id));
CREATE POLICY webhook_endpoints_insert ON webhook_endpoints FOR INSERT
    WITH CHECK (reeldocs_private.can_write(org_id));
CREATE POLICY webhook_endpoints_delete ON webhook_endpoints FOR DELETE
    USING (reeldocs_private.can_write(org_id));

ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON webhook_deliveries TO {APP_ROLE};
CREATE POLICY webhook_deliveries_read ON webhook_deliveries FOR SELECT
    USING (reeldocs_private.can_write(org_id));

-- Counters and histograms of the whole installation, written in the transactions that
-- change what they count. No reference to any tenant's row: deleting a video, a project
-- or a team never takes a count down. The service role alone reads and writes them.
CREATE TABLE metric_counters (
    metric text NOT NULL,
    labels jsonb NOT NULL DEFAULT '{{}}'::jsonb CHECK (jsonb_typeof(labels) = 'object'),
    value double precision NOT NULL DEFAULT 0 CHECK (value >= 0),
    PRIMARY KEY (metric, labels)
);

-- When the job entered its current step (or resumed it): what step timings measure from.
-- When a worker last took it from the queue: which team had its turn last.
ALTER TABLE processing_jobs
    ADD COLUMN step_started_at timestamptz,
    ADD COLUMN turn_taken_at timestamptz;
CREATE INDEX processing_jobs_turns_idx ON processing_jobs (org_id, turn_taken_at);
-- The fair fetch joins the engine's jobs to ours at every fetch.
CREATE INDEX processing_jobs_queue_job_idx ON processing_jobs (queue_job_id);
"""
    )
    op.execute(FAIR_FETCH)


# Procrastinate's own fetch (procrastinate_fetch_job_v2) takes the highest priority, then
# the oldest job: one organisation's backlog makes every other one wait behind it. This
# one takes turns: each team's first waiting job comes before any team's second, and
# among the first ones, the team whose turn was longest ago (or never) goes first. With
# max_active > 0 a team running that many jobs gets none more, and its waiting jobs say
# how many of the team's jobs are ahead of them.
FAIR_FETCH = f"""
CREATE FUNCTION reeldocs_fetch_fair_job(
    target_queue_names character varying[],
    p_worker_id bigint,
    max_active integer
)
    RETURNS procrastinate_jobs
    LANGUAGE plpgsql
AS $$
DECLARE
    found_job procrastinate_jobs;
BEGIN
    -- One fetch at a time: two workers counting a team's running jobs at once could each
    -- start one more and go past its cap. Fetches take about a millisecond.
    PERFORM pg_advisory_xact_lock({FAIR_FETCH_LOCK_ID});
    WITH running AS (
        SELECT job.org_id, count(*) AS jobs
        FROM procrastinate_jobs engine
        JOIN processing_jobs job ON job.queue_job_id = engine.id
        WHERE engine.status = 'doing' AND engine.queue_name = ANY(target_queue_names)
        GROUP BY job.org_id
    ), waiting AS (
        SELECT engine.id, job.org_id,
               row_number() OVER (PARTITION BY job.org_id
                                  ORDER BY engine.priority DESC, engine.id) AS place
        FROM procrastinate_jobs engine
        LEFT JOIN processing_jobs job ON job.queue_job_id = engine.id
        WHERE engine.status = 'todo' AND engine.queue_name = ANY(target_queue_names)
          AND (engine.scheduled_at IS NULL OR engine.scheduled_at <= now())
    ), last_turn AS (
        SELECT job.org_id, max(job.turn_taken_at) AS at
        FROM processing_jobs job
        WHERE job.org_id IN (SELECT org_id FROM waiting)
        GROUP BY job.org_id
    ), turns AS (
        SELECT waiting.id, waiting.place, last_turn.at
        FROM waiting
        LEFT JOIN running ON running.org_id = waiting.org_id
        LEFT JOIN last_turn ON last_turn.org_id = waiting.org_id
        WHERE max_active <= 0 OR waiting.org_id IS NULL
           OR coalesce(running.jobs, 0) < max_active
    ), picked AS (
        SELECT engine.id
        FROM procrastinate_jobs engine
        JOIN turns ON turns.id = engine.id
        WHERE engine.status = 'todo'
        ORDER BY turns.place, turns.at NULLS FIRST, engine.id
        LIMIT 1
        FOR UPDATE OF engine SKIP LOCKED
    )
    UPDATE procrastinate_jobs
        SET status = 'doing', worker_id = p_worker_id
        FROM picked
        WHERE procrastinate_jobs.id = picked.id
        RETURNING procrastinate_jobs.* INTO found_job;

    IF found_job.id IS NOT NULL THEN
        UPDATE processing_jobs SET turn_taken_at = clock_timestamp()
            WHERE queue_job_id = found_job.id;
    END IF;

    IF max_active > 0 THEN
        WITH running AS (
            SELECT job.org_id, count(*) AS jobs
            FROM procrastinate_jobs engine
            JOIN processing_jobs job ON job.queue_job_id = engine.id
            WHERE engine.status = 'doing' AND engine.queue_name = ANY(target_queue_names)
            GROUP BY job.org_id
        ), waiting AS (
            SELECT job.id, job.org_id,
                   row_number() OVER (PARTITION BY job.org_id
                                      ORDER BY engine.priority DESC, engine.id) - 1 AS before
            FROM processing_jobs job
            JOIN procrastinate_jobs engine ON engine.id = job.queue_job_id
            WHERE job.status = 'pending' AND engine.status = 'todo'
              AND engine.queue_name = ANY(target_queue_names)
        ), messages AS (
            SELECT waiting.id,
                   CASE WHEN running.jobs >= max_active THEN
                       'Waiting: your team has ' || (running.jobs + waiting.before)
                       || CASE WHEN running.jobs + waiting.before = 1
                               THEN ' job ahead' ELSE ' jobs ahead' END
                   END AS message
            FROM waiting LEFT JOIN running ON running.org_id = waiting.org_id
        )
        UPDATE processing_jobs job
            SET step_message = coalesce(messages.message, 'Waiting for a worker')
            FROM messages
            WHERE job.id = messages.id
              AND ((messages.message IS NOT NULL
                    AND job.step_message IS DISTINCT FROM messages.message)
                   OR (messages.message IS NULL
                       AND job.step_message LIKE 'Waiting: your team has %'));
    END IF;

    RETURN found_job;
END;
$$;
"""


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION IF EXISTS reeldocs_fetch_fair_job(character varying[], bigint, integer)"
    )
    op.execute("DROP INDEX IF EXISTS processing_jobs_queue_job_idx")
    op.execute("DROP INDEX IF EXISTS processing_jobs_turns_idx")
    op.execute("ALTER TABLE processing_jobs DROP COLUMN IF EXISTS turn_taken_at")
    op.execute("ALTER TABLE processing_jobs DROP COLUMN IF EXISTS step_started_at")
    op.execute("DROP TABLE IF EXISTS metric_counters")
    op.execute("DROP TABLE IF EXISTS webhook_deliveries")
    op.execute("DROP TABLE IF EXISTS webhook_endpoints")
