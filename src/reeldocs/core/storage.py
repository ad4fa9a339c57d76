"""Object storage: a local directory or an S3 bucket, behind one small interface.

Keys are built by Reeldocs only (`videos/<uuid>/source`, …), never from user
input such as file names. Writes are streamed in chunks so memory stays bounded
whatever the size of the object.

Every call here blocks: async code goes through `reeldocs.core.storage_async`,
which runs them in threads. S3 calls have timeouts chosen by who calls (a web
request waits seconds, a worker longer), and every failure to reach the storage
becomes `StorageUnavailable`, a sentence a person can act on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import urlparse

from reeldocs.core.errors import StorageUnavailable

_logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
# How a local file being written is named until it is complete.
PARTIAL_PREFIX = ".partial-"
DOWNLOAD_CHUNK = 4 * CHUNK


@dataclass(frozen=True)
class StorageTimeouts:
    """How long one S3 call may wait, and how many times botocore tries it."""

    connect_seconds: float
    read_seconds: float  # for each read from the socket, not for a whole object
    attempts: int  # the first try included


# A web request gives up after about attempts × read_seconds (plus a short backoff) and
# answers 503: a page must not hang for minutes on a storage server that is not answering.
WEB_TIMEOUTS = StorageTimeouts(connect_seconds=2.0, read_seconds=5.0, attempts=2)
# A worker may wait longer for a busy server, and its job retries the step on top of this.
WORKER_TIMEOUTS = StorageTimeouts(connect_seconds=5.0, read_seconds=30.0, attempts=3)


class Writer(Protocol):
    def write(self, data: bytes) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


class ByteChunks:
    """An opened byte range: iterate for its chunks, close() to stop early."""

    def __init__(self, chunks: Iterator[bytes], close: Callable[[], None]) -> None:
        self._chunks = chunks
        self._close = close

    def __iter__(self) -> ByteChunks:
        return self

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        self._close()


class DownloadStopped(Exception):
    """A download was asked to stop (its job was cancelled) before it finished."""


class Storage(Protocol):
    def writer(self, key: str) -> Writer: ...
    def put_file(self, key: str, path: Path) -> None: ...
    def open_range(self, key: str, start: int, end: int) -> ByteChunks:
        """Bytes start..end inclusive. The object is opened here, so a failure to reach the
        storage (or a missing object: FileNotFoundError) raises before the first chunk."""
        ...

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes start..end inclusive, in chunks."""
        ...

    def size(self, key: str) -> int | None: ...
    def delete_prefix(self, prefix: str) -> None: ...
    def delete(self, key: str) -> None: ...
    def local_path(self, key: str) -> Path | None:
        """The stored file itself when the storage is a local directory; else None."""
        ...

    def folders(self, prefix: str) -> list[str]:
        """The names directly under `prefix/` that hold objects (or unfinished writes)."""
        ...

    def last_change(self, prefix: str) -> float | None:
        """When anything under `prefix/` was last written (epoch seconds), unfinished writes
        included; None when there is nothing."""
        ...

    def remove_unfinished(self, prefix: str, before: float) -> int:
        """Remove writes under `prefix/` that were never finished and untouched since `before`
        (epoch seconds; of an S3 multipart upload only its start is known): what a process
        killed while writing leaves. How many were removed."""
        ...

    def download(
        self, key: str, target: Path, should_stop: Callable[[], bool] | None = None
    ) -> None: ...
    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]: ...
    def exists(self, key: str) -> bool: ...


def _check_key(key: str) -> str:
    parts = key.split("/")
    if key.startswith("/") or any(part in {"", ".", ".."} for part in parts):
        raise ValueError(f"invalid storage key {key!r}")
    return key


class _LocalWriter:
    def __init__(self, final: Path) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        self._final = final
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=PARTIAL_PREFIX)
        self._tmp = Path(tmp)
        self._file: IO[bytes] = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def commit(self) -> None:
        self._file.close()
        os.replace(self._tmp, self._final)  # readers never see half an object

    def abort(self) -> None:
        self._file.close()
        self._tmp.unlink(missing_ok=True)


