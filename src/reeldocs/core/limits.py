"""Size limits on what a request may make the server read: body, address, headers.

Only a video upload may be large, and its route reads it as a stream with its own cap
(videos/upload.py). Every other body is refused past MAX_BODY_BYTES before it is read
whole: at once when its Content-Length says so, else as soon as that many bytes have
arrived. The request line and headers are limited where they are parsed, in the HTTP
protocol (BoundedHttpToolsProtocol), since they are in memory before any application
code runs: 414 for an address too long, 431 for too many or too large headers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httptools
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_BODY_BYTES = 512 * 1024
MAX_URL_BYTES = 8 * 1024
MAX_HEADER_COUNT = 100
MAX_HEADER_BYTES = 64 * 1024

_UPLOAD = re.compile(r"^/api/projects/[^/]+/videos/?$")
TOO_LARGE = (
    f"The request body is larger than the {MAX_BODY_BYTES // 1024} KB this address accepts. "
    "Send less at once (videos go to the upload address, which takes large files)."
)


def is_upload(scope: Scope) -> bool:
    return scope.get("method") == "POST" and _UPLOAD.match(scope.get("path", "")) is not None


class _BodyTooLarge(Exception):
    pass


ErrorResponder = Callable[[Request, int, dict[str, Any]], Any]


class BodyLimitMiddleware:
    """Refuses a body over `max_bytes` with 413 and a sentence, before it is read whole."""

    def __init__(
        self,
        app: ASGIApp,
        respond: ErrorResponder,
        max_bytes: int = MAX_BODY_BYTES,
        exempt: Callable[[Scope], bool] = is_upload,
    ) -> None:
        self.app = app
        self.respond = respond
        self.max_bytes = max_bytes
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.exempt(scope):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = refused = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes and not refused:
                    # Answered here and now: the framework turns an error while reading
                    # a body into a 400 of its own, which is then not sent.
                    if not started:
                        refused = True
                        await self._refuse(scope, receive, send)
                    raise _BodyTooLarge()
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _BodyTooLarge:
            if not refused:
                raise

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.respond(
            Request(scope, receive), 413, {"error": "PayloadTooLarge", "detail": TOO_LARGE}
        )
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with limits on the request line and headers, which
    it otherwise reads whatever their size (a 100 MB header, 10,000 headers)."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._refusal: tuple[int, str] | None = None
        self._header_bytes = 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_URL_BYTES:
            self._refuse(414, f"The address is longer than {MAX_URL_BYTES // 1024} KB.")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        if self._header_bytes > MAX_HEADER_BYTES:
            self._refuse(
                431, f"The request's headers are larger than {MAX_HEADER_BYTES // 1024} KB."
            )
        if len(self.headers) >= MAX_HEADER_COUNT:
            self._refuse(431, f"The request has more than {MAX_HEADER_COUNT} headers.")
        super().on_header(name, value)

    def _refuse(self, status: int, sentence: str) -> None:
        self._refusal = (status, sentence)
        raise httptools.HttpParserError(sentence)  # stops the parser at once

    def data_received(self, data: bytes) -> None:
        # As the library's own, but a limit it crossed gets its own answer, not a 400.
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            refusal = getattr(self, "_refusal", None)
            if refusal is not None:
                self._send_refusal(*refusal)
                return
            message = "Invalid HTTP request received."
            self.logger.warning(message)
            self.send_400_response(message)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def _send_refusal(self, status: int, sentence: str) -> None:
        reason = {414: b"URI Too Long", 431: b"Request Header Fields Too Large"}[status]
        body = sentence.encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (status, reason, len(body), body)
        )
        self.transport.close()
