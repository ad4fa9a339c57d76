"""What every error answer of the JSON API must look like."""

from __future__ import annotations

import httpx


def assert_error(response: httpx.Response, status: int, kind: str) -> str:
    """Check the status and the {"error", "detail"} shape; return the detail sentence."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert body["error"] == kind, body
    detail = body["detail"]
    assert isinstance(detail, str), body
    # A sentence a person can act on: capitalised, finished, no internals.
    assert detail[:1].isupper() and detail.endswith((".", "!", "?")), detail
    assert len(detail.split()) >= 3, detail
    for leak in ("Traceback", 'File "', "sqlalchemy", "psycopg"):
        assert leak not in response.text, response.text
    return detail
