"""A local HTTP server that answers the Gemini API requests the google-genai SDK makes.

It speaks the resumable Files API upload (start, then the bytes with
`upload, finalize`), file polling and deletion, and `models/{model}:generateContent`.
Tests script what it answers route by route (errors, malformed bodies, late
answers, dropped connections, files that never become ACTIVE) and read back
every request it received. `ScriptedHttpServer` is the plumbing, shared with the
fake OpenAI-compatible server.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass
class FakeReply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0  # answer late, to trip client timeouts
    drop_connection: bool = False  # close the socket without answering


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    route: str | None

    def json(self) -> Any:
        return json.loads(self.body)


Responder = Callable[[RecordedRequest], FakeReply]


def json_reply(payload: object, status: int = 200) -> FakeReply:
    return FakeReply(
        status=status,
        body=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json; charset=UTF-8"},
    )


def raw(body: bytes, status: int = 200) -> FakeReply:
    return FakeReply(status=status, body=body, headers={"Content-Type": "application/json"})


class ScriptedHttpServer:
    """A threaded HTTP server on 127.0.0.1 (free port) that records requests and plays scripts.

    Subclasses name routes (`_route`), check credentials (`_refusal`) and give default
    answers (`_default_reply`); a reply queued for a route is used first.
    """

    routes: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._queues: dict[str, deque[FakeReply | Responder]] = {r: deque() for r in self.routes}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # a short poll interval makes shutdown() (once per test) quick
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def reset(self) -> None:
        """Forget requests and scripts, so one server can serve many tests."""
        with self._lock:
            self.requests.clear()
            for queued in self._queues.values():
                queued.clear()

    def queue(self, route: str, *replies: FakeReply | Responder) -> None:
        with self._lock:
            self._queues[route].extend(replies)

    def requests_to(self, route: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.route == route]

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> str | None:
        raise NotImplementedError

    def _refusal(self, request: RecordedRequest) -> FakeReply | None:
        return None

    def _default_reply(self, request: RecordedRequest) -> FakeReply:
        raise NotImplementedError

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # requests are recorded instead

            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

            def do_DELETE(self) -> None:
                fake._handle(self)

        return Handler

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query)
        headers = {name.lower(): value for name, value in handler.headers.items()}
        route = self._route(handler.command, parts.path, query, headers)
        request = RecordedRequest(handler.command, parts.path, query, headers, body, route)
        with self._lock:
            self.requests.append(request)
        reply = self._reply_for(request)
        self._send(handler, reply)

    def _reply_for(self, request: RecordedRequest) -> FakeReply:
        if request.route is None:
            return json_reply(
                {"error": {"code": 404, "message": f"No route for {request.path}."}}, status=404
            )
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        with self._lock:
            queued = self._queues[request.route]
            scripted = queued.popleft() if queued else None
        if scripted is None:
            return self._default_reply(request)
        return scripted(request) if callable(scripted) else scripted

    def _send(self, handler: BaseHTTPRequestHandler, reply: FakeReply) -> None:
        if reply.delay_seconds and self._stopping.wait(reply.delay_seconds):
            return
        try:
            if reply.drop_connection:
                handler.close_connection = True
                handler.connection.shutdown(2)
                return
            handler.send_response(reply.status, HTTPStatus(reply.status).phrase)
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(reply.body)))
            handler.end_headers()
            handler.wfile.write(reply.body)
            handler.wfile.flush()
        except OSError:
            handler.close_connection = True  # the client gave up waiting


# --- Gemini --------------------------------------------------------------------------

API_KEY_HEADER = "x-goog-api-key"

_VERSION = r"(?P<version>v1|v1beta|v1alpha)"
_UPLOAD_PATH = re.compile(rf"^/upload/{_VERSION}/files$")
_FILE_PATH = re.compile(rf"^/{_VERSION}/files/(?P<file_id>[\w-]+)$")
_GENERATE_PATH = re.compile(rf"^/{_VERSION}/models/(?P<model>[\w.-]+):generateContent$")


@dataclass
class StoredFile:
    name: str  # "files/<id>"
    display_name: str
    mime_type: str
    declared_size: int
    content: bytearray = field(default_factory=bytearray)
    finalized: bool = False
    polls: int = 0
    deleted: bool = False


def model_text(text: str, finish_reason: str = "STOP") -> FakeReply:
    """A generateContent answer whose single candidate says `text`."""
    return json_reply(
        {
            "candidates": [
                {
                    "content": {"parts": [{"text": text}], "role": "model"},
                    "finishReason": finish_reason,
                    "index": 0,
                }
            ],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 10},
            "modelVersion": "gemini-2.5-flash",
        }
    )


def model_json(payload: object) -> FakeReply:
    return model_text(json.dumps(payload))


def api_error(status: int, message: str, status_name: str, reason: str | None = None) -> FakeReply:
    """An error body shaped like Google's: {"error": {code, message, status, details}}."""
    error: dict[str, Any] = {"code": status, "message": message, "status": status_name}
    if reason is not None:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
            }
        ]
    return json_reply({"error": error}, status=status)


def invalid_api_key() -> FakeReply:
    """What Google answers for a key it does not know."""
    return api_error(
        400,
        "API key not valid. Please pass a valid API key.",
        "INVALID_ARGUMENT",
        reason="API_KEY_INVALID",
    )


