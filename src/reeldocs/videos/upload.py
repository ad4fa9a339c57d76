"""Receiving an upload: a streaming multipart parser, and the staging of the file's bytes.

Starlette's `request.form()` reads the whole body before it returns, so the upload cap
could only be applied after gigabytes had arrived. Here the body is parsed as it comes in:
the file's bytes go on to storage about a mebibyte at a time, and the cap is applied to
the bytes actually received (Content-Length is checked first but never trusted alone).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

import anyio
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import (
    DEFAULT_MAX_HEADER_COUNT,
    DEFAULT_MAX_HEADER_SIZE,
    MultipartParser,
    parse_options_header,
)
from starlette.requests import ClientDisconnect

from reeldocs.core.errors import Invalid, ReeldocsError, TooLarge, UnsupportedMedia
from reeldocs.core.storage import LocalStorage
from reeldocs.core.storage_async import AsyncStorage
from reeldocs.core.text import printable

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

_logger = logging.getLogger(__name__)

FILE_FIELD = "file"
TITLE_FIELD = "title"
# Room for boundaries, part headers and the small fields around the file. Refusing past
# cap + this keeps what is read from a refused body under cap + 1 MiB, chunk included.
FORM_OVERHEAD_ALLOWANCE = 512 * 1024
MAX_SMALL_FIELD_BYTES = 16 * 1024
# Bytes gathered before one write to storage (in a worker thread, off the event loop).
FLUSH_BYTES = 1024 * 1024
# How the scratch copy of an upload to S3 is named (see videos.leftovers).
SCRATCH_COPY_PREFIX = "upload-"


def _shown_field(name: str) -> str:
    """A form field's name as a sentence may quote it: printable and short."""
    if not name:
        return "with no name"
    cleaned = printable(name)
    return f"'{cleaned if len(cleaned) <= 40 else cleaned[:37] + '...'}'"


def _parse_failure(error: MultipartParseError) -> str:
    reason = str(error)
    if "header size" in reason:
        # The longest part header is the file's Content-Disposition: its name is too long.
        return (
            "The file name is too long: a form part's header may have at most "
            f"{DEFAULT_MAX_HEADER_SIZE:,} bytes. Rename the file to something shorter and "
            "upload it again."
        )
    if "header count" in reason:
        return f"A form part has more than {DEFAULT_MAX_HEADER_COUNT} headers. " + _NOT_MULTIPART
    return "The upload is not well-formed multipart/form-data. " + _NOT_MULTIPART


class FileSink(Protocol):
    async def write(self, data: bytes) -> None: ...


def describe_size(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def _too_large(max_file_bytes: int) -> TooLarge:
    return TooLarge(
        f"This file is larger than the upload limit of {describe_size(max_file_bytes)}. "
        "Trim or compress the video, or ask your administrator to raise "
        "REELDOCS_MAX_UPLOAD_BYTES."
    )


_NOT_MULTIPART = (
    "Send the video as multipart/form-data, with the file in a field named 'file' "
    "(and optionally a 'title' field)."
)


@dataclass
class ReceivedForm:
    file_name: str | None
    title: str | None
    file_bytes: int


@dataclass
class _Part:
    name: str = ""
    file_name: str | None = None
    headers: dict[bytes, bytes] = field(default_factory=dict)
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    value: bytearray = field(default_factory=bytearray)


class MultipartReceiver:
    """Reads one multipart/form-data body as it arrives and passes the file on to a sink.

    Only the field named `file` is kept as a file and `title` as text; other small fields
    are read and ignored. `bytes_read` counts the raw body; `body_complete` says whether
    the whole body was read (when it was not, the caller should close the connection
    rather than let the server read the rest).
    """

    def __init__(
        self, content_type: str | None, content_length: str | None, max_file_bytes: int
    ) -> None:
        self.max_file_bytes = max_file_bytes
        self.max_body_bytes = max_file_bytes + FORM_OVERHEAD_ALLOWANCE
        self.bytes_read = 0
        self.body_complete = False
        kind, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise UnsupportedMedia(_NOT_MULTIPART)
        self._boundary = boundary
        if content_length is not None and content_length.strip().isdigit():
            if int(content_length) > self.max_body_bytes:
                _logger.info(
                    "upload refused before reading: Content-Length %s is over the limit",
                    content_length,
                )
                raise _too_large(max_file_bytes)
        self._part = _Part()
        self._file_seen = False
        self._file_bytes = 0
        self._file_name: str | None = None
        self._title: str | None = None
        self._pending: list[bytes] = []
        self._form_ended = False

    async def receive(self, chunks: AsyncIterator[bytes], sink: FileSink) -> ReceivedForm:
        parser = MultipartParser(self._boundary, self._callbacks())
        try:
            async for chunk in chunks:
                self.bytes_read += len(chunk)
                if self.bytes_read > self.max_body_bytes:
                    raise self._refuse_over_cap()
                try:
                    parser.write(chunk)
                except MultipartParseError as error:
                    raise Invalid(_parse_failure(error)) from None
                if self._file_bytes > self.max_file_bytes:
                    raise self._refuse_over_cap()
                if self._pending:
                    data = b"".join(self._pending)
                    self._pending.clear()
                    await sink.write(data)
        except ClientDisconnect:
            raise ReeldocsError(
                "The upload was interrupted before the whole file arrived. Please try again."
            ) from None
        self.body_complete = True
        if not self._form_ended:
            raise ReeldocsError("The upload ended before the whole file arrived. Please try again.")
        if not self._file_seen:
            raise Invalid("Choose a video file to upload, sent in a form field named 'file'.")
        return ReceivedForm(self._file_name, self._title, self._file_bytes)

    def _refuse_over_cap(self) -> TooLarge:
        _logger.info(
            "upload refused after reading %d bytes of the body: the file is over the %d-byte limit",
            self.bytes_read,
            self.max_file_bytes,
        )
        return _too_large(self.max_file_bytes)

    # -- parser callbacks (synchronous: file bytes are queued and written after each chunk)

    def _callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        }

    def _on_part_begin(self) -> None:
        self._part = _Part()

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._part.header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._part.header_value += data[start:end]

    def _on_header_end(self) -> None:
        part = self._part
        part.headers[bytes(part.header_field).strip().lower()] = bytes(part.header_value).strip()
        part.header_field.clear()
        part.header_value.clear()

    def _on_headers_finished(self) -> None:
        part = self._part
        _, options = parse_options_header(part.headers.get(b"content-disposition", b""))
        part.name = options.get(b"name", b"").decode("utf-8", "replace")
        if part.name != FILE_FIELD and b"filename" in options:
            raise Invalid(
                f"The file was sent in the form field {_shown_field(part.name)}; send the "
                f"video in the field '{FILE_FIELD}' instead."
            )
        if part.name == FILE_FIELD:
            if self._file_seen:
                raise Invalid("Send one video per upload.")
            self._file_seen = True
            raw_name = options.get(b"filename")
            self._file_name = raw_name.decode("utf-8", "replace") if raw_name else None

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part.name == FILE_FIELD:
            self._pending.append(data[start:end])
            self._file_bytes += end - start
            return
        self._part.value += data[start:end]
        if len(self._part.value) > MAX_SMALL_FIELD_BYTES:
            raise Invalid(
                f"The form field {_shown_field(self._part.name)} is over "
                f"{MAX_SMALL_FIELD_BYTES // 1024} KB, too long for a text field. Send the "
                f"video in the field '{FILE_FIELD}' and its title in '{TITLE_FIELD}'."
            )

    def _on_part_end(self) -> None:
        if self._part.name == TITLE_FIELD:
            self._title = bytes(self._part.value).decode("utf-8", "replace")

    def _on_end(self) -> None:
        self._form_ended = True


