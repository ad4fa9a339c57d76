"""What a request may make the server read: capped bodies, addresses and headers.

Each case was seen accepted before the caps: a 200 MB JSON log-in body read and
parsed, 50 MB of JSON accepted by POST /api/projects, a 100 MB header, 10,000 headers.
The cases here are smaller than those but over the caps, sent on raw sockets where a
client library would refuse to send them.
"""

from __future__ import annotations

import socket

import httpx
import pytest

from reeldocs.core.limits import MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_HEADER_COUNT, MAX_URL_BYTES
from tests.auth.expect import assert_error
from tests.conftest import LiveServer


def raw_request(server: LiveServer, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Send bytes as they are; the status and body of the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/projects", "/login"])
def test_a_body_over_the_cap_is_refused_before_it_is_read(
    live_server: LiveServer, user: httpx.Client, path: str
) -> None:
    big = b'{"name": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'
    answer = user.post(path, content=big, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    if path.startswith("/api"):
        assert "larger than" in assert_error(answer, 413, "PayloadTooLarge")


def test_a_chunked_body_over_the_cap_is_refused_too(live_server: LiveServer) -> None:
    # no Content-Length: the cap is found while reading
    def chunks() -> bytes:
        return b"".join([b"%x\r\n%s\r\n" % (65536, b"a" * 65536)] * 10) + b"0\r\n\r\n"

    status, body = raw_request(
        live_server,
        b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n",
        chunks(),
    )
    assert status == 413 and b"larger than" in body


def test_a_body_under_the_cap_still_works(user: httpx.Client) -> None:
    answer = user.post("/api/projects", json={"name": "Small enough"})
    assert answer.status_code == 201


def test_an_address_too_long_is_414(live_server: LiveServer) -> None:
    path = b"/api/projects?" + b"a" * (MAX_URL_BYTES + 1)
    status, body = raw_request(live_server, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 414 and b"longer than" in body


def test_headers_too_large_or_too_many_are_431(live_server: LiveServer) -> None:
    large = b"X-Big: " + b"a" * (MAX_HEADER_BYTES + 1) + b"\r\n"
    status, body = raw_request(
        live_server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + large + b"\r\n"
    )
    assert status == 431 and b"larger than" in body
    many = b"".join(b"X-H%d: v\r\n" % n for n in range(MAX_HEADER_COUNT + 1))
    status, body = raw_request(
        live_server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"
    )
    assert status == 431 and b"more than" in body
    # and the server goes on answering
    assert httpx.get(f"{live_server.url}/healthz").status_code == 200