class FakeGemini(ScriptedHttpServer):
    """Use as a context manager; `base_url` goes into the SDK's HttpOptions."""

    routes = ("upload_start", "upload_bytes", "get_file", "delete_file", "generate")

    def __init__(self, api_key: str = "test-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.files: dict[str, StoredFile] = {}
        # GETs answered PROCESSING before a file turns `final_state` (ACTIVE, FAILED...)
        self.processing_polls = 1
        self.final_state = "ACTIVE"
        # answers generateContent when nothing is queued
        self.generate_responder: Responder | None = None

    def queue_generate(self, *replies: FakeReply | Responder) -> None:
        self.queue("generate", *replies)

    def generate_bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of every generateContent request, in order."""
        return [request.json() for request in self.requests_to("generate")]

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> str | None:
        if method == "POST" and _UPLOAD_PATH.match(path):
            if "upload_id" in query:
                return "upload_bytes"
            if headers.get("x-goog-upload-command") == "start":
                return "upload_start"
        if _FILE_PATH.match(path):
            return {"GET": "get_file", "DELETE": "delete_file"}.get(method)
        if method == "POST" and _GENERATE_PATH.match(path):
            return "generate"
        return None

    def _refusal(self, request: RecordedRequest) -> FakeReply | None:
        # the upload URL carries its own session id: the SDK sends no key there
        if request.route == "upload_bytes" or request.headers.get(API_KEY_HEADER) == self.api_key:
            return None
        return invalid_api_key()

    def _default_reply(self, request: RecordedRequest) -> FakeReply:
        if request.route == "upload_start":
            return self._start_upload(request)
        if request.route == "upload_bytes":
            return self._receive_bytes(request)
        if request.route == "get_file":
            return self._get_file(request)
        if request.route == "delete_file":
            return self._delete_file(request)
        if self.generate_responder is not None:
            return self.generate_responder(request)
        return api_error(500, "The fake Gemini server has no reply scripted.", "INTERNAL")

    def _start_upload(self, request: RecordedRequest) -> FakeReply:
        metadata = request.json().get("file", {}) if request.body else {}
        file_id = secrets.token_hex(6)
        with self._lock:
            self.files[file_id] = StoredFile(
                name=f"files/{file_id}",
                # the SDK sends snake_case here, the REST docs camelCase
                display_name=metadata.get("display_name") or metadata.get("displayName", ""),
                mime_type=request.headers.get("x-goog-upload-header-content-type", ""),
                declared_size=int(request.headers.get("x-goog-upload-header-content-length", "0")),
            )
        version = _UPLOAD_PATH.match(request.path).group("version")  # type: ignore[union-attr]
        # Google answers with its own host; the SDK uploads wherever this points
        upload_url = (
            f"{self.base_url}/upload/{version}/files?upload_id={file_id}&upload_protocol=resumable"
        )
        return FakeReply(
            headers={"X-Goog-Upload-URL": upload_url, "X-Goog-Upload-Status": "active"}
        )

    def _receive_bytes(self, request: RecordedRequest) -> FakeReply:
        stored = self.files.get(request.query["upload_id"][0])
        if stored is None:
            return api_error(404, "No such upload session.", "NOT_FOUND")
        if int(request.headers.get("x-goog-upload-offset", "0")) != len(stored.content):
            return api_error(400, "Upload offset does not match.", "INVALID_ARGUMENT")
        stored.content.extend(request.body)
        if "finalize" not in request.headers.get("x-goog-upload-command", ""):
            return FakeReply(headers={"X-Goog-Upload-Status": "active"})
        stored.finalized = True
        reply = json_reply({"file": self._file_resource(stored, "PROCESSING")})
        reply.headers["X-Goog-Upload-Status"] = "final"
        return reply

    def _get_file(self, request: RecordedRequest) -> FakeReply:
        file_id = _FILE_PATH.match(request.path).group("file_id")  # type: ignore[union-attr]
        stored = self.files.get(file_id)
        if stored is None or stored.deleted:
            return api_error(404, f"File {file_id} does not exist.", "NOT_FOUND")
        stored.polls += 1
        state = "PROCESSING" if stored.polls <= self.processing_polls else self.final_state
        return json_reply(self._file_resource(stored, state))

    def _delete_file(self, request: RecordedRequest) -> FakeReply:
        file_id = _FILE_PATH.match(request.path).group("file_id")  # type: ignore[union-attr]
        stored = self.files.get(file_id)
        if stored is None or stored.deleted:
            return api_error(404, f"File {file_id} does not exist.", "NOT_FOUND")
        stored.deleted = True
        return json_reply({})

    def _file_resource(self, stored: StoredFile, state: str) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "name": stored.name,
            "displayName": stored.display_name,
            "mimeType": stored.mime_type,
            "sizeBytes": str(len(stored.content)),
            "createTime": "2026-11-28T10:00:00.000000Z",
            "updateTime": "2026-11-28T10:00:00.000000Z",
            "expirationTime": "2026-11-30T10:00:00.000000Z",
            "uri": f"https://generativelanguage.googleapis.com/v1beta/{stored.name}",
            "state": state,
            "source": "UPLOADED",
        }
        if state == "FAILED":
            resource["error"] = {"code": 400, "message": "The video could not be processed."}
        return resource
