"""A bare Procrastinate worker with a no-op task: the baseline for pickup latency."""

from __future__ import annotations

import asyncio
import sys

import procrastinate


def main(conninfo: str) -> None:
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))

    @app.task(name="bench.noop", queue="bench_raw")
    async def noop() -> None:
        return None

    async def run() -> None:
        async with app.open_async():
            await app.run_worker_async(queues=["bench_raw"], install_signal_handlers=True)

    asyncio.run(run())


if __name__ == "__main__":
    main(sys.argv[1])
