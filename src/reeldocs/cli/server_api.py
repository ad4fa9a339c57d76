"""The Reeldocs HTTP API as the command line uses it, with `--server URL --token TOKEN`.

Nothing here opens a database: every answer comes from the server, as the API contract
describes it. Whatever goes wrong is one sentence (`ServerRefused`): the server's own
`detail` when it refused, else what kept the command from asking it.
"""

from __future__ import annotations

import importlib.metadata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, BinaryIO, cast
from urllib.parse import urlsplit

import anyio
import httpx

from reeldocs.core.errors import ReeldocsError
from reeldocs.jobs.schemas import JobOut
from reeldocs.projects.service import ProjectReference

# Bytes sent or received so far, and the total when it is known.
Progress = Callable[[int, int | None], None]

CONNECT_SECONDS = 10.0
# An upload's answer comes once the server has read the whole file (it probes it first).
ANSWER_SECONDS = 120.0
DOWNLOAD_CHUNK = 1 << 20


class ServerRefused(ReeldocsError):
    """The server said no, or could not be asked; `detail` says which and why."""

    @property
    def passing(self) -> bool:
        """Whether asking again later may well succeed: the server was out of reach or
        said it could not answer now, rather than refusing."""
        return self.status in (502, 503, 504)


class ServerUnreachable(ServerRefused):
    status = 503


