"""Object storage: a local directory or an S3 bucket, behind one small interface.

Keys are built by Reeldocs only (`videos/<uuid>/source`, …), never from user
input such as file names. Writes are streamed in chunks so memory stays bounded
whatever the size of the object.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import urlparse

CHUNK = 1024 * 1024


class Writer(Protocol):
    def write(self, data: bytes) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


class Storage(Protocol):
    def writer(self, key: str) -> Writer: ...
    def put_file(self, key: str, path: Path) -> None: ...
    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes start..end inclusive, in chunks."""
        ...

    def size(self, key: str) -> int | None: ...
    def delete_prefix(self, prefix: str) -> None: ...
    def delete(self, key: str) -> None: ...
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
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".partial-")
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
        tmp = target.with_name(f".partial-{target.name}")
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        with open(self.path(key), "rb") as handle:
            handle.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = handle.read(min(CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk

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

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        yield self.path(key)


class _S3Writer:
    """A multipart upload: parts of 8 MiB are sent as they fill, never the whole object."""

    PART = 8 * 1024 * 1024

    def __init__(self, client: object, bucket: str, key: str) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self._buffer = bytearray()
        self._parts: list[dict[str, object]] = []
        self._upload_id: str | None = None

    def _send_part(self) -> None:
        if self._upload_id is None:
            answer = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._key)  # type: ignore[attr-defined]
            self._upload_id = answer["UploadId"]
        number = len(self._parts) + 1
        answer = self._client.upload_part(  # type: ignore[attr-defined]
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
            self._send_part()

    def commit(self) -> None:
        if self._upload_id is None:
            self._client.put_object(Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer))  # type: ignore[attr-defined]
            return
        if self._buffer:
            self._send_part()
        self._client.complete_multipart_upload(  # type: ignore[attr-defined]
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )

    def abort(self) -> None:
        if self._upload_id is not None:
            self._client.abort_multipart_upload(  # type: ignore[attr-defined]
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
            )
        self._buffer.clear()


class S3Storage:
    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None = None) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = boto3.client("s3", endpoint_url=endpoint_url)

    def _key(self, key: str) -> str:
        _check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def writer(self, key: str) -> Writer:
        return _S3Writer(self.client, self.bucket, self._key(key))

    def put_file(self, key: str, path: Path) -> None:
        self.client.upload_file(str(path), self.bucket, self._key(key))

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        answer = self.client.get_object(
            Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{end}"
        )
        body = answer["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            return int(
                self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"]
            )
        except ClientError:
            return None

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def delete_prefix(self, prefix: str) -> None:
        full = self._key(prefix.rstrip("/")) + "/"
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="reeldocs-") as tmp:
            target = Path(tmp) / Path(key).name
            self.client.download_file(self.bucket, self._key(key), str(target))
            yield target


def open_storage(url: str, s3_endpoint_url: str | None = None) -> Storage:
    if url.startswith("s3://"):
        parsed = urlparse(url)
        if not parsed.netloc:
            raise ValueError("REELDOCS_STORAGE_URL must name a bucket, as in s3://bucket/prefix.")
        return S3Storage(parsed.netloc, parsed.path, s3_endpoint_url)
    if "://" in url and not url.startswith("file://"):
        raise ValueError("REELDOCS_STORAGE_URL must be a local directory or s3://bucket/prefix.")
    return LocalStorage(Path(url.removeprefix("file://")).expanduser().resolve())
