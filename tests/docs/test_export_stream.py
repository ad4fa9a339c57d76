"""The zip and the folder of one export tree: the same bytes, and a video never held whole."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from reeldocs.core.errors import NotFound
from reeldocs.core.storage import CHUNK, ByteChunks, LocalStorage
from reeldocs.core.storage_async import AsyncStorage
from reeldocs.docs.export import (
    DamagedExport,
    ExportTree,
    StoredFile,
    TreeFile,
    open_zip,
    unpack_zip,
    write_tree,
)
from tests.docs.export_checks import folder_tree, zip_tree

VIDEO_BYTES = 24 * CHUNK + 12345


class CountingStorage(LocalStorage):
    """Local storage that counts the bytes handed out by its reads."""

    bytes_read = 0

    def open_range(self, key: str, start: int, end: int) -> ByteChunks:
        opened = super().open_range(key, start, end)

        def counted() -> Iterator[bytes]:
            for chunk in opened:
                self.bytes_read += len(chunk)
                yield chunk

        return ByteChunks(counted(), opened.close)


@pytest.fixture
def storage(tmp_path: Path) -> CountingStorage:
    backend = CountingStorage(tmp_path / "storage")
    video = backend.path("videos/v/source")
    video.parent.mkdir(parents=True)
    with open(video, "wb") as handle:
        for _ in range(VIDEO_BYTES // CHUNK + 1):
            handle.write(os.urandom(CHUNK))
        handle.truncate(VIDEO_BYTES)
    backend.path("videos/v/shot.webp").write_bytes(b"RIFF....WEBP")
    backend.path("videos/v/empty").write_bytes(b"")
    return backend


def _tree(*extra: TreeFile) -> ExportTree:
    return ExportTree(
        "tour",
        [
            TreeFile("tour/index.md", b"# Tour\n"),
            TreeFile(
                "tour/en/01-start.md",
                b"---\ntitle: Start\n---\n\n![s](../screenshots/a.webp)\n",
            ),
            TreeFile("tour/screenshots/a.webp", StoredFile("videos/v/shot.webp", required=False)),
            TreeFile("tour/en.vtt", b"WEBVTT\n\n"),
            TreeFile("tour/empty.txt", StoredFile("videos/v/empty")),
            TreeFile("tour/video.mp4", StoredFile("videos/v/source")),
            *extra,
        ],
        "tour-markdown.zip",
    )


async def test_the_zip_streams_the_video_a_chunk_at_a_time(storage: CountingStorage) -> None:
    archive = await open_zip(_tree(), AsyncStorage(storage))
    sent = 0
    held: list[int] = []
    received = bytearray()
    async for chunk in archive.chunks:
        held.append(storage.bytes_read - sent)  # read from storage, not passed on before
        sent += len(chunk)
        received += chunk
    assert len(received) == archive.size  # the size announced before the first byte
    assert storage.bytes_read == VIDEO_BYTES + len(b"RIFF....WEBP")
    # never more than one storage chunk read and not yet passed on, whatever the video's size
    assert max(held) <= CHUNK, max(held)
    assert len(held) > VIDEO_BYTES // CHUNK  # it came out in pieces, not at the end
    files = zip_tree(bytes(received))
    assert files["tour/video.mp4"] == storage.path("videos/v/source").read_bytes()
    assert files["tour/empty.txt"] == b""


async def test_the_folder_holds_the_zip_s_files_byte_for_byte(
    storage: CountingStorage, tmp_path: Path
) -> None:
    tree = _tree()
    archive = await open_zip(tree, AsyncStorage(storage))
    zipped = zip_tree(b"".join([chunk async for chunk in archive.chunks]))
    out = tmp_path / "out"
    # an earlier export of the same video leaves nothing behind
    (out / "tour" / "en").mkdir(parents=True)
    (out / "tour" / "en" / "02-old.md").write_text("old")
    (out / "other").mkdir()
    folder = await write_tree(tree, AsyncStorage(storage), out)
    assert folder == out / "tour"
    assert folder_tree(folder) == zipped
    assert sorted(p.name for p in out.iterdir()) == ["other", "tour"]


async def test_a_missing_screenshot_is_left_out_but_a_missing_video_is_an_error(
    storage: CountingStorage, tmp_path: Path
) -> None:
    storage.delete("videos/v/shot.webp")
    folder = await write_tree(_tree(), AsyncStorage(storage), tmp_path / "out")
    assert not (folder / "screenshots").exists()
    assert (folder / "video.mp4").stat().st_size == VIDEO_BYTES

    missing = _tree(TreeFile("tour/gone.mp4", StoredFile("videos/v/gone")))
    with pytest.raises(NotFound, match="missing from storage"):
        await open_zip(missing, AsyncStorage(storage))
    with pytest.raises(NotFound):
        await write_tree(missing, AsyncStorage(storage), tmp_path / "again")
    assert not (tmp_path / "again" / "tour").exists()


@pytest.mark.parametrize("path", ["tour", "tour/../x.md", "tour/.hidden", "/tour/a.md", "tour//a"])
def test_a_tree_refuses_paths_that_would_leave_its_folder(path: str) -> None:
    with pytest.raises(ValueError):
        TreeFile(path, b"")


async def test_an_unpacked_zip_is_the_folder_write_tree_writes(
    storage: CountingStorage, tmp_path: Path
) -> None:
    tree = _tree()
    archive = await open_zip(tree, AsyncStorage(storage))
    downloaded = tmp_path / "export.zip"
    downloaded.write_bytes(b"".join([chunk async for chunk in archive.chunks]))
    out = tmp_path / "out"
    (out / "tour" / "en").mkdir(parents=True)
    (out / "tour" / "en" / "02-old.md").write_text("old")

    folder = unpack_zip(downloaded, out)

    assert folder == out / "tour"
    written = await write_tree(tree, AsyncStorage(storage), tmp_path / "written")
    assert folder_tree(folder) == folder_tree(written)
    assert os.listdir(out) == ["tour"]  # no staging folder left, the old export replaced


def _zip_of(path: Path, names: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as bundle:
        for name in names:
            bundle.writestr(name, b"x")
    return path


@pytest.mark.parametrize(
    ("names", "said"),
    [
        (["tour/index.md", "tour/../../escaped.md"], "outside its folder"),
        (["tour/index.md", "/etc/escaped"], "outside its folder"),
        (["tour/index.md", "tour/.hidden"], "outside its folder"),
        (["index.md"], "outside its folder"),
        (["tour/index.md", "other/index.md"], "holds 2 folders"),
    ],
)
def test_unpacking_refuses_a_zip_that_is_no_export(
    tmp_path: Path, names: list[str], said: str
) -> None:
    out = tmp_path / "out"
    with pytest.raises(DamagedExport, match=said):
        unpack_zip(_zip_of(tmp_path / "bad.zip", names), out)
    assert not (tmp_path / "escaped.md").exists()
    assert not out.exists() or os.listdir(out) == []


def test_unpacking_says_when_the_download_is_no_zip(tmp_path: Path) -> None:
    broken = tmp_path / "cut.zip"
    broken.write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(DamagedExport, match="not a readable zip"):
        unpack_zip(broken, tmp_path / "out")