@dataclass
class LocalStorage:
    root: Path

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(PermissionError):
            self.root.chmod(0o700)

    def path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def writer(self, key: str) -> Writer:
        return _LocalWriter(self.path(key))

    def put_file(self, key: str, path: Path) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{PARTIAL_PREFIX}{target.name}")
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)

    def open_range(self, key: str, start: int, end: int) -> ByteChunks:
        handle = open(self.path(key), "rb")  # noqa: SIM115 - closed by the chunks' close()
        handle.seek(start)

        def chunks() -> Iterator[bytes]:
            with handle:
                remaining = end - start + 1
                while remaining > 0:
                    chunk = handle.read(min(CHUNK, remaining))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                    yield chunk

        return ByteChunks(chunks(), handle.close)

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        yield from self.open_range(key, start, end)

    def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            return None

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self.path(prefix.rstrip("/")), ignore_errors=True)

    def local_path(self, key: str) -> Path | None:
        return self.path(key)

    def folders(self, prefix: str) -> list[str]:
        try:
            entries = list(os.scandir(self.path(prefix.rstrip("/"))))
        except FileNotFoundError:
            return []
        return [entry.name for entry in entries if entry.is_dir(follow_symlinks=False)]

    def last_change(self, prefix: str) -> float | None:
        newest: float | None = None
        for folder, _, files in os.walk(self.path(prefix.rstrip("/"))):
            # a folder's own time too: a writer creates its folder before its file
            for name in [".", *files]:
                with contextlib.suppress(FileNotFoundError):
                    changed = (Path(folder) / name).lstat().st_mtime
                    newest = changed if newest is None else max(newest, changed)
        return newest

    def remove_unfinished(self, prefix: str, before: float) -> int:
        removed = 0
        for folder, _, files in os.walk(self.path(prefix.rstrip("/"))):
            for name in files:
                path = Path(folder) / name
                # Written to a .partial- file, renamed once complete (see _LocalWriter):
                # its last write is the newest sign of life an unfinished one can give.
                with contextlib.suppress(FileNotFoundError):
                    if name.startswith(PARTIAL_PREFIX) and path.lstat().st_mtime < before:
                        path.unlink()
                        removed += 1
                        self._remove_empty_folders(path.parent, prefix)
        return removed

    def _remove_empty_folders(self, folder: Path, prefix: str) -> None:
        """Remove `folder` and the folders above it that became empty, below `prefix`
        (as on S3, where a folder is only the objects that name it)."""
        top = self.path(prefix.rstrip("/"))
        while folder != top and top in folder.parents:
            try:
                folder.rmdir()
            except OSError:  # not empty, or gone already
                return
            folder = folder.parent

    def download(
        self, key: str, target: Path, should_stop: Callable[[], bool] | None = None
    ) -> None:
        shutil.copyfile(self.path(key), target)

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        yield self.path(key)


class _S3Writer:
    """A multipart upload: parts of 8 MiB are sent as they fill, never the whole object."""

    PART = 8 * 1024 * 1024

    def __init__(self, storage: S3Storage, key: str) -> None:
        self._storage = storage
        self._client = storage.client
        self._bucket = storage.bucket
        self._key = key
        self._buffer = bytearray()
        self._parts: list[dict[str, object]] = []
        self._upload_id: str | None = None

    def _send_part(self) -> None:
        if self._upload_id is None:
            answer = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._key)
            self._upload_id = answer["UploadId"]
        number = len(self._parts) + 1
        answer = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=bytes(self._buffer),
        )
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        self._buffer.clear()

    def write(self, data: bytes) -> None:
        self._buffer.extend(data)
        if len(self._buffer) >= self.PART:
            with self._storage.errors("store the file"):
                self._send_part()

    def commit(self) -> None:
        with self._storage.errors("store the file"):
            if self._upload_id is None:
                self._client.put_object(
                    Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer)
                )
                return
            if self._buffer:
                self._send_part()
            self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )

    def abort(self) -> None:
        if self._upload_id is not None:
            with self._storage.errors("remove an unfinished upload"):
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
                )
        self._buffer.clear()


