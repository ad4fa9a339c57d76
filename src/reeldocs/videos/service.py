"""Videos: a project's recordings, uploaded, listed, served and deleted.

A video row is written only once its file is stored and has been read successfully, in
one short transaction at the end of the upload. No row therefore ever waits in status
`uploading` for bytes that may never come (a crash or a dropped connection leaves no
row behind), and nothing can start processing a file that is not all there.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from reeldocs.core.db import act_as_user, insert_unique, unused_slug
from reeldocs.core.deps import Actor
from reeldocs.core.errors import Invalid, NotFound, ReeldocsError, UnsupportedMedia
from reeldocs.core.languages import ordered_languages
from reeldocs.core.settings import Settings
from reeldocs.core.storage_async import AsyncStorage
from reeldocs.core.text import printable, slugify
from reeldocs.docs.models import Article
from reeldocs.media.errors import MediaError
from reeldocs.media.probe import VideoProbe, probe
from reeldocs.orgs.access import get_in_team, require_writer
from reeldocs.projects import service as projects
from reeldocs.projects.models import Project
from reeldocs.videos.models import Video
from reeldocs.videos.schemas import VideoOut
from reeldocs.videos.upload import MultipartReceiver, SourceStaging

MAX_TITLE_LENGTH = 200
UNTITLED = "Untitled video"
SCRATCH_DIR_NAME = "uploads"


def video_prefix(video_id: uuid.UUID) -> str:
    """Where everything stored for one video lives; removed with the video."""
    return f"videos/{video_id}"


def source_key(video_id: uuid.UUID) -> str:
    # Built from the id alone: a file name never becomes part of a storage path.
    return f"{video_prefix(video_id)}/source"


# -- titles ----------------------------------------------------------------------------------


def title_from_file_name(file_name: str | None) -> str:
    """'C:\\Users\\me\\Team tour.final.mp4' -> 'Team tour.final'."""
    base = re.split(r"[\\/]", file_name or "")[-1]
    stem, dot, _extension = base.rpartition(".")
    name = printable(stem if dot and stem.strip(". ") else base)
    return name[:MAX_TITLE_LENGTH].rstrip() or UNTITLED


def choose_title(title: str | None, file_name: str | None) -> str:
    if title is not None:
        cleaned = printable(title)
        if len(cleaned) > MAX_TITLE_LENGTH:
            raise Invalid(f"Keep the title to {MAX_TITLE_LENGTH} characters or fewer.")
        if cleaned:
            return cleaned
    return title_from_file_name(file_name)


async def unique_slug(session: AsyncSession, project_id: uuid.UUID, title: str) -> str:
    """A slug from `title` that no other video of the project has."""
    base = slugify(title, fallback="video")
    return await unused_slug(session, Video.slug, base, (Video.project_id, project_id))


def codecs_of(info: VideoProbe) -> dict[str, Any]:
    return {
        "container": info.container,
        "video": info.video_codec,
        "audio": info.audio_codec,
        "width": info.width,
        "height": info.height,
        "fps": round(info.fps, 3),
        "rotation": info.rotation,
    }


# -- reading ---------------------------------------------------------------------------------


async def primary_languages(
    session: AsyncSession, videos: list[Video]
) -> dict[uuid.UUID, str | None]:
    """Each video's primary language: the one its current docs were written in (the first
    language of the job that made them)."""
    primary: dict[uuid.UUID, str | None] = {video.id: None for video in videos}
    runs = {video.docs_run_id: video.id for video in videos if video.docs_run_id is not None}
    if runs:
        rows = await session.execute(
            sa.text(
                "SELECT DISTINCT ON (run_id) run_id, languages[1] FROM processing_jobs "
                "WHERE run_id = ANY(:runs) AND status = 'completed' ORDER BY run_id, created_at"
            ),
            {"runs": list(runs)},
        )
        for run_id, language in rows:
            primary[runs[run_id]] = language
    return primary


async def languages_ready(session: AsyncSession, videos: list[Video]) -> dict[uuid.UUID, list[str]]:
    """The languages each video's docs are complete in: its primary language first, then
    the others by name."""
    found: dict[uuid.UUID, list[str]] = {video.id: [] for video in videos}
    with_docs = [video for video in videos if video.docs_run_id is not None]
    if not with_docs:
        return found
    rows = await session.execute(
        sa.select(Article.video_id, Article.language)
        .distinct()
        .join(Video, sa.and_(Video.id == Article.video_id, Video.docs_run_id == Article.run_id))
        .where(Article.video_id.in_([v.id for v in with_docs]), Article.status == "published")
    )
    for video_id, language in rows:
        found[video_id].append(language)
    primary = await primary_languages(session, with_docs)
    return {
        video_id: ordered_languages(codes, primary.get(video_id))
        for video_id, codes in found.items()
    }


def _out(video: Video, languages_ready: list[str]) -> VideoOut:
    return VideoOut(
        id=video.id,
        project_id=video.project_id,
        title=video.title,
        slug=video.slug,
        status=video.status,  # type: ignore[arg-type]  # the table's CHECK keeps it valid
        duration_seconds=video.duration_seconds,
        size_bytes=video.size_bytes,
        source_language=video.source_language,
        languages_ready=languages_ready,
        published=video.published,
        created_at=video.created_at,
        mime=video.mime,
        codecs=dict(video.codecs or {}),
    )


async def describe(session: AsyncSession, videos: list[Video]) -> list[VideoOut]:
    ready = await languages_ready(session, videos)
    return [_out(video, ready[video.id]) for video in videos]


async def get(session: AsyncSession, actor: Actor, video_id: uuid.UUID) -> Video:
    return await get_in_team(session, actor, Video, video_id, "video")


async def show(session: AsyncSession, actor: Actor, video_id: uuid.UUID) -> VideoOut:
    return (await describe(session, [await get(session, actor, video_id)]))[0]


async def list_for_project(
    session: AsyncSession, actor: Actor, project_id: uuid.UUID
) -> list[VideoOut]:
    await projects.get(session, actor, project_id)
    videos = await session.execute(
        sa.select(Video)
        .where(Video.project_id == project_id)
        .order_by(Video.created_at.desc(), Video.id.desc())
    )
    return await describe(session, list(videos.scalars()))


async def update(
    session: AsyncSession,
    actor: Actor,
    video_id: uuid.UUID,
    *,
    title: str | None = None,
    published: bool | None = None,
) -> VideoOut:
    """Retitle the video (its slug stays), or publish it on its project's docs site."""
    video = await get_in_team(session, actor, Video, video_id, "video", write=True)
    if title is not None:
        cleaned = printable(title)
        if not cleaned:
            raise Invalid("Give the video a title.")
        if len(cleaned) > MAX_TITLE_LENGTH:
            raise Invalid(f"Keep the title to {MAX_TITLE_LENGTH} characters or fewer.")
        video.title = cleaned
    if published is not None:
        video.published = published
    await session.flush()
    await session.refresh(video)
    return (await describe(session, [video]))[0]