def server_address(text: str) -> str:
    """`--server`'s value as a base URL without a trailing slash; ValueError (a sentence)
    for anything that is no http(s) address."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{text!r} is no server address: give the address you open Reeldocs at, "
            "such as https://docs.example.com or http://127.0.0.1:8000."
        )
    return text.strip().rstrip("/")


@dataclass(frozen=True)
class ServerProject:
    id: uuid.UUID
    label: str  # ORG_SLUG/PROJECT_SLUG, as the commands show it


class _CountedFile:
    """A file handed to httpx's multipart encoder that reports each chunk it gives away.
    httpx rewinds it before sending (and before a resend), which starts the count again."""

    def __init__(self, handle: BinaryIO, total: int, progress: Progress) -> None:
        self._handle = handle
        self._total = total
        self._progress = progress
        self._sent = 0

    def fileno(self) -> int:  # how httpx learns the size for Content-Length
        return self._handle.fileno()

    def seek(self, offset: int, whence: int = 0) -> int:
        position = self._handle.seek(offset, whence)
        self._sent = position
        return position

    def tell(self) -> int:
        return self._handle.tell()

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self._sent += len(chunk)
        self._progress(self._sent, self._total)
        return chunk


class ServerApi:
    """One server, one token: the calls the commands make."""

    def __init__(self, server: str, token: str) -> None:
        self.server = server
        self._client = httpx.AsyncClient(
            base_url=server,
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": f"reeldocs-cli/{_own_version()}",
            },
            timeout=httpx.Timeout(ANSWER_SECONDS, connect=CONNECT_SECONDS),
        )

    async def __aenter__(self) -> ServerApi:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    # -- asking ---------------------------------------------------------------------------

    async def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        try:
            answer = await self._client.send(request, stream=stream)
        except httpx.TimeoutException:
            raise ServerUnreachable(
                f"The Reeldocs server at {self.server} did not answer in time; try again "
                "when it is less busy."
            ) from None
        except httpx.ConnectError as error:
            raise ServerUnreachable(
                f"Could not reach the Reeldocs server at {self.server} ({_reason(error)}): "
                "check the address given with --server and that the server is running."
            ) from None
        except httpx.TransportError as error:
            raise ServerUnreachable(
                f"The connection to the Reeldocs server at {self.server} broke "
                f"({_reason(error)}); try again."
            ) from None
        if answer.status_code >= 400:
            if stream:
                await answer.aread()
                await answer.aclose()
            raise ServerRefused(self._refusal(answer), status=answer.status_code)
        return answer

    def _refusal(self, answer: httpx.Response) -> str:
        if answer.status_code == 401:
            return (
                f"The server at {self.server} did not accept the token: create one on its "
                "settings page (or with `reeldocs tokens create` on the server) and give it "
                "with --token or REELDOCS_TOKEN."
            )
        try:
            detail = answer.json().get("detail")
        except (ValueError, AttributeError):
            detail = None
        if isinstance(detail, str) and detail:
            return detail
        return (
            f"The server at {self.server} answered {answer.status_code} "
            f"{answer.reason_phrase} to {answer.request.method} {answer.request.url.path}: "
            "is that the address of a Reeldocs server?"
        )

    async def _json(self, method: str, path: str, **options: Any) -> Any:
        answer = await self._send(self._client.build_request(method, path, **options))
        try:
            return answer.json()
        except ValueError:
            raise ServerRefused(
                f"The server at {self.server} did not answer {method} {path} as Reeldocs "
                "does: is that the address of a Reeldocs server?"
            ) from None

    # -- what the commands ask --------------------------------------------------------------

    async def language_options(self) -> tuple[list[str], list[str]]:
        """The languages the server writes docs in, and those it translates into."""
        options = await self._json("GET", "/api/languages")
        primary = [option["code"] for option in options if option.get("primary")]
        targets = [option["code"] for option in options if option.get("translate")]
        return primary, targets

    async def projects(self) -> list[ServerProject]:
        """Every project the token's user sees, named ORG_SLUG/PROJECT_SLUG."""
        teams = {team["id"]: team["slug"] for team in await self._json("GET", "/api/orgs")}
        return [
            ServerProject(
                uuid.UUID(project["id"]),
                f"{teams.get(project['org_id'], project['org_id'])}/{project['slug']}",
            )
            for project in await self._json("GET", "/api/projects")
        ]

    async def find_project(self, reference: ProjectReference) -> ServerProject:
        projects = await self.projects()
        if isinstance(reference, uuid.UUID):
            found = [project for project in projects if project.id == reference]
            missing = f"The token's user sees no project with the id {reference}"
        else:
            label = "/".join(reference)
            found = [project for project in projects if project.label == label]
            missing = f"The token's user sees no project {label}"
        if not found:
            seen = ", ".join(sorted(project.label for project in projects)) or "none"
            raise ServerRefused(f"{missing} on {self.server}. Projects it sees: {seen}.")
        return found[0]

    async def upload(self, project: ServerProject, path: Path, progress: Progress) -> Any:
        """Send a video file as the upload form does, streamed; the server's video."""
        total = (await anyio.Path(path).stat()).st_size
        with path.open("rb") as handle:
            counted = _CountedFile(handle, total, progress)
            request = self._client.build_request(
                "POST",
                f"/api/projects/{project.id}/videos",
                # httpx asks a file for read, seek, tell and fileno only: all it has.
                files={"file": (path.name, cast(IO[bytes], counted), "application/octet-stream")},
            )
            answer = await self._send(request)
        return answer.json()

    async def start_job(self, video_id: uuid.UUID, languages: list[str]) -> uuid.UUID:
        body = {"video_id": str(video_id), "languages": languages}
        answer = await self._json("POST", "/api/videos/process", json=body)
        return uuid.UUID(answer["job_id"])

    async def job(self, job_id: uuid.UUID, etag: str | None = None) -> tuple[JobOut | None, str]:
        """The job, or None when it has not changed since the answer that had `etag`."""
        headers = {"If-None-Match": etag} if etag else {}
        request = self._client.build_request("GET", f"/api/jobs/{job_id}", headers=headers)
        answer = await self._send(request)
        if answer.status_code == 304:
            return None, etag or ""
        return JobOut.model_validate(answer.json()), answer.headers.get("ETag", "")

    async def project_jobs(self, project: ServerProject, limit: int) -> list[JobOut]:
        jobs = await self._json(
            "GET", f"/api/projects/{project.id}/jobs", params={"state": "recent", "limit": limit}
        )
        return [JobOut.model_validate(job) for job in jobs]

    async def retry(self, job_id: uuid.UUID) -> uuid.UUID:
        return uuid.UUID((await self._json("POST", f"/api/jobs/{job_id}/retry"))["job_id"])

    async def cancel(self, job_id: uuid.UUID) -> str:
        return str((await self._json("POST", f"/api/jobs/{job_id}/cancel"))["status"])

    async def download_export(
        self,
        video_id: uuid.UUID,
        *,
        fmt: str,
        include_video: bool,
        target: Path,
        progress: Progress,
    ) -> None:
        """The video's export zip into `target`, streamed: never whole in memory."""
        params = {"format": fmt, "video": "true" if include_video else "false"}
        request = self._client.build_request("GET", f"/api/videos/{video_id}/export", params=params)
        answer = await self._send(request, stream=True)
        try:
            total = (
                int(answer.headers["Content-Length"])
                if "Content-Length" in answer.headers
                else None
            )
            received = 0
            async with await anyio.open_file(target, "wb") as sink:
                async for chunk in answer.aiter_bytes(DOWNLOAD_CHUNK):
                    await sink.write(chunk)
                    received += len(chunk)
                    progress(received, total)
        except httpx.TransportError as error:
            raise ServerUnreachable(
                f"The download of the docs from {self.server} broke ({_reason(error)}); try again."
            ) from None
        finally:
            await answer.aclose()


def _reason(error: Exception) -> str:
    return str(error).strip() or type(error).__name__


def _own_version() -> str:
    try:
        return importlib.metadata.version("reeldocs")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
