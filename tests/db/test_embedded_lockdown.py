"""The embedded PostgreSQL is closed to everyone but Reeldocs.

The library starts it with `trust` authentication; Reeldocs must have replaced that
with SCRAM passwords, no TCP listener, a socket nobody else can open, and a
credentials file only its owner reads.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from reeldocs.core import embedded_db
from reeldocs.core.db import DatabaseUrls
from reeldocs.core.settings import Settings

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("REELDOCS_DATABASE_URL")),
    reason="REELDOCS_DATABASE_URL is set: these checks are for the embedded server only",
)

SOCKET_NAME = ".s.PGSQL.5432"
# Tries the socket the way any client would, from a process of another OS user.
_TRY_SOCKET = """
import socket, sys
client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    client.connect(sys.argv[1])
except PermissionError:
    print("refused")
else:
    print("connected")
"""


@pytest.fixture(scope="module")
def app_conninfo(db_urls: DatabaseUrls) -> dict[str, str]:
    """The app's own connection parameters for the embedded server (started for the run)."""
    params = {key: str(value) for key, value in conninfo_to_dict(db_urls.libpq).items()}
    assert params["host"].startswith("/"), "the embedded server is reached over a unix socket"
    return params


@pytest.fixture
def no_password_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Make sure a refusal is the server's doing, not a password picked up elsewhere."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-such-pgpass"))


def _connect(params: dict[str, str], **changes: str) -> psycopg.Connection:
    return psycopg.connect(make_conninfo(**{**params, **changes}), connect_timeout=10)


def test_the_app_connects_with_its_password(app_conninfo: dict[str, str]) -> None:
    with _connect(app_conninfo) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("reeldocs",)


@pytest.mark.usefixtures("no_password_from_environment")
def test_a_wrong_password_is_refused(app_conninfo: dict[str, str]) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _connect(app_conninfo, password="not-the-password")


@pytest.mark.usefixtures("no_password_from_environment")
@pytest.mark.parametrize(
    ("user", "database"),
    [("postgres", "postgres"), ("postgres", "reeldocs"), ("reeldocs", "reeldocs")],
)
def test_no_role_gets_in_without_a_password(
    app_conninfo: dict[str, str], user: str, database: str
) -> None:
    params = {k: v for k, v in app_conninfo.items() if k != "password"}
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        _connect(params, user=user, dbname=database)
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        _connect(params, user=user, dbname=database, password="")


@pytest.mark.usefixtures("no_password_from_environment")
def test_the_librarys_trust_url_no_longer_works(app_conninfo: dict[str, str]) -> None:
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        psycopg.connect(f"postgresql://postgres:@/postgres?host={app_conninfo['host']}")


def _assert_closed_to_others(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode & 0o077 == 0, f"{path} is open to other users (mode {mode:o})"


def test_the_socket_is_closed_to_other_users(app_conninfo: dict[str, str]) -> None:
    socket_dir = Path(app_conninfo["host"])
    socket_path = socket_dir / SOCKET_NAME
    assert stat.S_ISSOCK(socket_path.stat().st_mode)
    _assert_closed_to_others(socket_path)
    # Nobody else may remove the socket and put another server in its place either.
    _assert_closed_to_others(socket_dir)


# An interpreter every OS user may run (the test's own may live in root's home).
SYSTEM_PYTHON = Path("/usr/bin/python3")


@pytest.mark.skipif(os.geteuid() != 0, reason="trying as another OS user needs root")
@pytest.mark.skipif(not SYSTEM_PYTHON.exists(), reason="no /usr/bin/python3 to run the probe")
def test_another_os_user_cannot_open_the_socket(app_conninfo: dict[str, str]) -> None:
    socket_path = str(Path(app_conninfo["host"]) / SOCKET_NAME)
    server_user = Path(app_conninfo["host"]).owner()

    def attempt(user: str) -> str:
        answer = subprocess.run(
            [str(SYSTEM_PYTHON), "-I", "-S", "-c", _TRY_SOCKET, socket_path],
            user=user,
            capture_output=True,
            text=True,
            timeout=30,
            cwd="/",
        )
        assert answer.returncode == 0, answer.stderr
        return answer.stdout.strip()

    # The server's own OS user gets through: the probe itself works.
    assert attempt(server_user) == "connected"
    assert attempt("nobody") == "refused"


def test_there_is_no_tcp_listener(app_conninfo: dict[str, str]) -> None:
    with _connect(app_conninfo) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)


def test_the_credentials_file_is_private(settings: Settings, db_urls: DatabaseUrls) -> None:
    credentials = settings.data_dir / embedded_db.CREDENTIALS_FILE
    info = credentials.stat()
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_uid == os.geteuid()


@pytest.fixture(scope="module")
def superuser(settings: Settings, db_urls: DatabaseUrls) -> Iterator[psycopg.Connection]:
    with psycopg.connect(embedded_db.superuser_url(settings.data_dir)) as conn:
        yield conn


def test_hba_allows_only_scram_over_the_socket(superuser: psycopg.Connection) -> None:
    rules = superuser.execute(
        "SELECT type, auth_method, error FROM pg_hba_file_rules ORDER BY rule_number"
    ).fetchall()
    assert rules, "pg_hba.conf has no rules"
    assert all(error is None for _, _, error in rules), rules
    assert not any(method == "trust" for _, method, _ in rules), rules
    for kind, method, _ in rules:
        assert (kind, method) in {("local", "scram-sha-256"), ("host", "reject")}, rules


def test_passwords_are_stored_as_scram(superuser: psycopg.Connection) -> None:
    stored: dict[str, str | None] = dict(
        superuser.execute(
            "SELECT rolname, rolpassword FROM pg_authid WHERE rolcanlogin ORDER BY rolname"
        ).fetchall()
    )
    assert set(stored) >= {"postgres", "reeldocs"}
    for role, secret in stored.items():
        assert secret is not None and secret.startswith("SCRAM-SHA-256$"), role


def test_the_socket_stays_private_after_a_restart(superuser: psycopg.Connection) -> None:
    # chmod closes the socket open now; this setting closes every later one.
    setting = superuser.execute(
        "SELECT setting FROM pg_file_settings WHERE name = 'unix_socket_permissions' "
        "ORDER BY seqno DESC LIMIT 1"
    ).fetchone()
    assert setting == ("0700",)


def test_a_long_data_directory_keeps_its_socket_private() -> None:
    """Past the unix socket length limit the library moves the socket to a shared runtime
    directory that it opens to everyone; Reeldocs must close it again."""
    # Not under pytest's tmp_path: other pytest sessions reset its root to 0700, which
    # locks the server's OS user out of the data directory.
    base = Path(tempfile.mkdtemp(prefix="reeldocs-long-"))
    data_dir = base / ("d" * 90)
    data_dir.mkdir()
    main_server = embedded_db._server
    try:
        _, libpq = embedded_db.start(data_dir)
        server = embedded_db._server
        socket_dir = Path(str(conninfo_to_dict(libpq)["host"]))
        assert socket_dir != data_dir / "pgdata", "the path is not long enough for this test"
        try:
            _assert_closed_to_others(socket_dir / SOCKET_NAME)
            _assert_closed_to_others(socket_dir)
            with psycopg.connect(libpq) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
        finally:
            server.cleanup()
            shutil.rmtree(socket_dir, ignore_errors=True)
    finally:
        embedded_db._server = main_server
        shutil.rmtree(base, ignore_errors=True)
