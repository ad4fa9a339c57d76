"""A TCP proxy on 127.0.0.1 in front of one server, with the faults a test turns on and off.

- `pause()`: connections are accepted and kept, but nothing is forwarded either way, as
  when a server hangs; `release()` forwards again.
- `hold_transfers_after(n)`: a connection that has carried more than `n` bytes from the
  server stops there (in the middle of a download), until `release()`.
- `down()`: new connections are refused and open ones reset; `back()` listens again on the
  same port.

`held` tells a test, without timing, that a request has reached the proxy and is waiting.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from dataclasses import dataclass, field

ACCEPT_POLL_SECONDS = 0.05
WAIT_POLL_SECONDS = 0.05


@dataclass(eq=False)
class _Link:
    client: socket.socket
    server: socket.socket
    from_server: int = 0
    held: bool = False
    closed: threading.Event = field(default_factory=threading.Event)

    def close(self, *, reset: bool = False) -> None:
        self.closed.set()
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                if reset:  # an RST at close, as a server that went away sends
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with contextlib.suppress(OSError):
                # wakes the pump blocked reading this socket: close() alone would not
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


class FaultyProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._state = threading.Condition()
        self._paused = False
        self._hold_after: int | None = None
        self._links: set[_Link] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self.held = threading.Event()
        self.accepted = 0
        self.port = 0
        self._listen()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- faults ----------------------------------------------------------------------------

    def pause(self) -> None:
        with self._state:
            self.held.clear()
            self._paused = True

    def hold_transfers_after(self, byte_count: int) -> None:
        with self._state:
            self.held.clear()
            self._hold_after = byte_count

    def release(self) -> None:
        with self._state:
            self._paused = False
            self._hold_after = None
            for link in self._links:
                link.held = False
            self._state.notify_all()

    def down(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        if self._acceptor is not None:
            self._acceptor.join(timeout=5)
        with self._state:
            links, self._links = set(self._links), set()
            self._state.notify_all()
        for link in links:
            link.close(reset=True)

    def back(self) -> None:
        self.release()
        self._listen()

    def close(self) -> None:
        self.release()
        self.down()

    # -- plumbing --------------------------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(ACCEPT_POLL_SECONDS)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self._target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            server.settimeout(None)
            link = _Link(client, server)
            with self._state:
                self._links.add(link)
                self.accepted += 1
                if self._paused:
                    self.held.set()
            for source, target, from_server in ((client, server, False), (server, client, True)):
                threading.Thread(
                    target=self._pump, args=(link, source, target, from_server), daemon=True
                ).start()

    def _wait_while_stopped(self, link: _Link) -> bool:
        """Wait while the proxy holds this link; False when the link went away meanwhile."""
        with self._state:
            while (self._paused or link.held) and not link.closed.is_set():
                self.held.set()
                self._state.wait(WAIT_POLL_SECONDS)
        return not link.closed.is_set()

    def _pump(
        self, link: _Link, source: socket.socket, target: socket.socket, from_server: bool
    ) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if from_server:
                    with self._state:
                        limit = self._hold_after
                        if limit is not None and link.from_server + len(data) > limit:
                            allowed = max(0, limit - link.from_server)
                            if allowed:
                                target.sendall(data[:allowed])
                                link.from_server += allowed
                                data = data[allowed:]
                            link.held = True
                if not self._wait_while_stopped(link):
                    break
                target.sendall(data)
                if from_server:
                    link.from_server += len(data)
        except OSError:
            pass
        finally:
            with self._state:
                self._links.discard(link)
            link.close()
