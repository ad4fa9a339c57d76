"""The operator's look at tokens and teams, and how the commands describe their flags."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx
import pytest

from reeldocs.core.security import API_TOKEN_PREFIX
from tests.auth.accounts import email_of
from tests.cli.running import Reeldocs, rows_of
from tests.conftest import unique_email


def test_tokens_list_never_shows_secrets_and_revoke_locks_the_token_out(
    reeldocs: Reeldocs, user: httpx.Client, base_url: str
) -> None:
    email = email_of(user)
    deploy = reeldocs("tokens", "create", "--email", email, "--name", "deploy").stdout.strip()
    ci = reeldocs("tokens", "create", "--email", email, "--name", "ci").stdout.strip()
    used = httpx.get(f"{base_url}/api/orgs", headers={"Authorization": f"Bearer {deploy}"})
    assert used.status_code == 200

    listed = reeldocs("tokens", "list", "--email", email)

    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split() == ["NAME", "ID", "CREATED", "LAST", "USED"]
    assert deploy not in listed.stdout and ci not in listed.stdout
    assert API_TOKEN_PREFIX not in listed.stdout
    by_name = {row[0]: row for row in rows_of(listed.stdout)}
    from_api = {token["name"]: token for token in user.get("/api/tokens").json()}
    assert set(by_name) == set(from_api) == {"deploy", "ci"}
    assert by_name["deploy"][1] == from_api["deploy"]["id"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", by_name["deploy"][2])
    assert by_name["deploy"][3] != "never" and by_name["ci"][3] == "never"

    revoked = reeldocs("tokens", "revoke", by_name["deploy"][1])

    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == f"The API token 'deploy' of {email} is revoked."
    refused = httpx.get(f"{base_url}/api/orgs", headers={"Authorization": f"Bearer {deploy}"})
    assert refused.status_code == 401
    kept = httpx.get(f"{base_url}/api/orgs", headers={"Authorization": f"Bearer {ci}"})
    assert kept.status_code == 200
    assert [row[0] for row in rows_of(reeldocs("tokens", "list", "--email", email).stdout)] == [
        "ci"
    ]

    again = reeldocs("tokens", "revoke", by_name["deploy"][1])
    assert again.returncode == 1 and again.stdout == ""
    assert again.stderr.splitlines() == [
        f"Error: There is no API token with the id {by_name['deploy'][1]}: it may have been "
        "revoked already. `reeldocs tokens list --email E` shows a user's tokens."
    ]
    assert reeldocs("tokens", "revoke", "not-an-id").returncode == 2


def test_tokens_list_of_someone_without_tokens_or_unknown(
    reeldocs: Reeldocs, user: httpx.Client
) -> None:
    # The `user` fixture's account has a session but no token yet.
    none = reeldocs("tokens", "list", "--email", email_of(user))
    assert none.returncode == 0, none.stderr
    assert none.stdout.strip() == f"{email_of(user)} has no API tokens."

    nobody = unique_email("nobody")
    unknown = reeldocs("tokens", "list", "--email", nobody)
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr.strip() == f"Error: There is no user with the e-mail address {nobody}."


def test_orgs_list_shows_each_team_slug_name_and_members(
    reeldocs: Reeldocs, make_user: Callable[..., httpx.Client]
) -> None:
    owner, member = make_user("owner"), make_user("member")
    [team] = owner.get("/api/orgs").json()
    [own] = member.get("/api/orgs").json()
    added = reeldocs(
        "orgs", "add-member", "--org", team["slug"], "--email", email_of(member), "--role", "editor"
    )
    assert added.returncode == 0, added.stderr

    listed = reeldocs("orgs", "list")

    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split() == ["SLUG", "NAME", "MEMBERS"]
    by_slug = {row[0]: row for row in rows_of(listed.stdout)}
    assert by_slug[team["slug"]] == [team["slug"], team["name"], "2"]
    assert by_slug[own["slug"]] == [own["slug"], own["name"], "1"]


# Each flag with the first words of its description, which must follow the flag at once.
FLAGS = [
    (["serve"], "--no-worker", "Do not run a worker"),
    (["serve"], "--access-log", "Log one line"),
    (["users", "create"], "--password-stdin", "Read the password"),
    (["users", "set-password"], "--password-stdin", "Read the password"),
    (["jobs", "list"], "--json", "Print JSON"),
    (["jobs", "show"], "--json", "Print JSON"),
    (["process"], "--json", "Print one JSON"),
    (["process"], "--no-video", "Leave the video"),
    (["process"], "--help", "Show this message"),
    (["jobs"], "--help", "Show this message"),
    ([], "--help", "Show this message"),
]


def _after(help_text: str, option: str) -> str:
    """What the help shows after an option's name, on the option's own row."""
    # The row starts with the option (after the panel's border, if any).
    [line] = [line for line in help_text.splitlines() if re.match(rf"[│|\s]*{option}\b", line)]
    return line.split(option, 1)[1].strip(" │")


@pytest.mark.parametrize(
    ("command", "flag", "description"),
    FLAGS,
    ids=[" ".join(["reeldocs", *c, f]) for c, f, _ in FLAGS],
)
def test_help_shows_flags_without_a_value(
    reeldocs: Reeldocs, command: list[str], flag: str, description: str
) -> None:
    shown = reeldocs(*command, "--help")

    assert shown.returncode == 0, shown.stderr
    assert _after(shown.stdout, flag).startswith(description), shown.stdout
    assert f"--no-{flag.removeprefix('--')}" not in shown.stdout


def test_help_shows_the_value_an_option_takes(reeldocs: Reeldocs) -> None:
    # What the flag test looks for, on options that do take a value.
    port = _after(reeldocs("serve", "--help").stdout, "--port")
    assert re.match(r"(<int>|INTEGER) +Port to listen on", port), port
    project = _after(reeldocs("jobs", "list", "--help").stdout, "--project")
    assert re.match(r"SLUG_OR_ID +Only this project", project), project
    usage = reeldocs("jobs", "show", "--help").stdout.split("Usage:", 1)[1].splitlines()[0]
    # typer writes a required argument's name in braces
    assert usage.split() in (
        ["reeldocs", "jobs", "show", "[OPTIONS]", "ID"],
        ["reeldocs", "jobs", "show", "[OPTIONS]", "{ID}"],
    )


def test_usage_errors_exit_2(reeldocs: Reeldocs) -> None:
    for args in (["jobs", "show"], ["jobs", "list", "--limit", "0"], ["tokens", "list"]):
        assert reeldocs(*args).returncode == 2, args
    assert reeldocs("jobs", "show", str(uuid.uuid4()), "--json", "extra").returncode == 2
