"""GET /metrics: Prometheus' text format, behind REELDOCS_METRICS_TOKEN when it is set."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from reeldocs.core.deps import bearer_token
from reeldocs.core.errors import ErrorOut
from reeldocs.metrics.collector import read_snapshot, registry_for

router = APIRouter(tags=["health"])


def _authorised(request: Request) -> bool:
    expected: str | None = request.app.state.settings.metrics_token
    if expected is None:
        return True
    given = bearer_token(request) or ""
    return hmac.compare_digest(given.encode(), expected.encode())


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "The installation's metrics in Prometheus' text format.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        401: {
            "model": ErrorOut,
            "description": "REELDOCS_METRICS_TOKEN is set and the request does not bear it.",
        },
    },
)
async def metrics(request: Request) -> Response:
    if not _authorised(request):
        return JSONResponse(
            {
                "error": "NotAuthenticated",
                "detail": "This server's metrics need its metrics token: send "
                "'Authorization: Bearer <REELDOCS_METRICS_TOKEN>'.",
            },
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    async with request.app.state.engine.connect() as conn:
        snapshot = await read_snapshot(conn)
    body = await run_in_threadpool(generate_latest, registry_for(snapshot))
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
