"""The data directory is closed to other local users, whatever umask Reeldocs starts under."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.private_files import PERMISSIVE_UMASK, open_to_others

from reeldocs.core.db import DatabaseUrls

CLI_TIMEOUT_SECONDS = 120


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reeldocs.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
        check=False,
        preexec_fn=lambda: os.umask(PERMISSIVE_UMASK),
    )


@pytest.fixture
def fresh_base() -> Iterator[Path]:
    # Not under pytest's tmp_path: other pytest sessions reset its root to 0700, which
    # would lock the embedded server's OS user out.
    base = Path(tempfile.mkdtemp(prefix="reeldocs-private-"))  # 0700
    yield base
    subprocess.run(["rm", "-rf", str(base)], check=False)


@pytest.mark.skipif(
    bool(os.environ.get("REELDOCS_DATABASE_URL")), reason="the embedded database's own files"
)
def test_a_fresh_data_dir_with_its_embedded_database_is_private(fresh_base: Path) -> None:
    data_dir = fresh_base / "data"
    env = {**os.environ, "REELDOCS_DATA_DIR": str(data_dir)}
    env.pop("REELDOCS_STORAGE_URL")  # the default: inside the data directory

    answer = run_cli("migrate", env=env)

    assert answer.returncode == 0, answer.stderr
    assert (data_dir / "pgdata" / "PG_VERSION").exists()
    assert (data_dir / "secret_key").exists()
    # As root the server runs as its own OS user, which must pass through the data
    # directory to its cluster: the traverse bits, and nothing else, are its.
    traverse = {data_dir: 0o011} if os.geteuid() == 0 else {}
    assert open_to_others(data_dir, traverse) == []
    assert stat.S_IMODE(data_dir.stat().st_mode) == (0o711 if traverse else 0o700)
    cluster = (data_dir / "pgdata").stat()
    assert stat.S_IMODE(cluster.st_mode) == 0o700
    if traverse:
        assert cluster.st_uid != os.geteuid(), "the cluster belongs to the server's OS user"
        # The folders above got the traverse bits too, not the library's read bits.
        assert stat.S_IMODE(fresh_base.stat().st_mode) == 0o711
    assert "to other users" not in answer.stderr  # nothing was open: nothing to report


def test_an_open_data_dir_is_closed_at_start_up(fresh_base: Path, db_urls: DatabaseUrls) -> None:
    data_dir = fresh_base / "data"
    old_run = data_dir / "work" / "0b7c0d5e-0000-4000-8000-000000000000"
    old_run.mkdir(parents=True)
    for folder in (data_dir, data_dir / "work", old_run):
        folder.chmod(0o755)
    (old_run / "audio.wav").write_bytes(b"RIFF")
    (old_run / "audio.wav").chmod(0o644)
    (data_dir / "secret_key").write_text("a key written by hand")
    (data_dir / "secret_key").chmod(0o664)
    env = {
        **os.environ,
        "REELDOCS_DATA_DIR": str(data_dir),
        "REELDOCS_DATABASE_URL": db_urls.libpq,  # no embedded server: only the folders
    }

    first = run_cli("migrate", env=env)

    assert first.returncode == 0, first.stderr
    assert open_to_others(data_dir) == []
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert (old_run / "audio.wav").read_bytes() == b"RIFF"  # modes changed, nothing else
    told = [line for line in first.stderr.splitlines() if "to other users" in line]
    assert len(told) == 1, first.stderr
    assert f"Closed 5 files and folders in {data_dir}" in told[0]

    again = run_cli("migrate", env=env)
    assert again.returncode == 0, again.stderr
    assert "to other users" not in again.stderr
