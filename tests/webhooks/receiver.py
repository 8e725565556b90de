"""A webhook receiver for tests: a real HTTP server in a thread that keeps every request
and answers with the statuses it is told, in turn."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    def verified(self, secret: str) -> dict[str, Any]:
        """The body, once the ``standardwebhooks`` library accepts its signature (and its
        timestamp, within 5 minutes of the real clock)."""
        payload: dict[str, Any] = Webhook(secret).verify(self.body, self.headers)
        return payload

    def signed_with(self, secret: str) -> bool:
        """Whether the signature is the library's for this secret, at any timestamp."""
        moment = datetime.fromtimestamp(int(self.headers["webhook-timestamp"]), tz=UTC)
        expected = Webhook(secret).sign(self.headers["webhook-id"], moment, self.body.decode())
        return expected in self.headers["webhook-signature"].split(" ")


@dataclass
class Receiver:
    url: str
    answers: list[int] = field(default_factory=list)
    """Statuses for the next requests, in turn; 200 once they run out."""
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keep(self, request: Received) -> int:
        """Keep a request; the status to answer it with."""
        with self.lock:
            self.received.append(request)
            return self.answers.pop(0) if self.answers else 200


@contextmanager
def receiving(*answers: int, path: str = "/hooks") -> Iterator[Receiver]:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            status = receiver.keep(Received(headers, body))
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("location", receiver.url + "/elsewhere")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}{path}")
    receiver.answers.extend(answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
