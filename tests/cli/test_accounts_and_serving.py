"""Accounts, the schema and the long-running commands, each run as its own process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
import pytest

from reeldocs.core.security import API_TOKEN_PREFIX
from tests.auth.accounts import email_of, org_id_of
from tests.cli.running import CLI_TIMEOUT_SECONDS, embedded_server_pid
from tests.conftest import PASSWORD, free_port, unique_email


def test_users_create_then_log_in_over_the_api(
    reeldocs: Callable[..., subprocess.CompletedProcess[str]], base_url: str
) -> None:
    email = unique_email("cli")

    # the password comes on standard input, never on the command line
    created = reeldocs("users", "create", "--email", email, "--password-stdin", stdin=PASSWORD)

    assert created.returncode == 0, created.stderr
    user_id = created.stdout.strip()
    with httpx.Client(base_url=base_url, timeout=60) as client:
        login = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        assert login.json()["user_id"] == user_id
        [org] = client.get("/api/orgs").json()
        assert org["role"] == "owner"


def test_users_create_hides_the_password_flag_and_set_password_resets_it(
    reeldocs: Callable[..., subprocess.CompletedProcess[str]], base_url: str
) -> None:
    help_text = reeldocs("users", "create", "--help").stdout
    assert "--password-stdin" in help_text and "--password " not in help_text
    email = unique_email("reset")
    assert reeldocs("users", "create", "--email", email, "--password-stdin", stdin=PASSWORD)
    with httpx.Client(base_url=base_url, timeout=60) as before:
        login = before.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text

        reset = reeldocs(
            "users", "set-password", "--email", email, "--password-stdin", stdin="a new secret!"
        )

        assert reset.returncode == 0, reset.stderr
        assert "sessions have ended" in reset.stdout
        assert before.get("/api/auth/session").status_code == 401  # that session ended
    with httpx.Client(base_url=base_url, timeout=60) as after:
        old = after.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert old.status_code == 401
        new = after.post("/api/auth/login", json={"email": email, "password": "a new secret!"})
        assert new.status_code == 200, new.text
    unknown = reeldocs(
        "users",
        "set-password",
        "--email",
        unique_email("nobody"),
        "--password-stdin",
        stdin="whatever it is",
    )
    assert unknown.returncode == 1 and "There is no user" in unknown.stderr


def test_tokens_create_prints_the_token_alone_and_it_works(
    reeldocs: Callable[..., subprocess.CompletedProcess[str]],
    user: httpx.Client,
    base_url: str,
) -> None:
    made = reeldocs("tokens", "create", "--email", email_of(user), "--name", "ci")

    assert made.returncode == 0, made.stderr
    lines = made.stdout.splitlines()
    assert len(lines) == 1, made.stdout
    token = lines[0]
    assert token.startswith(API_TOKEN_PREFIX) and token == token.strip()
    answer = httpx.get(f"{base_url}/api/orgs", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert [org["id"] for org in answer.json()] == [org_id_of(user)]
    assert [t["name"] for t in user.get("/api/tokens").json()] == ["ci"]


def test_tokens_create_for_an_unknown_user_fails_with_a_sentence(
    reeldocs: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    email = unique_email("nobody")

    made = reeldocs("tokens", "create", "--email", email)

    assert made.returncode == 1
    assert made.stdout == ""
    assert made.stderr.strip() == f"Error: There is no user with the e-mail address {email}."


def test_orgs_add_member_gives_the_role(
    reeldocs: Callable[..., subprocess.CompletedProcess[str]],
    make_user: Callable[..., httpx.Client],
) -> None:
    owner, reader = make_user("owner"), make_user("reader")
    [team] = owner.get("/api/orgs").json()

    added = reeldocs(
        "orgs", "add-member", "--org", team["slug"], "--email", email_of(reader), "--role", "viewer"
    )

    assert added.returncode == 0, added.stderr
    assert team["slug"] in added.stdout and "viewer" in added.stdout
    roles = {org["id"]: org["role"] for org in reader.get("/api/orgs").json()}
    assert roles == {org_id_of(reader): "owner", team["id"]: "viewer"}
    # A viewer reads the team's projects but cannot add one.
    create = reader.post("/api/projects", json={"name": "Nope", "org_id": team["id"]})
    assert create.status_code == 403

    bad_role = reeldocs(
        "orgs", "add-member", "--org", team["slug"], "--email", email_of(reader), "--role", "boss"
    )
    assert bad_role.returncode == 2
    assert "owner, editor or viewer" in bad_role.stderr


def test_migrate_says_the_schema_is_up_to_date(
    reeldocs: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    server_before = embedded_server_pid()

    migrated = reeldocs("migrate")

    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.strip() == "The database schema is up to date."
    # With the embedded database, the command used the server that was already running.
    assert embedded_server_pid() == server_before


def test_an_unreachable_database_is_one_sentence_not_a_traceback(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **cli_env,
        "REELDOCS_DATA_DIR": str(tmp_path),
        "REELDOCS_DATABASE_URL": f"postgresql://reeldocs:secret@127.0.0.1:{free_port()}/reeldocs",
    }

    failed = subprocess.run(
        [sys.executable, "-m", "reeldocs.cli", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
        check=False,
    )

    assert failed.returncode == 1
    assert failed.stdout == ""
    [line] = failed.stderr.splitlines()
    assert line.startswith("Error: The database is not answering (")
    assert "REELDOCS_DATABASE_URL" in line
    assert "secret" not in line and "Traceback" not in failed.stderr


def test_a_worker_with_a_speech_model_that_is_not_there_says_so_and_stops(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "whisper-small"
    env = {**cli_env, "REELDOCS_WHISPER_MODEL": str(missing)}

    failed = subprocess.run(
        [sys.executable, "-m", "reeldocs.cli", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
        check=False,
    )

    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    errors = [line for line in failed.stderr.splitlines() if line.startswith("Error:")]
    assert errors == [
        f"Error: REELDOCS_WHISPER_MODEL names the folder {missing}, which does not exist; "
        "point it at a folder holding a faster-whisper model (model.bin, config.json, "
        "tokenizer.json), or set REELDOCS_WHISPER_MODEL to a model name such as tiny.en or "
        "small."
    ]


def _spawned(supervisor: psutil.Process) -> list[psutil.Process]:
    """The supervisor's web and worker processes (multiprocessing's resource tracker aside)."""
    return [
        child
        for child in supervisor.children()
        if "spawn_main" in " ".join(child.cmdline()) and "resource_tracker" not in child.name()
    ]


def _wait_for(what: str, condition: Callable[[], bool], server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + CLI_TIMEOUT_SECONDS
    while not condition():
        assert server.poll() is None, f"reeldocs serve exited before {what}"
        assert time.monotonic() < deadline, f"reeldocs serve took too long: {what}"
        time.sleep(0.2)


def _users(users_file: Path) -> list[int]:
    """The processes the embedded server counts as its users."""
    try:
        return sorted(json.loads(users_file.read_text()))
    except (OSError, ValueError):  # not written yet, or being written
        return []


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    except httpx.TransportError:
        return False


def test_serve_runs_web_processes_and_a_worker_and_sigterm_stops_them_and_the_database(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    # Its own data directory: this serve is the embedded server's only user.
    env = {**cli_env, "REELDOCS_DATA_DIR": str(tmp_path)}
    env.pop("REELDOCS_DATABASE_URL", None)
    port = free_port()
    users_file = tmp_path / "pgdata" / ".handle_pids.json"
    with open(tmp_path / "serve.log", "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "reeldocs.cli", "serve", "--port", str(port)]
            + ["--web-processes", "3"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for("answering", lambda: _answers(f"http://127.0.0.1:{port}"), server)
        supervisor = psutil.Process(server.pid)
        children = _spawned(supervisor)
        assert len(children) == 4  # three web processes and the worker
        # Every process attaches to the embedded server on its own.
        expected = sorted([server.pid, *(process.pid for process in children)])
        _wait_for("every process attached", lambda: _users(users_file) == expected, server)
        postmaster = psutil.Process(
            int((tmp_path / "pgdata" / "postmaster.pid").read_text().splitlines()[0])
        )

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=CLI_TIMEOUT_SECONDS) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert not [process for process in children if process.is_running()]
    postmaster.wait(timeout=CLI_TIMEOUT_SECONDS)  # stopped with its last user
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()


def test_serve_refuses_zero_web_processes(cli_env: dict[str, str]) -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "reeldocs.cli", "serve", "--web-processes", "0"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
        check=False,
    )

    assert refused.returncode == 2
    assert "--web-processes" in refused.stderr


@pytest.mark.parametrize(
    "command",
    [["worker"], ["serve", "--web-processes", "1"]],
    ids=["worker", "serve-one-process"],
)
def test_sigterm_stops_the_embedded_database_with_its_last_user(
    cli_env: dict[str, str], tmp_path: Path, command: list[str]
) -> None:
    # SIGTERM is what systemd and docker send: it must end the process as Ctrl-C does.
    env = {**cli_env, "REELDOCS_DATA_DIR": str(tmp_path)}
    env.pop("REELDOCS_DATABASE_URL", None)
    users_file = tmp_path / "pgdata" / ".handle_pids.json"
    arguments = [*command, "--port", str(free_port())] if command[0] == "serve" else command
    with open(tmp_path / "process.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "reeldocs.cli", *arguments],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for("attached", lambda: process.pid in _users(users_file), process)
        if command[0] == "serve":
            port = arguments[arguments.index("--port") + 1]
            _wait_for("answering", lambda: _answers(f"http://127.0.0.1:{port}"), process)
        else:
            log_path = tmp_path / "process.log"
            _wait_for("working", lambda: "reeldocs-worker@" in log_path.read_text(), process)
        postmaster = psutil.Process(
            int((tmp_path / "pgdata" / "postmaster.pid").read_text().splitlines()[0])
        )

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=CLI_TIMEOUT_SECONDS) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    postmaster.wait(timeout=CLI_TIMEOUT_SECONDS)  # stopped with its last user
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()
    log = (tmp_path / "process.log").read_text()
    assert "Traceback" not in log
    # Start-up on a fresh data dir: one line per fact, none of the libraries' detail.
    facts = [line.split(" reeldocs: ", 1)[1] for line in log.splitlines() if " reeldocs: " in line]
    if command[0] == "serve":
        port = arguments[arguments.index("--port") + 1]
        assert facts[0] == f"Reeldocs is ready: open http://127.0.0.1:{port}"
    assert f"Data directory: {tmp_path}" in facts
    assert f"Database: embedded PostgreSQL in {tmp_path / 'pgdata'}" in facts
    assert any(fact.startswith("Database schema: created (revision ") for fact in facts)
    assert any(fact.startswith("Engines: speech faster-whisper tiny.en") for fact in facts)
    assert any(fact.startswith("Languages: docs in English") for fact in facts)
    for detail in ("initdb", "pg_ctl", "Running upgrade", "Waiting for application startup"):
        assert detail not in log, detail
