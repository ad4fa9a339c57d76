"""A video's docs as one folder, `<video-slug>/`, described once and written two ways.

`plan_tree` reads the database and lists every file of the folder: its path and either
its bytes (the text files) or the storage key to stream it from (screenshots, the video):

    <video-slug>/index.md                      its chapters in every language
    <video-slug>/<lang>/<NN>-<article-slug>.md articles with YAML front matter
    <video-slug>/screenshots/<name>.webp       only those the articles show
    <video-slug>/<lang>.vtt, <lang>.srt        subtitles
    <video-slug>/video.<ext>                   the source, when asked for

(`.mdx` instead of `.md` in the MDX format.) `open_zip` streams that list as a zip, and
`write_tree` writes it into a local folder: the two cannot drift, as neither decides
what the tree holds. `unpack_zip` puts a zip that a server streamed into a local folder
the way `write_tree` does, so `reeldocs process --server` leaves the same folder.

Storage is read in storage threads, one chunk at a time, and never whole: exporting a
video of gigabytes holds a chunk of it in memory, not the video.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import anyio
import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from zipstream import ZipStream

from reeldocs.core.deps import Actor
from reeldocs.core.errors import NotFound
from reeldocs.core.languages import ordered_languages
from reeldocs.core.storage import ByteChunks, Storage
from reeldocs.core.storage_async import AsyncStorage
from reeldocs.core.text import slugify
from reeldocs.docs import export_text as text
from reeldocs.docs import service as docs
from reeldocs.docs.models import Screenshot
from reeldocs.docs.subtitles import to_srt, to_webvtt
from reeldocs.videos import service as videos
from reeldocs.videos.models import Video

_logger = logging.getLogger(__name__)

ExportFormat = Literal["markdown", "mdx"]
EXTENSIONS: dict[str, str] = {"markdown": "md", "mdx": "mdx"}
SCREENSHOTS_FOLDER = "screenshots"
# What one path segment of the tree may be: never empty, `.`, `..` or a hidden name.
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_EXTENSION = re.compile(r"^[a-z0-9]{1,8}$")

# -- the tree ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    """A file whose bytes are in storage; `size` is known once the storage was asked."""

    key: str
    size: int | None = None
    required: bool = True  # else left out, with a warning, when missing from storage


@dataclass(frozen=True)
class TreeFile:
    path: str  # "<video-slug>/en/01-welcome.md": '/'-separated, the video's folder first
    content: bytes | StoredFile

    def __post_init__(self) -> None:
        segments = self.path.split("/")
        if len(segments) < 2 or not all(_SEGMENT.match(s) for s in segments):
            raise ValueError(f"{self.path!r} cannot be a path in an export")


@dataclass(frozen=True)
class ExportTree:
    """Every file of one video's export folder, in the order they are written."""

    root: str  # the video's slug: the folder's name
    files: list[TreeFile]
    zip_name: str


def _video_extension(video: Video) -> str:
    container = str((video.codecs or {}).get("container") or "")
    return container if _EXTENSION.match(container) else "bin"


