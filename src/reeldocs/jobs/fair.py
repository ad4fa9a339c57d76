"""Which waiting video job a free worker takes: each team in turn, not the oldest first.

Procrastinate takes the highest priority, then the oldest job, so a team that queued a
hundred videos would make every other team wait for all of them. Here each team's first
waiting job comes before any team's second one, and among first ones the team whose
turn was longest ago (or never came) goes first: with team A's ten jobs queued and team
B's one after them, B's job starts second. REELDOCS_ORG_MAX_ACTIVE_JOBS (when above 0)
also keeps a team from running more jobs than that at once, and the team's waiting jobs
then say how many of the team's jobs are ahead of them. The SQL is
the migration's reeldocs_fetch_fair_job, which takes the engine's job the way the
engine's own fetch does (status `doing`, the worker's id).
"""

from __future__ import annotations

from collections.abc import Iterable

from procrastinate import connector as connector_module
from procrastinate import jobs as jobs_module
from procrastinate import manager

FETCH_FAIR_JOB = """
SELECT id, status, task_name, priority, lock, queueing_lock, args, scheduled_at, queue_name,
       attempts, worker_id
    FROM reeldocs_fetch_fair_job(%(queues)s::varchar[], %(worker_id)s, %(max_active)s)
"""


class FairJobManager(manager.JobManager):
    """The engine's job manager, fetching jobs of `fair_queues` in turns between teams."""

    def __init__(
        self,
        connector: connector_module.BaseConnector,
        *,
        fair_queues: Iterable[str],
        max_active: int,
    ) -> None:
        super().__init__(connector)
        self.fair_queues = frozenset(fair_queues)
        self.max_active = max_active

    async def fetch_job(
        self, queues: Iterable[str] | None, worker_id: int
    ) -> jobs_module.Job | None:
        names = list(queues) if queues is not None else None
        if not names or not set(names) <= self.fair_queues:
            return await super().fetch_job(names, worker_id)
        row = await self.connector.execute_query_one_async(
            query=FETCH_FAIR_JOB, queues=names, worker_id=worker_id, max_active=self.max_active
        )
        if row["id"] is None:
            return None
        return jobs_module.Job.from_row(row)