# -- uploading -------------------------------------------------------------------------------


async def _writable_project(session: AsyncSession, actor: Actor, project_id: uuid.UUID) -> Project:
    project = await projects.get(session, actor, project_id)
    await require_writer(session, actor, project.org_id, "project")
    return project


async def _probe(path: Any) -> VideoProbe:
    try:
        return await run_in_threadpool(probe, path)
    except MediaError as exc:
        raise UnsupportedMedia(exc.message) from None


@asynccontextmanager
async def _staged_source(
    session: AsyncSession, storage: AsyncStorage, settings: Settings, video_id: uuid.UUID
) -> AsyncIterator[SourceStaging]:
    """Where a new video's bytes are staged. Whatever stops the block (an error, a cancelled
    request) rolls the transaction back and removes what was staged: nothing half-stored."""
    staging = SourceStaging(
        storage,
        source_key(video_id),
        video_prefix(video_id),
        settings.data_dir / SCRATCH_DIR_NAME,
    )
    try:
        yield staging
    except BaseException:
        with anyio.CancelScope(shield=True):
            await session.rollback()
            await staging.discard()
        raise
    finally:
        staging.close()


async def upload(
    session: AsyncSession,
    actor: Actor,
    storage: AsyncStorage,
    settings: Settings,
    project_id: uuid.UUID,
    receiver: MultipartReceiver,
    body: AsyncIterator[bytes],
) -> VideoOut:
    """Receive a video into a project: stored, read, then recorded, or nothing at all.

    Unlike other requests this one manages its own transactions: a transaction open for
    the minutes an upload can take would hold a database connection all that time.
    """
    await _writable_project(session, actor, project_id)
    await session.commit()
    session.expunge_all()  # so the checks at the end read the database again

    video_id = uuid.uuid4()
    async with _staged_source(session, storage, settings, video_id) as staging:
        form = await receiver.receive(body, staging)
        title = choose_title(form.title, form.file_name)
        if form.file_bytes == 0:
            raise Invalid("The file is empty. Choose the video file again.")
        info = await _probe(await staging.readable_copy())

        # The project may have been deleted, or the uploader demoted, while the bytes came in.
        await act_as_user(session, actor.user_id)
        project = await _writable_project(session, actor, project_id)
        video = await _record(session, project, video_id, title, form.file_bytes, info)
        await staging.publish()
        await session.commit()
    return _out(video, [])