def _video_page(video: Video, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/videos/{video.id}"


def _moment_link(video: Video, base_url: str, video_file: str | None) -> text.MomentLink:
    """Links from an article, one folder below the video's file."""
    if video_file is not None:
        return lambda seconds: f"../{video_file}#t={seconds}"
    page = _video_page(video, base_url)
    return lambda seconds: f"{page}#t={seconds}"


async def plan_tree(
    session: AsyncSession,
    video: Video,
    *,
    fmt: ExportFormat,
    include_video: bool,
    base_url: str,
) -> ExportTree:
    """The export of `video` (already checked to be the caller's), from the database alone.

    `base_url` is the app's address: without the video file, moments link to the video's
    page in the app there.
    """
    if fmt not in EXTENSIONS:
        raise ValueError(f"unknown export format {fmt!r}")
    run_id = docs.require_docs(video)
    extension = EXTENSIONS[fmt]
    root = video.slug if _SEGMENT.match(video.slug) else slugify(video.title, fallback="video")
    video_file = f"video.{_video_extension(video)}" if include_video else None

    articles = await docs.published_articles(session, video.id, run_id, None)
    subtitles = await docs.subtitles_by_language(session, run_id)
    primary = await docs.primary_language(session, video)
    by_language: dict[str, list[docs.ArticleView]] = {}
    for article in articles:  # in chapter order within each language
        by_language.setdefault(article.language, []).append(article)
    languages = ordered_languages([*by_language, *subtitles], primary)

    files: list[TreeFile] = []
    index: list[text.IndexLanguage] = []
    shown: set[str] = set()
    for language in languages:
        entries: list[text.IndexArticle] = []
        link = _moment_link(video, base_url, video_file)
        for number, article in enumerate(by_language.get(language, []), start=1):
            slug = article.slug if _SEGMENT.match(article.slug) else slugify(article.title)
            name = f"{language}/{number:02d}-{slug}.{extension}"
            shown |= text.shown_screenshots(article.content_markdown)
            content = text.article_file(
                article.content_markdown,
                title=article.title,
                position=number,
                screenshots_folder=f"../{SCREENSHOTS_FOLDER}",
                moment_link=link,
                mdx=fmt == "mdx",
            )
            files.append(TreeFile(f"{root}/{name}", content.encode()))
            entries.append(text.IndexArticle(article.title, name))
        tracks: list[tuple[str, str]] = []
        if language in subtitles:
            cues = docs.cues_of(subtitles[language])
            files.append(TreeFile(f"{root}/{language}.vtt", to_webvtt(cues).encode()))
            files.append(TreeFile(f"{root}/{language}.srt", to_srt(cues).encode()))
            tracks = [("WebVTT", f"{language}.vtt"), ("SRT", f"{language}.srt")]
        index.append(text.IndexLanguage(language, entries, tracks))

    index_body = text.index_file(
        title=video.title,
        video_link=video_file or _video_page(video, base_url),
        languages=index,
        mdx=fmt == "mdx",
    )
    files.insert(0, TreeFile(f"{root}/index.{extension}", index_body.encode()))

    stored = await session.execute(
        sa.select(Screenshot).where(Screenshot.run_id == run_id).order_by(Screenshot.name)
    )
    for shot in stored.scalars():
        if shot.name in shown:
            shown.discard(shot.name)  # once, should the run have stored a name twice
            path = f"{root}/{SCREENSHOTS_FOLDER}/{shot.name}"
            # The export is still of use without one picture: its link shows as broken.
            files.append(TreeFile(path, StoredFile(shot.storage_path, required=False)))
    if video_file is not None:
        key = video.storage_path or videos.source_key(video.id)
        files.append(TreeFile(f"{root}/{video_file}", StoredFile(key)))
    return ExportTree(root, files, f"{root}-{fmt}.zip")


async def load_tree(
    session: AsyncSession,
    actor: Actor,
    video_id: uuid.UUID,
    *,
    fmt: ExportFormat,
    include_video: bool,
    base_url: str,
) -> ExportTree:
    """The export of a video the caller may read."""
    video = await videos.get(session, actor, video_id)
    return await plan_tree(session, video, fmt=fmt, include_video=include_video, base_url=base_url)


# -- reading the stored files ------------------------------------------------------------------


async def _with_sizes(tree: ExportTree, storage: AsyncStorage) -> list[TreeFile]:
    """The tree's files with their stored sizes, asked all at once. The storage is asked
    before any byte is written, so a storage that does not answer fails the export
    before it starts (a 503 rather than a zip cut short)."""
    keys = {f.content.key for f in tree.files if isinstance(f.content, StoredFile)}
    sizes: dict[str, int | None] = {}

    async def look(key: str) -> None:
        sizes[key] = await storage.size(key)

    try:
        async with anyio.create_task_group() as group:
            for key in sorted(keys):
                group.start_soon(look, key)
    except ExceptionGroup as failures:
        raise failures.exceptions[0] from None

    files: list[TreeFile] = []
    for file in tree.files:
        if not isinstance(file.content, StoredFile):
            files.append(file)
            continue
        size = sizes[file.content.key]
        if size is not None:
            files.append(replace(file, content=replace(file.content, size=size)))
        elif not file.content.required:
            _logger.warning("export of %s left out %s: missing from storage", tree.root, file.path)
        else:
            raise NotFound("This video's file is missing from storage. Upload the video again.")
    return files


class _OpenedChunks:
    """The storage reads an export has open, closed when it ends however it ends."""

    def __init__(self, backend: Storage) -> None:
        self.backend = backend
        self.opened: list[ByteChunks] = []

    def read(self, key: str, size: int) -> Iterator[bytes]:
        """A stored file's bytes; opened when the first is wanted (in a storage thread)."""
        if size == 0:
            return
        chunks = self.backend.open_range(key, 0, size - 1)
        self.opened.append(chunks)
        try:
            yield from chunks
        finally:
            chunks.close()

    def close(self) -> None:
        for chunks in self.opened:
            chunks.close()  # closes a file or a socket: it does not wait


# -- the zip -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZipExport:
    name: str
    size: int  # of the whole zip, known before it is written
    chunks: AsyncIterator[bytes]


async def open_zip(tree: ExportTree, storage: AsyncStorage) -> ZipExport:
    """The tree as a zip, made as it is read. Files are stored as they are (screenshots
    and videos are compressed already, text is small), which makes the zip's size known
    before it starts: a browser shows how far a download has come."""
    files = await _with_sizes(tree, storage)
    reads = _OpenedChunks(storage.backend)
    archive = ZipStream(sized=True)
    for file in files:
        if isinstance(file.content, bytes):
            archive.add(file.content, file.path)
        else:
            size = file.content.size or 0
            archive.add(reads.read(file.content.key, size), file.path, size=size)
    return ZipExport(tree.zip_name, len(archive), _zip_chunks(archive, storage, reads))


def _next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


async def _zip_chunks(
    archive: ZipStream, storage: AsyncStorage, reads: _OpenedChunks
) -> AsyncIterator[bytes]:
    chunks = iter(archive)
    try:
        # Each step may read storage: it runs in a storage thread, never on the event loop.
        while (chunk := await storage.run(_next_chunk, chunks)) is not None:
            yield chunk
    finally:
        reads.close()


# -- the folder --------------------------------------------------------------------------------


async def write_tree(tree: ExportTree, storage: AsyncStorage, out_dir: Path) -> Path:
    """Write the tree into `out_dir` and return the video's folder, `out_dir/<video-slug>`.

    The folder is written beside its final place and then put there, replacing a folder of
    an earlier export whole: it never mixes files of two exports, nor holds half a file.
    """
    files = await _with_sizes(tree, storage)
    staging = Path(await anyio.to_thread.run_sync(_staging_folder, out_dir, tree.root))
    try:
        for file in files:
            target = staging / file.path.split("/", 1)[1]
            await anyio.to_thread.run_sync(_make_parent, target)
            if isinstance(file.content, bytes):
                await anyio.Path(target).write_bytes(file.content)
            else:
                await _copy_stored(storage, file.content, target)
        return await anyio.to_thread.run_sync(_put_in_place, staging, out_dir / tree.root)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_remove, staging)
        raise


