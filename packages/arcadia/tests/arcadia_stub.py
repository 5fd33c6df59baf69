"""A scripted HTTP server, for what a real Ebling cannot be made to do on demand.

Ebling answers 503 only when its database is down and never answers 429, so the tests of
retry timing (fail twice, then succeed; honour ``Retry-After``) use this stub, which
answers a fixed list of responses in order and records when each request arrived.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


INGESTED = Answer(200, {"received": 1, "stored": 1, "duplicates": 0})
UNAVAILABLE = Answer(
    503,
    {"type": "urn:ebling:problem:not-ready", "title": "Service Unavailable", "status": 503},
)


class ScriptedServer:
    """Answers requests with ``answers`` in order, repeating the last one when they run out."""

    def __init__(self, answers: list[Answer], *, port: int = 0) -> None:
        self.answers = list(answers)
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _next_answer(self, request: Received) -> Answer:
        with self._lock:
            self.received.append(request)
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = stub._next_answer(
                    Received(
                        self.command,
                        self.path,
                        {name.lower(): value for name, value in self.headers.items()},
                        body,
                        time.monotonic(),
                    )
                )
                payload = json.dumps(answer.body).encode() if answer.body is not None else b""
                self.send_response(answer.status)
                content_type = "application/problem+json" if answer.status >= 400 else None
                self.send_header("Content-Type", content_type or "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests."""
        times = [request.at for request in self.received]
        return [later - earlier for earlier, later in itertools.pairwise(times)]

    @contextmanager
    def running(self) -> Iterator[ScriptedServer]:
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(timeout=5)