LOCAL_READ_BYTES = 1024 * 1024


async def add_local_file_as_operator(
    session: AsyncSession,
    storage: AsyncStorage,
    settings: Settings,
    project: Project,
    path: Path,
    title: str | None = None,
) -> VideoOut:
    """The CLI's way in: a video file on this machine into a project, as the service role.

    The same staging, probe and row as an upload, and the same outcome: stored, read,
    then recorded, or nothing at all. It commits the session's transaction.
    """
    video_id = uuid.uuid4()
    async with _staged_source(session, storage, settings, video_id) as staging:
        size = 0
        async with await anyio.open_file(path, "rb") as handle:
            while chunk := await handle.read(LOCAL_READ_BYTES):
                size += len(chunk)
                await staging.write(chunk)
        if size == 0:
            raise Invalid(f"The file {path} is empty: choose the video file again.")
        info = await _probe(await staging.readable_copy())
        video = await _record(
            session, project, video_id, choose_title(title, path.name), size, info
        )
        await staging.publish()
        await session.commit()
    return _out(video, [])


async def _record(
    session: AsyncSession,
    project: Project,
    video_id: uuid.UUID,
    title: str,
    size: int,
    info: VideoProbe,
) -> Video:
    """The row of a video whose file is stored and was read successfully."""

    async def build() -> Video:
        return Video(
            id=video_id,
            org_id=project.org_id,
            project_id=project.id,
            title=title,
            slug=await unique_slug(session, project.id, title),
            status="uploaded",
            storage_path=source_key(video_id),
            mime=info.mime,
            size_bytes=size,
            duration_seconds=info.duration_seconds,
            codecs=codecs_of(info),
        )

    video = await insert_unique(session, build)
    await session.refresh(video)
    return video


# -- deleting --------------------------------------------------------------------------------


async def delete(session: AsyncSession, actor: Actor, video_id: uuid.UUID) -> str:
    """Delete the video's rows (its job stopped first); return the storage prefix to remove."""
    from reeldocs.jobs import service as jobs

    video = await get(session, actor, video_id)
    await require_writer(session, actor, video.org_id, "video")
    # Locked only now: a viewer's FOR UPDATE would find no row (the write policy hides it).
    await session.refresh(video, with_for_update=True)
    await jobs.cancel_for_deleted_video(session, video.id)
    await session.delete(video)
    await session.flush()
    return video_prefix(video.id)


# -- serving the file ------------------------------------------------------------------------


class RangeNotSatisfiable(ReeldocsError):
    status = 416
    kind = "RangeNotSatisfiable"


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1


_SINGLE_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
# Past this many digits a byte position is beyond any file (and Python refuses to parse
# more than 4,300 digits): it is read as "very far" instead.
_MAX_POSITION_DIGITS = 19
_FAR = 10**_MAX_POSITION_DIGITS


def _position(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= _MAX_POSITION_DIGITS else _FAR


def requested_range(header: str | None, size: int) -> ByteRange | None:
    """The one byte range asked for, or None to send the whole file.

    Several ranges, or a header that is not understood, get the whole file: HTTP lets a
    server ignore Range, and a video player only ever asks for one.
    """
    match = _SINGLE_RANGE.match(header or "")
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    shown = (header or "").strip()
    unsatisfiable = RangeNotSatisfiable(
        f"The range asked for ({shown if len(shown) <= 60 else shown[:57] + '...'}) is "
        f"outside the file, which has {size} bytes."
    )
    if first == "":
        suffix = _position(last)
        if suffix == 0:
            raise unsatisfiable
        return ByteRange(max(0, size - suffix), size - 1)
    start = _position(first)
    if last != "" and _position(last) < start:
        return None
    if start >= size:
        raise unsatisfiable
    end = min(_position(last), size - 1) if last != "" else size - 1
    return ByteRange(start, end)


@dataclass(frozen=True)
class StoredSource:
    key: str
    size: int
    mime: str


async def stored_source(storage: AsyncStorage, video: Video) -> StoredSource:
    key = video.storage_path or source_key(video.id)
    size = await storage.size(key)
    if size is None:
        raise _missing_source()
    return StoredSource(key, size, video.mime or "application/octet-stream")


async def open_source(
    storage: AsyncStorage, source: StoredSource, wanted: ByteRange
) -> AsyncIterator[bytes]:
    """The range's bytes as they come; the object is opened before the answer starts."""
    try:
        return await storage.open_range(source.key, wanted.start, wanted.end)
    except FileNotFoundError:
        raise _missing_source() from None


def _missing_source() -> NotFound:
    return NotFound("This video's file is missing from storage. Upload the video again.")