async def _copy_stored(storage: AsyncStorage, stored: StoredFile, target: Path) -> None:
    async with await anyio.open_file(target, "wb") as handle:
        if stored.size:
            async for chunk in await storage.open_range(stored.key, 0, stored.size - 1):
                await handle.write(chunk)


class DamagedExport(ValueError):
    """A zip that is no export: what is wrong with it, as a sentence."""


def unpack_zip(archive: Path, out_dir: Path) -> Path:
    """Put the `<video-slug>/` folder of an export zip into `out_dir`, as `write_tree`
    would, and return it. Every name is checked before anything is written: one root
    folder, ordinary path segments only (never `..`, an absolute path or a hidden name),
    so a zip cannot write outside its folder."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = [info for info in bundle.infolist() if not info.is_dir()]
            root = _single_root(info.filename for info in members)
            staging = Path(_staging_folder(out_dir, root))
            try:
                for info in members:
                    target = staging / info.filename.split("/", 1)[1]
                    _make_parent(target)
                    with bundle.open(info) as source, target.open("wb") as sink:
                        shutil.copyfileobj(source, sink, _COPY_CHUNK)
                return _put_in_place(staging, out_dir / root)
            except BaseException:
                _remove(staging)
                raise
    except (zipfile.BadZipFile, EOFError) as error:
        raise DamagedExport(f"The export is not a readable zip ({error}).") from None


_COPY_CHUNK = 1 << 20


def _single_root(names: Iterator[str]) -> str:
    roots = set()
    for name in names:
        segments = name.split("/")
        if len(segments) < 2 or not all(_SEGMENT.match(segment) for segment in segments):
            raise DamagedExport(f"The export holds a file named {name[:80]!r}, outside its folder.")
        roots.add(segments[0])
    if len(roots) != 1:
        raise DamagedExport(
            f"The export should hold one video's folder; it holds {len(roots)} folders."
        )
    return roots.pop()


def _staging_folder(out_dir: Path, root: str) -> str:
    out_dir.mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(dir=out_dir, prefix=f".{root}.partial-")


def _make_parent(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)


def _put_in_place(staging: Path, target: Path) -> Path:
    staging.chmod(0o755)  # mkdtemp made it private; the export is an ordinary folder
    if target.exists():
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
        target.rename(old / target.name)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(target)
    return target


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
