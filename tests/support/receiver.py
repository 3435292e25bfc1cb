"""A real HTTP server that receives webhooks, for delivery tests: it records every request and
answers from a script (a status, a hang, a redirect), then 200. A request whose sender went away
during a hang is recorded as answered 0: the sender never saw an answer."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.servers import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    """`script` holds one action per coming request: an int status, ("hang", seconds), or
    ("redirect", url); once it is empty every request gets 200. While `open` is cleared, requests
    the script does not name wait for it (answered 0 if their sender goes away meanwhile)."""

    script: deque[Any] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: int = 0  # requests whose body has been read, answered or not yet
    open: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def start(self, port: int | None = None) -> Receiver:
        receiver = self
        self.open.set()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver.lock:
                    receiver.arrived += 1
                    action = receiver.script.popleft() if receiver.script else None
                status = 200
                headers: dict[str, str] = {}
                if action is None:
                    while not receiver.open.wait(0.05):
                        if _gone(self.connection):
                            status = 0
                            break
                elif isinstance(action, tuple) and action[0] == "hang":
                    time.sleep(action[1])
                    if _gone(self.connection):
                        status = 0
                elif isinstance(action, tuple) and action[0] == "redirect":
                    status, headers = 307, {"Location": action[1]}
                else:
                    status = int(action)
                with receiver.lock:
                    receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body, status))
                if status == 0:
                    return
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up (a hang past its timeout)

            def log_message(self, *_: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", port or free_port()), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def answered(self, status: int) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.answered == status]

    def event_types(self) -> list[str]:
        import json

        with self.lock:
            return [json.loads(r.body)["type"] for r in self.received]


def _gone(connection: socket.socket) -> bool:
    """Whether the peer has closed the connection (readable, and nothing left to read)."""
    readable, _, _ = select.select([connection], [], [], 0)
    if not readable:
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True
