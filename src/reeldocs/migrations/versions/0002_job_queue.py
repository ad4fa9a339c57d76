"""The job engine's own schema (Procrastinate), applied like every other change.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op
from procrastinate.schema import SchemaManager

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The statements come from the installed Procrastinate version; later versions
    # ship migration scripts that become further revisions here.
    op.execute(SchemaManager.get_schema())


def downgrade() -> None:
    # The queue's schema also defines functions and a composite type: drop them all, or a
    # later upgrade finds them already there.
    op.execute(
        """
        DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers,
            procrastinate_jobs, procrastinate_workers CASCADE;
        DO $$
        DECLARE
            routine regprocedure;
        BEGIN
            FOR routine IN
                SELECT p.oid::regprocedure FROM pg_proc p
                WHERE p.pronamespace = current_schema()::regnamespace
                  AND p.proname LIKE 'procrastinate\\_%'
            LOOP
                EXECUTE format('DROP FUNCTION %s CASCADE', routine);
            END LOOP;
        END $$;
        DROP TYPE IF EXISTS procrastinate_job_status, procrastinate_job_event_type,
            procrastinate_job_to_defer_v1 CASCADE;
        """
    )
