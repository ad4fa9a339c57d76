"""A model hub on 127.0.0.1 that answers huggingface_hub 2.4.0 as the Hugging Face hub does.

`snapshot_download` (which faster-whisper's download calls) asks, in this order:
  GET  /api/models/{repo}/revision/{revision}        the model's info: its commit ("sha")
  GET  /api/models/{repo}/tree/{commit}?recursive=…  its files: path, size, git oid, lfs
  HEAD /{repo}/resolve/{commit}/{file}                each file's metadata, from headers:
       X-Repo-Commit, ETag (the git oid), Content-Length; for a file kept in LFS the hub
       answers 302 to its CDN with X-Linked-Etag (the sha256) and X-Linked-Size instead
  GET  the resolve URL, or the CDN URL the redirect named, for the bytes.
Here the CDN is a second server on 127.0.0.2, so that, as with the real hub, the
redirect leaves the hub's host and huggingface_hub takes the metadata from the 302.
huggingface_hub also asks, once a day and best effort, for `/api/agent-harnesses` (to
describe itself in its User-Agent); that is answered 404, which it shrugs off.

A missing repo is answered 404 with `X-Error-Code: RepoNotFound`, as the hub does.
`fail_with` makes every request answer that status; `stall` makes the info request
never answer; `hold_weights` holds the LFS download until it is set.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

COMMIT = hashlib.sha1(b"reeldocs fake hub commit").hexdigest()
LFS_FILES = frozenset({"model.bin"})
README = b"# A converted Whisper model\n"


def git_blob_id(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


class FakeHub:
    def __init__(self, repo_id: str, model_folder: Path) -> None:
        self.repo_id = repo_id
        self.files: dict[str, bytes] = {
            path.name: path.read_bytes() for path in sorted(model_folder.iterdir())
        }
        self.files["README.md"] = README
        self.sha256 = {name: hashlib.sha256(data).hexdigest() for name, data in self.files.items()}
        self.requests: list[str] = []
        self.fail_with: int | None = None
        self.stall = threading.Event()  # set: the info request is never answered
        self.hold_weights = threading.Event()  # clear: LFS downloads wait until it is set
        self.hold_weights.set()
        self.stopping = threading.Event()
        self.hub = self._server("127.0.0.1", "hub")
        self.cdn = self._server("127.0.0.2", "cdn")
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.hub.server_address[1]}"

    @property
    def cdn_url(self) -> str:
        return f"http://127.0.0.2:{self.cdn.server_address[1]}"

    def _server(self, host: str, role: str) -> ThreadingHTTPServer:
        hub = self

        class Handler(_HubHandler):
            fake = hub
            server_role = role

        server = ThreadingHTTPServer((host, 0), Handler)
        server.daemon_threads = True
        return server

    def start(self) -> FakeHub:
        for server in (self.hub, self.cdn):
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.hold_weights.set()
        for server in (self.hub, self.cdn):
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def tree(self) -> list[dict[str, Any]]:
        entries = []
        for name, data in self.files.items():
            entry: dict[str, Any] = {
                "type": "file",
                "path": name,
                "size": len(data),
                "oid": git_blob_id(data),
            }
            if name in LFS_FILES:
                entry["lfs"] = {"oid": self.sha256[name], "size": len(data), "pointerSize": 134}
            entries.append(entry)
        return entries


@contextmanager
def running_hub(repo_id: str, model_folder: Path) -> Iterator[FakeHub]:
    hub = FakeHub(repo_id, model_folder).start()
    try:
        yield hub
    finally:
        hub.stop()


class _HubHandler(BaseHTTPRequestHandler):
    fake: FakeHub
    server_role: str
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # the test reads `requests` instead

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self._answer(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(head=False)

    def _answer(self, *, head: bool) -> None:
        fake = self.fake
        path = unquote(urlsplit(self.path).path)
        fake.requests.append(f"{self.command} {self.server_role}{path}")
        if fake.fail_with is not None:
            self._send_json(fake.fail_with, {"error": "The hub is having a bad day."}, head)
            return
        if self.server_role == "cdn":
            name = next((n for n, digest in fake.sha256.items() if path == f"/{digest}"), None)
            if name is None:
                self._send_json(404, {"error": "No such object."}, head)
                return
            if not head:
                while not fake.hold_weights.wait(0.1):
                    if fake.stopping.is_set():
                        return
            self._send_bytes(fake.files[name], {"ETag": f'"{fake.sha256[name]}"'}, head)
            return
        repo = re.escape(fake.repo_id)
        if match := re.fullmatch(r"/api/models/(.+?)/revision/([^/]+)", path):
            if match[1] != fake.repo_id:
                self._not_found(head)
                return
            if fake.stall.is_set():
                fake.stopping.wait()
                return
            siblings = [{"rfilename": name} for name in fake.files]
            body = {"id": fake.repo_id, "modelId": fake.repo_id, "sha": COMMIT}
            self._send_json(200, {**body, "private": False, "siblings": siblings}, head)
        elif re.fullmatch(rf"/api/models/{repo}/tree/{COMMIT}", path):
            self._send_json(200, fake.tree(), head)
        elif match := re.fullmatch(rf"/{repo}/resolve/{COMMIT}/(.+)", path):
            self._resolve(match[1], head)
        else:
            self._not_found(head)

    def _resolve(self, name: str, head: bool) -> None:
        fake = self.fake
        data = fake.files.get(name)
        if data is None:
            headers = {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": COMMIT}
            self._send_json(404, {"error": "Entry not found"}, head, headers)
            return
        if name in LFS_FILES:
            self.send_response(302)
            self.send_header("Location", f"{fake.cdn_url}/{fake.sha256[name]}")
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("X-Linked-Etag", f'"{fake.sha256[name]}"')
            self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send_bytes(data, {"ETag": f'"{git_blob_id(data)}"', "X-Repo-Commit": COMMIT}, head)

    def _not_found(self, head: bool) -> None:
        self._send_json(
            404, {"error": "Repository not found"}, head, {"X-Error-Code": "RepoNotFound"}
        )

    def _send_json(
        self, status: int, body: Any, head: bool, headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _send_bytes(self, data: bytes, headers: dict[str, str], head: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)