# Answers of an S3 server that mean "busy or failing for now", worth trying again.
_TRANSIENT_CODES = {
    "InternalError",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "ServiceUnavailable",
    "SlowDown",
    "Throttling",
    "ThrottlingException",
}
_CREDENTIAL_CODES = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "403",
}


def _unavailable(reason: str, action: str) -> StorageUnavailable:
    return StorageUnavailable(
        f"The file storage is not answering ({reason}), so Reeldocs could not {action}. "
        "Try again in a minute; if it keeps happening, tell your administrator.",
        reason=reason,
        transient=True,
    )


class S3Storage:
    def __init__(
        self,
        bucket: str,
        prefix: str,
        endpoint_url: str | None = None,
        timeouts: StorageTimeouts = WORKER_TIMEOUTS,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.timeouts = timeouts
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            config=Config(
                connect_timeout=timeouts.connect_seconds,
                read_timeout=timeouts.read_seconds,
                retries={"max_attempts": timeouts.attempts, "mode": "standard"},
                max_pool_connections=20,
            ),
        )

    def _key(self, key: str) -> str:
        _check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    @contextlib.contextmanager
    def errors(self, action: str) -> Iterator[None]:
        """Turn botocore's failures into StorageUnavailable; `action` completes
        "Reeldocs could not …" in the sentence a person reads."""
        from botocore.exceptions import (
            ClientError,
            ConnectionError,
            ConnectTimeoutError,
            EndpointConnectionError,
            HTTPClientError,
            IncompleteReadError,
            NoCredentialsError,
            PartialCredentialsError,
            ReadTimeoutError,
        )
        from s3transfer.exceptions import RetriesExceededError

        try:
            yield
        except ClientError as error:
            raise self._refused(error, action) from error
        except (NoCredentialsError, PartialCredentialsError) as error:
            raise StorageUnavailable(
                "Reeldocs has no credentials for the file storage, so it could not "
                f"{action}. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or another "
                "AWS credential source) for every Reeldocs process.",
                reason="no credentials",
                transient=False,
            ) from error
        except (
            ConnectionError,
            HTTPClientError,
            IncompleteReadError,
            RetriesExceededError,
        ) as error:
            cause = getattr(error, "last_exception", None) or error
            if isinstance(cause, ConnectTimeoutError):
                reason = "connecting timed out"
            elif isinstance(cause, ReadTimeoutError):
                reason = "it stopped answering"
            elif isinstance(cause, EndpointConnectionError):
                reason = "it refused the connection or could not be found"
            else:
                reason = "the connection failed"
            _logger.warning("storage %s: %s (%s)", action, reason, error)
            raise _unavailable(reason, action) from error

    def _refused(self, error: Any, action: str) -> Exception:
        answer = error.response
        code = str(answer.get("Error", {}).get("Code", ""))
        status = int(answer.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in ("NoSuchKey", "404"):
            return FileNotFoundError(f"no stored object {error.operation_name}")
        if status >= 500 or code in _TRANSIENT_CODES:
            _logger.warning("storage %s: the server answered %s %s", action, status, code)
            return _unavailable(f"the server answered {status} {code}".strip(), action)
        if code == "NoSuchBucket":
            return StorageUnavailable(
                f"The storage bucket '{self.bucket}' does not exist, so Reeldocs could not "
                f"{action}. Create the bucket (Reeldocs never creates one) or correct "
                "REELDOCS_STORAGE_URL.",
                reason="no such bucket",
                transient=False,
            )
        if code in _CREDENTIAL_CODES:
            return StorageUnavailable(
                f"The file storage refused Reeldocs' credentials ({code}), so Reeldocs could "
                f"not {action}. Check the AWS access keys and the bucket's permissions.",
                reason=f"refused: {code}",
                transient=False,
            )
        return StorageUnavailable(
            f"The file storage refused the request ({status} {code}), so Reeldocs could not "
            f"{action}. Tell your administrator.",
            reason=f"refused: {status} {code}",
            transient=False,
        )

    def writer(self, key: str) -> Writer:
        return _S3Writer(self, self._key(key))

    def put_file(self, key: str, path: Path) -> None:
        with self.errors("store a file"):
            self.client.upload_file(str(path), self.bucket, self._key(key))

    def open_range(self, key: str, start: int, end: int) -> ByteChunks:
        with self.errors("read the file"):
            answer = self.client.get_object(
                Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{end}"
            )
        body = answer["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                with self.errors("read the file"):
                    yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        return ByteChunks(chunks(), body.close)

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        yield from self.open_range(key, start, end)

    def size(self, key: str) -> int | None:
        try:
            with self.errors("look up the file"):
                answer = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except FileNotFoundError:
            return None
        return int(answer["ContentLength"])

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def delete(self, key: str) -> None:
        with self.errors("delete a file"):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def delete_prefix(self, prefix: str) -> None:
        full = self._key(prefix.rstrip("/")) + "/"
        with self.errors("delete the files"):
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if keys:
                    self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})

    def local_path(self, key: str) -> Path | None:
        return None

    def folders(self, prefix: str) -> list[str]:
        full = self._key(prefix.rstrip("/")) + "/"
        names: set[str] = set()
        with self.errors("list the stored files"):
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=full, Delimiter="/"
            ):
                names.update(
                    item["Prefix"][len(full) :].rstrip("/")
                    for item in page.get("CommonPrefixes", [])
                )
            for upload in self._unfinished(full):
                names.add(upload["Key"][len(full) :].split("/", 1)[0])
        return sorted(names)

    def _unfinished(self, full_prefix: str) -> Iterator[dict[str, Any]]:
        for page in self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=full_prefix
        ):
            yield from page.get("Uploads", [])

    def last_change(self, prefix: str) -> float | None:
        full = self._key(prefix.rstrip("/")) + "/"
        times: list[float] = []
        with self.errors("list the stored files"):
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=full
            ):
                times += [item["LastModified"].timestamp() for item in page.get("Contents", [])]
            times += [upload["Initiated"].timestamp() for upload in self._unfinished(full)]
        return max(times, default=None)

    def remove_unfinished(self, prefix: str, before: float) -> int:
        full = self._key(prefix.rstrip("/")) + "/"
        removed = 0
        with self.errors("remove unfinished uploads"):
            for upload in list(self._unfinished(full)):
                if upload["Initiated"].timestamp() < before:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    removed += 1
        return removed

    def download(
        self, key: str, target: Path, should_stop: Callable[[], bool] | None = None
    ) -> None:
        """One GET streamed to `target`, checking `should_stop` at every chunk; a connection
        lost part way goes on from the bytes already written, up to `attempts` times."""
        from botocore.exceptions import ConnectionError, HTTPClientError, IncompleteReadError

        with self.errors("fetch the video"), open(target, "wb") as out:
            for attempt in range(1, self.timeouts.attempts + 1):
                ranged = {"Range": f"bytes={out.tell()}-"} if out.tell() else {}
                body = None
                try:
                    answer = self.client.get_object(
                        Bucket=self.bucket, Key=self._key(key), **ranged
                    )
                    body = answer["Body"]
                    for chunk in body.iter_chunks(DOWNLOAD_CHUNK):
                        if should_stop is not None and should_stop():
                            raise DownloadStopped()
                        out.write(chunk)
                    return
                except (ConnectionError, HTTPClientError, IncompleteReadError):
                    if attempt == self.timeouts.attempts:
                        raise
                    _logger.warning("fetching %s stopped at byte %d; going on", key, out.tell())
                finally:
                    if body is not None:
                        body.close()

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="reeldocs-") as tmp:
            target = Path(tmp) / Path(key).name
            self.download(key, target)
            yield target


def open_storage(
    url: str, s3_endpoint_url: str | None = None, *, timeouts: StorageTimeouts = WORKER_TIMEOUTS
) -> Storage:
    if url.startswith("s3://"):
        parsed = urlparse(url)
        if not parsed.netloc:
            raise ValueError("REELDOCS_STORAGE_URL must name a bucket, as in s3://bucket/prefix.")
        return S3Storage(parsed.netloc, parsed.path, s3_endpoint_url, timeouts)
    if "://" in url and not url.startswith("file://"):
        raise ValueError("REELDOCS_STORAGE_URL must be a local directory or s3://bucket/prefix.")
    return LocalStorage(Path(url.removeprefix("file://")).expanduser().resolve())
