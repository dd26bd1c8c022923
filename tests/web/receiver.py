"""A webhook receiver on a real socket: records each POST and checks its signature as a user's code would."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: dict[str, Any]
    signature_ok: bool


class Receiver:
    """`with Receiver(port, secret) as r:` ... `r.wait_for(lambda events: ...)`."""

    def __init__(self, port: int, secret: str, status: int = 200) -> None:
        self.port, self.secret, self.status = port, secret, status
        self.received: list[Received] = []
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                timestamp = self.headers.get("X-Relaydesk-Timestamp", "")
                expected = "sha256=" + hmac.new(receiver.secret.encode(), f"{timestamp}.".encode() + raw,
                                                hashlib.sha256).hexdigest()
                fresh = abs(time.time() - int(timestamp or 0)) < 300
                ok = fresh and hmac.compare_digest(expected, self.headers.get("X-Relaydesk-Signature", ""))
                with receiver._lock:
                    receiver.received.append(Received(dict(self.headers), json.loads(raw), ok))
                    receiver._lock.notify_all()
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def __enter__(self) -> "Receiver":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def events(self) -> list[tuple[str, str]]:
        """(type, ticket ref) of each delivery, in arrival order."""
        with self._lock:
            return [(r.body["type"], (r.body.get("ticket") or {}).get("ref")) for r in self.received]

    def wait_for(self, done: Any, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not done(self.received):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"receiver got {[r.body['type'] for r in self.received]}; gave up waiting")
                self._lock.wait(remaining)
            return list(self.received)
