"""The `reeldocs` command, run as a separate process against the test run's database."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from reeldocs.core.db import DatabaseUrls
from tests.cli.running import CLI_TIMEOUT_SECONDS, Reeldocs


@pytest.fixture(scope="module")
def cli_env(db_urls: DatabaseUrls) -> dict[str, str]:
    """The test run's environment; an external database is the run's fresh one."""
    env = dict(os.environ)
    if os.environ.get("REELDOCS_DATABASE_URL"):
        env["REELDOCS_DATABASE_URL"] = db_urls.libpq
    else:
        # Same REELDOCS_DATA_DIR: the command attaches to the embedded server already running.
        assert env["REELDOCS_DATA_DIR"]
    return env


@pytest.fixture
def reeldocs(cli_env: dict[str, str], base_url: str) -> Reeldocs:
    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "reeldocs.cli", *args],
            env=cli_env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_SECONDS,
            check=False,
        )

    return run
