"""The `reeldocs` command, run as a separate process against the test run's database."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import pytest

from reeldocs.core.db import DatabaseUrls
from tests.cli.running import Reeldocs, run_reeldocs


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
    return partial(run_reeldocs, cli_env)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where a module's generated videos go."""
    return tmp_path_factory.mktemp("process-media")
