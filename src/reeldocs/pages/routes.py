"""The server-rendered pages: mounted on the app by `install_pages`."""

from __future__ import annotations

import os

from fastapi import FastAPI
from starlette.responses import FileResponse, Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from reeldocs.pages import (
    article_pages,
    auth_pages,
    docs_viewer,
    glossary_pages,
    job_pages,
    project_pages,
    revision_pages,
    settings_pages,
    site_controls,
    video_pages,
    webhook_pages,
)
from reeldocs.pages.rendering import STATIC_DIR


class CachedStaticFiles(StaticFiles):
    """Assets are linked with a content hash (`?v=`), so browsers may keep them for a year."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def install_pages(app: FastAPI) -> None:
    """Pages, their fragments and actions, and the static assets they load."""
    app.mount("/static", CachedStaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        # Browsers ask for it on their own, from any page (the pages link the SVG itself).
        return FileResponse(
            STATIC_DIR / "favicon.svg",
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    # The project router goes first: its fixed paths (`/jobs/card`, `/jobs/watch`) must win
    # over the job page's `/jobs/{job_id}`.
    for module in (
        auth_pages,
        project_pages,
        site_controls,
        job_pages,
        video_pages,
        docs_viewer,
        article_pages,
        revision_pages,
        settings_pages,
        glossary_pages,
        webhook_pages,
    ):
        app.include_router(module.router)
