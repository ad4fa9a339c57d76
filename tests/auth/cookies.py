"""Reading the session cookie's attributes from a raw Set-Cookie header."""

from __future__ import annotations

import httpx

from reeldocs.core.security import SESSION_COOKIE


def session_cookie_attributes(response: httpx.Response) -> dict[str, str]:
    """The attributes of the session cookie the response sets, lower-cased names."""
    for header in response.headers.get_list("set-cookie"):
        name_value, *attributes = (part.strip() for part in header.split(";"))
        if name_value.split("=", 1)[0] != SESSION_COOKIE:
            continue
        parsed = {"value": name_value.split("=", 1)[1]}
        for attribute in attributes:
            key, _, value = attribute.partition("=")
            parsed[key.strip().lower()] = value.strip()
        return parsed
    raise AssertionError(f"no {SESSION_COOKIE} cookie in {response.headers.get_list('set-cookie')}")
