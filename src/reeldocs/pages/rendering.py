"""Rendering helpers for server-side pages."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from reeldocs.app import minimal_error_page


def render_error(request: Request, status: int, detail: str) -> Response:
    return minimal_error_page(status, detail)
