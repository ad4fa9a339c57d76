"""Changing one's password: the current one is needed, and every other session ends."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.auth.accounts import email_of
from tests.auth.expect import assert_error
from tests.conftest import PASSWORD


def test_a_password_change_keeps_this_session_and_ends_the_others(
    make_user: Callable[..., httpx.Client], base_url: str
) -> None:
    laptop = make_user("changer")
    with httpx.Client(base_url=base_url, timeout=60) as phone:
        login = phone.post(
            "/api/auth/login", json={"email": email_of(laptop), "password": PASSWORD}
        )
        assert login.status_code == 200, login.text

        wrong = laptop.post(
            "/api/auth/password",
            json={"current_password": "not it at all", "new_password": "a fresh password"},
        )
        assert "current password" in assert_error(wrong, 403, "Forbidden")
        short = laptop.post(
            "/api/auth/password", json={"current_password": PASSWORD, "new_password": "short"}
        )
        assert "8 characters" in assert_error(short, 422, "ValidationError")
        assert phone.get("/api/auth/session").status_code == 200  # nothing changed yet

        changed = laptop.post(
            "/api/auth/password",
            json={"current_password": PASSWORD, "new_password": "a fresh password"},
        )

        assert changed.status_code == 204, changed.text
        assert laptop.get("/api/auth/session").status_code == 200
        assert phone.get("/api/auth/session").status_code == 401
    with httpx.Client(base_url=base_url, timeout=60) as again:
        old = again.post("/api/auth/login", json={"email": email_of(laptop), "password": PASSWORD})
        assert old.status_code == 401
        new = again.post(
            "/api/auth/login", json={"email": email_of(laptop), "password": "a fresh password"}
        )
        assert new.status_code == 200
