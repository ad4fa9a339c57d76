"""An open-loop load generator of browser tabs that poll: `python -m bench.polling_load`.

Reads a JSON plan on stdin and prints one JSON result on stdout. Each simulated tab
keeps its own keep-alive connection and asks for its address every `interval`
seconds from a random phase, sending back the last ETag it was given in
`If-None-Match`, as a browser does for a response it may revalidate. The schedule
never waits for the server: latency is counted from when a request was due, so a
slow answer also delays (and is charged to) the requests queued behind it. The run
is bounded: every tab stops at `warmup + seconds`, and the whole process gives up
`grace` seconds after that.

Responses are parsed with httptools (uvicorn's parser), so the generator spends a
few microseconds per request and leaves the cores to the server it measures.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httptools


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds, due → answered
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    late_sends: int = 0  # sent after their due time because the previous answer was late


class _Answer:
    """httptools callbacks for one response at a time on one connection."""

    def __init__(self) -> None:
        self.etag: bytes | None = None
        self.done: asyncio.Future[tuple[int, bytes | None]] | None = None
        self.parser = httptools.HttpResponseParser(self)

    def on_message_begin(self) -> None:
        self.etag = None

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"etag":
            self.etag = value

    def on_message_complete(self) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_result((self.parser.get_status_code(), self.etag))


class TabConnection(asyncio.Protocol):
    def __init__(self) -> None:
        self.answer = _Answer()
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.answer.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(error)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or ConnectionResetError("the server closed the connection"))

    def _fail(self, error: BaseException) -> None:
        if self.answer.done is not None and not self.answer.done.done():
            self.answer.done.set_exception(error)
        if not self.closed.done():
            self.closed.set_result(None)
        if self.transport is not None:
            self.transport.close()

    async def request(self, raw: bytes) -> tuple[int, bytes | None]:
        assert self.transport is not None
        self.answer.done = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.answer.done


def _request_bytes(host: str, path: str, headers: dict[str, str], etag: bytes | None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    head = ("\r\n".join(lines) + "\r\n").encode()
    if etag is not None:
        head += b"If-None-Match: " + etag + b"\r\n"
    return head + b"\r\n"


async def _tab(
    plan: dict[str, Any],
    target: dict[str, Any],
    first_due: float,
    measure_from: float,
    stop_at: float,
    outcome: Outcome,
) -> None:
    loop = asyncio.get_running_loop()
    host, port, interval = plan["host"], plan["port"], plan["interval"]
    host_header = f"{host}:{port}"
    connection: TabConnection | None = None
    etag: bytes | None = None
    due = first_due
    while due < stop_at:
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        elif due >= measure_from:
            outcome.late_sends += 1
        try:
            if connection is None or connection.closed.done():
                _, connection = await loop.create_connection(TabConnection, host, port)
            status, new_etag = await connection.request(
                _request_bytes(host_header, target["path"], target["headers"], etag)
            )
        except (OSError, httptools.HttpParserError, ConnectionError):
            connection = None
            if due >= measure_from:
                outcome.errors += 1
        else:
            if plan.get("revalidate", True) and new_etag is not None:
                etag = new_etag
            if due >= measure_from:
                outcome.latencies.append(loop.time() - due)
                outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        due += interval
    if connection is not None and connection.transport is not None:
        connection.transport.close()


def _percentile(ordered: list[float], share: float) -> float:
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


async def run(plan: dict[str, Any]) -> dict[str, Any]:
    """Run `plan["tabs"]` tabs over `plan["targets"]` (round robin); summarise."""
    loop = asyncio.get_running_loop()
    tabs, interval = int(plan["tabs"]), float(plan["interval"])
    warmup, seconds = float(plan["warmup"]), float(plan["seconds"])
    targets = plan["targets"]
    phases = random.Random(plan.get("seed", 1)).random
    start = loop.time() + 0.2
    measure_from = start + warmup
    stop_at = measure_from + seconds
    outcome = Outcome()
    cpu_before = time.process_time()
    workers = [
        _tab(
            plan,
            targets[index % len(targets)],
            start + phases() * interval,
            measure_from,
            stop_at,
            outcome,
        )
        for index in range(tabs)
    ]
    tasks = [asyncio.ensure_future(worker) for worker in workers]
    finished, unfinished = await asyncio.wait(tasks, timeout=warmup + seconds + plan["grace"])
    for task in finished:
        task.result()  # a fault of the generator itself must not pass for a figure
    for task in unfinished:  # answers this late are counted as missing, not waited for
        task.cancel()
    await asyncio.gather(*unfinished, return_exceptions=True)
    cpu = time.process_time() - cpu_before
    ordered = sorted(outcome.latencies)
    expected = round(tabs * seconds / interval)
    return {
        "tabs": tabs,
        "offered_per_s": round(tabs / interval, 1),
        "answered_per_s": round(len(ordered) / seconds, 1),
        "expected": expected,
        "answered": len(ordered),
        "unfinished_tabs": len(unfinished),
        "errors": outcome.errors,
        "late_sends": outcome.late_sends,
        "statuses": {str(code): count for code, count in sorted(outcome.statuses.items())},
        "p50_ms": round(_percentile(ordered, 0.50) * 1000, 1),
        "p95_ms": round(_percentile(ordered, 0.95) * 1000, 1),
        "p99_ms": round(_percentile(ordered, 0.99) * 1000, 1),
        "max_ms": round((ordered[-1] if ordered else float("nan")) * 1000, 1),
        "generator_cpu_share": round(cpu / (warmup + seconds), 3),
    }


def main() -> None:
    plan = json.load(sys.stdin)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop

        result = uvloop.run(run(plan))
    except ImportError:
        result = asyncio.run(run(plan))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
