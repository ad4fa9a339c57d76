"""Brakes on password guessing and mass sign-up, per client address and per account.

Each test runs its own server with the limits on (the shared test server has the
per-address ones off: every test client comes from 127.0.0.1) and, where it needs
several client addresses, believes X-Forwarded-For from 127.0.0.1 as from a proxy.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import psycopg

from reeldocs.auth.service import FAILURES_PER_ADDRESS_AND_ACCOUNT
from reeldocs.core.db import DatabaseUrls
from reeldocs.core.settings import Settings
from tests.auth.accounts import email_of
from tests.auth.expect import assert_error
from tests.conftest import PASSWORD, configured_server, unique_email


def address() -> str:
    """A client address of its own (documentation range): failures are kept in the run's
    database, so each test needs addresses no other test used."""
    return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"


@contextmanager
def limited_server(
    settings: Settings, urls: DatabaseUrls, *, proxy: bool = True, **limits: int
) -> Iterator[Callable[[str], httpx.Client]]:
    """A server with limits on; `client(address)` gives a client seen from that address."""
    trusted = ("127.0.0.1",) if proxy else ()
    with configured_server(settings, urls, trusted_proxies=trusted, **limits) as server:
        clients: list[httpx.Client] = []

        def client(address: str) -> httpx.Client:
            made = httpx.Client(
                base_url=server.url, timeout=60, headers={"X-Forwarded-For": address}
            )
            clients.append(made)
            return made

        try:
            yield client
        finally:
            for made in clients:
                made.close()


def log_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/api/auth/login", json={"email": email, "password": password})


def test_a_guesser_is_refused_but_the_owner_elsewhere_still_gets_in(
    settings: Settings, db_urls: DatabaseUrls, make_user: Callable[..., httpx.Client]
) -> None:
    victim = email_of(make_user("victim"))
    with limited_server(settings, db_urls, login_failures_per_address=100) as client:
        attacker = client(address())
        for _ in range(FAILURES_PER_ADDRESS_AND_ACCOUNT):
            assert log_in(attacker, victim, "guess guess").status_code == 401
        refused = log_in(attacker, victim, PASSWORD)  # even the right one, from there
        assert "Wait 15 minutes" in assert_error(refused, 429, "TooManyRequests")
        assert "set-cookie" not in refused.headers

        owner = log_in(client(address()), victim, PASSWORD)

        assert owner.status_code == 200, owner.text


def test_one_address_trying_many_accounts_is_refused(
    settings: Settings, db_urls: DatabaseUrls
) -> None:
    with limited_server(settings, db_urls, login_failures_per_address=3) as client:
        sprayer = client(address())
        for _ in range(3):
            assert log_in(sprayer, unique_email("sprayed"), "password1").status_code == 401
        assert_error(log_in(sprayer, unique_email("sprayed"), "password1"), 429, "TooManyRequests")
        # someone else, elsewhere, is not affected
        assert log_in(client(address()), unique_email("other"), "x" * 8).status_code == 401


def test_failures_from_many_addresses_slow_down_but_never_lock_the_account(
    settings: Settings, db_urls: DatabaseUrls, make_user: Callable[..., httpx.Client]
) -> None:
    victim = email_of(make_user("spread"))
    with limited_server(settings, db_urls, login_failures_per_address=100) as client:
        took: list[float] = []
        for _ in range(7):
            started = time.monotonic()
            failed = log_in(client(address()), victim, "guess guess")
            took.append(time.monotonic() - started)
            assert failed.status_code == 401
        # the sixth and seventh failures of the account were held back (0.25 s, 0.5 s)
        assert took[5] >= 0.25 and took[6] >= 0.5, took
        assert log_in(client(address()), victim, PASSWORD).status_code == 200


def test_forwarded_addresses_count_only_from_a_trusted_proxy(
    settings: Settings, db_urls: DatabaseUrls
) -> None:
    # every test's failed log-ins were made from 127.0.0.1: two more reach this limit
    with psycopg.connect(db_urls.libpq) as conn:
        row = conn.execute(
            "SELECT count(*) FROM login_failures WHERE client = '127.0.0.1' AND kind = 'login' "
            "AND at > now() - interval '15 minutes'"
        ).fetchone()
    limit = (row[0] if row else 0) + 2
    with limited_server(settings, db_urls, proxy=False, login_failures_per_address=limit) as client:
        # each claims another address, but they all come from 127.0.0.1 and count as one
        for _ in range(2):
            failed = log_in(client(address()), unique_email("any"), "password1")
            assert failed.status_code == 401
        third = log_in(client(address()), unique_email("any"), "password1")
        assert_error(third, 429, "TooManyRequests")


def test_sign_ups_are_limited_per_address(settings: Settings, db_urls: DatabaseUrls) -> None:
    with limited_server(settings, db_urls, signups_per_hour=2) as client:
        crowd = client(address())
        for _ in range(2):
            made = crowd.post(
                "/api/auth/signup", json={"email": unique_email("mass"), "password": PASSWORD}
            )
            assert made.status_code == 201, made.text
        again = crowd.post(
            "/api/auth/signup", json={"email": unique_email("mass"), "password": PASSWORD}
        )
        assert "Try again later" in assert_error(again, 429, "TooManyRequests")
        elsewhere = client(address()).post(
            "/api/auth/signup", json={"email": unique_email("fine"), "password": PASSWORD}
        )
        assert elsewhere.status_code == 201
