"""Both storage backends through the same interface: a local directory and S3 (moto's server)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from reeldocs.core.db import DatabaseUrls
from reeldocs.core.errors import StorageUnavailable
from reeldocs.core.settings import Settings
from reeldocs.core.storage import WEB_TIMEOUTS, LocalStorage, S3Storage, Storage, open_storage
from reeldocs.core.storage_async import AsyncStorage
from tests.conftest import PASSWORD, LiveServer, unique_email
from tests.support.media_factory import make_slide_video, make_text_file
from tests.support.tcp_proxy import FaultyProxy
from tests.videos.helpers import eventually

MiB = 1024 * 1024
BUCKET = "reeldocs-test"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def s3_client(aws_env: None, moto_endpoint: str) -> Any:
    client = boto3.client("s3", endpoint_url=moto_endpoint)
    existing = {bucket["Name"] for bucket in client.list_buckets()["Buckets"]}
    if BUCKET not in existing:
        client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "storage")
    request.getfixturevalue("s3_client")
    endpoint = request.getfixturevalue("moto_endpoint")
    prefix = f"run-{os.urandom(4).hex()}"
    return open_storage(f"s3://{BUCKET}/{prefix}", endpoint)


def _write(storage: Storage, key: str, data: bytes, piece: int = MiB) -> None:
    writer = storage.writer(key)
    for offset in range(0, len(data), piece):
        writer.write(data[offset : offset + piece])
    writer.commit()


def _read(storage: Storage, key: str, start: int, end: int) -> bytes:
    return b"".join(storage.read_range(key, start, end))


def _multipart_uploads(storage: Storage) -> list[Any]:
    assert isinstance(storage, S3Storage)
    answer = storage.client.list_multipart_uploads(Bucket=storage.bucket, Prefix=storage.prefix)
    return list(answer.get("Uploads", []))


def test_a_large_object_is_written_in_parts_and_read_back_by_ranges(storage: Storage) -> None:
    data = os.urandom(20 * MiB + 12345)
    _write(storage, "videos/a/source", data)

    assert storage.exists("videos/a/source")
    assert storage.size("videos/a/source") == len(data)
    for start, end in [
        (0, 0),
        (0, 99),
        (8 * MiB - 10, 8 * MiB + 10),
        (len(data) - 7, len(data) - 1),
    ]:
        assert _read(storage, "videos/a/source", start, end) == data[start : end + 1]
    chunks = list(storage.read_range("videos/a/source", 0, len(data) - 1))
    assert b"".join(chunks) == data
    assert max(len(chunk) for chunk in chunks) <= MiB  # streamed, never the whole object
    if isinstance(storage, S3Storage):
        head = storage.client.head_object(
            Bucket=storage.bucket, Key=f"{storage.prefix}/videos/a/source"
        )
        assert head["ETag"].strip('"').endswith("-3")  # three parts of 8 MiB, 8 MiB, the rest
        assert _multipart_uploads(storage) == []


def test_a_small_object_and_an_empty_one(storage: Storage) -> None:
    _write(storage, "videos/b/small", b"hello")
    _write(storage, "videos/b/empty", b"")
    assert _read(storage, "videos/b/small", 1, 3) == b"ell"
    assert storage.size("videos/b/empty") == 0
    assert storage.size("videos/b/missing") is None
    assert not storage.exists("videos/b/missing")


@pytest.mark.parametrize("size", [3 * MiB, 9 * MiB], ids=["before-first-part", "after-a-part"])
def test_an_aborted_write_leaves_nothing(storage: Storage, size: int) -> None:
    writer = storage.writer("videos/c/source")
    writer.write(os.urandom(size))
    writer.abort()
    assert not storage.exists("videos/c/source")
    assert storage.size("videos/c/source") is None
    if isinstance(storage, LocalStorage):
        assert list((storage.root / "videos" / "c").iterdir()) == []
    else:
        assert _multipart_uploads(storage) == []


def test_delete_prefix_removes_one_video_and_nothing_else(storage: Storage, tmp_path: Path) -> None:
    for key in ("videos/v1/source", "videos/v1/runs/r1/shot.png", "videos/v10/source"):
        _write(storage, key, key.encode())
    storage.delete_prefix("videos/v1")
    assert not storage.exists("videos/v1/source")
    assert not storage.exists("videos/v1/runs/r1/shot.png")
    assert _read(storage, "videos/v10/source", 0, 100) == b"videos/v10/source"
    storage.delete_prefix("videos/never-written")  # nothing there: not an error

    source = tmp_path / "shot.png"
    source.write_bytes(b"png bytes")
    storage.put_file("videos/v10/shot.png", source)
    assert _read(storage, "videos/v10/shot.png", 0, 99) == b"png bytes"
    storage.delete("videos/v10/shot.png")
    assert not storage.exists("videos/v10/shot.png")


def test_local_copy_is_a_readable_file(storage: Storage) -> None:
    data = os.urandom(MiB + 1)
    _write(storage, "videos/d/source", data)
    with storage.local_copy("videos/d/source") as path:
        assert path.read_bytes() == data
    if isinstance(storage, S3Storage):
        assert not path.exists()  # the download is removed afterwards
    else:
        assert path.exists()  # local storage hands out the stored file itself


@pytest.mark.parametrize("key", ["../escape", "/absolute", "videos//double", "videos/./x", ""])
def test_keys_cannot_leave_the_storage(storage: Storage, key: str) -> None:
    with pytest.raises(ValueError):
        storage.writer(key)


def test_storage_urls() -> None:
    with pytest.raises(ValueError):
        open_storage("s3:///no-bucket")
    with pytest.raises(ValueError):
        open_storage("ftp://example.com/storage")


# -- the whole upload path on S3 ---------------------------------------------------------------


def test_upload_serve_and_delete_with_s3_storage(
    s3_client: Any,
    moto_endpoint: str,
    settings: Settings,
    db_urls: DatabaseUrls,
    tmp_path: Path,
) -> None:
    prefix = f"e2e-{os.urandom(4).hex()}"
    s3_settings = dataclasses.replace(
        settings, storage_url=f"s3://{BUCKET}/{prefix}", s3_endpoint_url=moto_endpoint
    )
    video = make_slide_video(tmp_path / "tour.mp4", ["One", "Two"], 1.0)
    original = video.read_bytes()
    notes = make_text_file(tmp_path / "notes.mp4").read_bytes()

    def objects() -> list[str]:
        answer = s3_client.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/")
        return [item["Key"] for item in answer.get("Contents", [])]

    server = LiveServer(s3_settings, db_urls, run_worker=False).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            signup = client.post(
                "/api/auth/signup", json={"email": unique_email("s3"), "password": PASSWORD}
            )
            assert signup.status_code == 201, signup.text
            csrf = {"X-CSRF-Token": client.get("/api/auth/session").json()["csrf_token"]}
            project = client.post("/api/projects", json={"name": "On S3"}).json()["id"]
            url = f"/api/projects/{project}/videos"

            refused = client.post(
                url, files={"file": ("notes.mp4", notes, "video/mp4")}, headers=csrf
            )
            assert refused.status_code in (415, 422), refused.text
            assert objects() == []
            assert s3_client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []

            answer = client.post(
                url, files={"file": ("tour.mp4", original, "video/mp4")}, headers=csrf
            )
            assert answer.status_code == 201, answer.text
            video_id = answer.json()["id"]
            assert answer.json()["duration_seconds"] == pytest.approx(2.0, abs=0.2)
            key = f"{prefix}/videos/{video_id}/source"
            assert objects() == [key]
            assert s3_client.get_object(Bucket=BUCKET, Key=key)["Body"].read() == original
            assert list((settings.data_dir / "uploads").iterdir()) == []

            part = client.get(f"/api/videos/{video_id}/file", headers={"Range": "bytes=-100"})
            assert part.status_code == 206
            assert part.content == original[-100:]
            assert client.get(f"/api/videos/{video_id}/file").content == original

            deleted = client.delete(f"/api/videos/{video_id}", headers=csrf)
            assert deleted.status_code == 204
            assert eventually(lambda: objects() == [])  # removed just after the response
    finally:
        server.stop()


# -- failures: a sentence, whether worth retrying, and nothing left behind --------------------


def test_an_s3_server_that_is_not_there_is_a_transient_storage_error(aws_env: None) -> None:
    from tests.conftest import free_port

    storage = S3Storage(BUCKET, "p", f"http://127.0.0.1:{free_port()}", WEB_TIMEOUTS)
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as caught:
        storage.size("videos/a/source")
    assert time.monotonic() - started < 30  # a few quick refusals, not minutes
    assert caught.value.transient
    assert caught.value.status == 503
    assert caught.value.detail.startswith("The file storage is not answering (")
    with pytest.raises(StorageUnavailable):
        list(storage.read_range("videos/a/source", 0, 10))


def test_a_missing_bucket_is_said_so_and_not_retried(s3_client: Any, moto_endpoint: str) -> None:
    storage = S3Storage("no-such-bucket", "p", moto_endpoint, WEB_TIMEOUTS)
    with pytest.raises(StorageUnavailable) as caught:
        _write(storage, "videos/a/source", b"bytes")
    assert not caught.value.transient
    assert "bucket 'no-such-bucket' does not exist" in caught.value.detail


def test_async_storage_reads_opens_and_fetches(storage: Storage, tmp_path: Path) -> None:
    data = os.urandom(2 * MiB + 5)
    _write(storage, "videos/e/source", data)
    files = AsyncStorage(storage)

    async def scenario() -> None:
        assert await files.size("videos/e/source") == len(data)
        opened = await files.open_whole("videos/e/source")
        assert opened is not None and opened.size == len(data)
        assert b"".join([chunk async for chunk in opened.chunks]) == data
        assert await files.open_whole("videos/e/missing") is None
        assert await files.read_bytes("videos/e/missing") is None
        path, copied = await files.fetch("videos/e/source", tmp_path / "work")
        assert path.read_bytes() == data
        assert copied == isinstance(storage, S3Storage)
        if copied:
            await files.remove_copy(path)
            assert list((tmp_path / "work").iterdir()) == []
        with pytest.raises(FileNotFoundError):
            await files.fetch("videos/e/missing", tmp_path / "work")
        await files.discard_prefix("videos/e")
        assert not await files.exists("videos/e/source")

    asyncio.run(scenario())


def test_a_cancelled_download_stops_and_leaves_no_file(
    s3_client: Any, moto_endpoint: str, tmp_path: Path
) -> None:
    host, port = moto_endpoint.removeprefix("http://").split(":")
    proxy = FaultyProxy(host, int(port))
    try:
        prefix = f"run-{os.urandom(4).hex()}"
        _write(open_storage(f"s3://{BUCKET}/{prefix}", moto_endpoint), "v/source", bytes(4 * MiB))
        files = AsyncStorage(open_storage(f"s3://{BUCKET}/{prefix}", proxy.url))
        proxy.hold_transfers_after(MiB)

        async def scenario() -> None:
            download = asyncio.create_task(files.fetch("v/source", tmp_path / "work"))
            assert await asyncio.to_thread(proxy.held.wait, 30)
            download.cancel()
            await asyncio.sleep(0.05)
            proxy.release()  # the bytes flow again: the download sees it must stop
            with pytest.raises(asyncio.CancelledError):
                await download

        asyncio.run(scenario())
        assert list((tmp_path / "work").iterdir()) == []
    finally:
        proxy.close()


def test_a_download_cut_part_way_goes_on_from_where_it_stopped(
    s3_client: Any, moto_endpoint: str, tmp_path: Path
) -> None:
    host, port = moto_endpoint.removeprefix("http://").split(":")
    proxy = FaultyProxy(host, int(port))
    try:
        prefix = f"run-{os.urandom(4).hex()}"
        data = os.urandom(6 * MiB)
        _write(open_storage(f"s3://{BUCKET}/{prefix}", moto_endpoint), "v/source", data)
        storage = open_storage(f"s3://{BUCKET}/{prefix}", proxy.url)
        proxy.hold_transfers_after(2 * MiB)
        with ThreadPoolExecutor(1) as pool:
            download = pool.submit(storage.download, "v/source", tmp_path / "copy")
            assert proxy.held.wait(30)
            proxy.down()  # the connection is reset in the middle of the body
            proxy.back()
            download.result(timeout=60)
        assert (tmp_path / "copy").read_bytes() == data
        assert proxy.accepted == 2  # one more request, for the rest only
    finally:
        proxy.close()


def test_unfinished_writes_are_found_and_removed_once_old_enough(storage: Storage) -> None:
    """What a process killed while writing leaves: a writer never committed (an S3
    multipart upload with a part sent), beside a finished object in another folder."""
    _write(storage, "videos/kept/source", b"a whole video")
    unfinished = storage.writer("videos/killed/source")
    unfinished.write(os.urandom(9 * MiB))  # past one S3 part: the upload has begun
    started = time.time()

    assert storage.folders("videos") == ["kept", "killed"]
    changed = storage.last_change("videos/killed")
    assert changed is not None
    assert storage.last_change("videos/nothing-here") is None
    if isinstance(storage, LocalStorage):  # moto dates every multipart upload in 2010
        assert abs(changed - started) < 120  # clocks of one machine
        # Younger than the cutoff: an upload that may still be going on stays.
        assert storage.remove_unfinished("videos", started - 3600) == 0
        assert storage.folders("videos") == ["kept", "killed"]

    assert storage.remove_unfinished("videos", started + 3600) == 1
    assert storage.folders("videos") == ["kept"]
    assert storage.exists("videos/kept/source")
    if isinstance(storage, S3Storage):
        assert _multipart_uploads(storage) == []
    else:
        assert isinstance(storage, LocalStorage)
        assert [p.name for p in (storage.root / "videos" / "kept").iterdir()] == ["source"]
        unfinished.abort()  # closes the file a killed process would have left open