class SourceStaging:
    """An uploaded video on its way into storage, kept where it can be probed before use.

    Local storage: the bytes go through the storage writer, which commits by renaming, and
    are probed where they land. Other storage (S3): the bytes go to a multipart upload and
    to a scratch file at once; the upload is completed only once the scratch copy has been
    probed, and the scratch copy is always removed. Either way memory stays bounded:
    at most FLUSH_BYTES here plus what the writer buffers (an 8 MiB part for S3).
    """

    def __init__(self, storage: AsyncStorage, key: str, prefix: str, scratch_dir: Path) -> None:
        self._storage = storage
        self._key = key
        self._prefix = prefix
        self._buffer = bytearray()
        self._published = False
        self._scratch: IO[bytes] | None = None
        self._scratch_path: Path | None = None
        self._writer = storage.backend.writer(key)
        if not isinstance(storage.backend, LocalStorage):
            try:
                scratch_dir.mkdir(parents=True, exist_ok=True)
                fd, name = tempfile.mkstemp(dir=scratch_dir, prefix=SCRATCH_COPY_PREFIX)
            except OSError:
                self._writer.abort()
                raise
            self._scratch, self._scratch_path = os.fdopen(fd, "wb"), Path(name)

    async def write(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= FLUSH_BYTES:
            await self._flush()

    async def _flush(self) -> None:
        if self._buffer:
            data = bytes(self._buffer)
            self._buffer.clear()
            await self._storage.run(self._write_through, data)

    def _write_through(self, data: bytes) -> None:
        self._writer.write(data)
        if self._scratch is not None:
            self._scratch.write(data)

    async def readable_copy(self) -> Path:
        """A local file with every byte received, for probing."""
        await self._flush()
        if self._scratch is None or self._scratch_path is None:
            # Local storage: commit in place; a refused file is removed by discard().
            await self._storage.run(self._writer.commit)
            self._published = True
            assert isinstance(self._storage.backend, LocalStorage)
            return self._storage.backend.path(self._key)
        await anyio.to_thread.run_sync(self._scratch.close)
        return self._scratch_path

    async def publish(self) -> None:
        if not self._published:
            await self._storage.run(self._writer.commit)
            self._published = True

    async def discard(self) -> None:
        """Leave nothing behind: neither a partial object nor the video's folder."""
        with anyio.CancelScope(shield=True):
            try:
                if not self._published:
                    await self._storage.run(self._writer.abort)
                await self._storage.delete_prefix(self._prefix)
            except Exception:  # noqa: BLE001 - the original error is the one to report
                _logger.warning("could not remove a refused upload at %s", self._key, exc_info=True)

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.close()
        if self._scratch_path is not None:
            self._scratch_path.unlink(missing_ok=True)
