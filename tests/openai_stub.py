"""A scripted OpenAI-compatible chat-completions server on loopback, for testing the LLM error paths for real.

Each request takes the next scripted behaviour (a streamed reply, an HTTP error, malformed data, a stall);
the real `ChatOpenAI` client talks to it over HTTP, so timeouts and parse errors happen where they would.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Behaviour:
    """What the server does with one request."""

    deltas: list[str] = field(default_factory=list)  # streamed as one SSE event each
    gap_seconds: float = 0.0  # pause before each delta
    stall_seconds: float = 0.0  # pause before the response headers
    status: int = 200
    raw_body: bytes | None = None  # sent verbatim instead of well-formed events
    error_message: str = "stub failure"  # the error body's message when `status` is not 200


def reply(*deltas: str, gap_seconds: float = 0.0) -> Behaviour:
    return Behaviour(deltas=list(deltas), gap_seconds=gap_seconds)


def chunk_event(content: str | None, finish: str | None = None) -> bytes:
    delta = {"role": "assistant", "content": content} if content is not None else {}
    payload = {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "stub",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(payload)}\n\n".encode()


class OpenAIStub:
    """Serves `/v1/chat/completions` from a queue of behaviours; records every request body."""

    def __init__(self) -> None:
        self.script: deque[Behaviour] = deque()
        self.requests: list[dict[str, Any]] = []
        self.sent_at: list[float] = []  # time.monotonic() when each streamed delta was written
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a stalled handler must not hold up the test's teardown
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def enqueue(self, *behaviours: Behaviour) -> None:
        self.script.extend(behaviours)

    def start(self) -> OpenAIStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, body: dict[str, Any]) -> Behaviour:
        with self._lock:
            self.requests.append(body)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.script.popleft() if self.script else Behaviour(status=503)

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                behaviour = stub._next(body)
                try:
                    self._respond(behaviour, stream=bool(body.get("stream")))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should after its timeout
                finally:
                    stub._done()

            def _respond(self, behaviour: Behaviour, stream: bool) -> None:
                time.sleep(behaviour.stall_seconds)
                if behaviour.status != 200:
                    error = json.dumps({"error": {"message": behaviour.error_message, "type": "server_error"}}).encode()
                    self._start(behaviour.status, "application/json", len(error))
                    self.wfile.write(error)
                    return
                if not stream:
                    text = "".join(behaviour.deltas)
                    payload = (
                        behaviour.raw_body
                        or json.dumps(
                            {
                                "id": "chatcmpl-stub",
                                "object": "chat.completion",
                                "created": 0,
                                "model": "stub",
                                "choices": [
                                    {
                                        "index": 0,
                                        "message": {"role": "assistant", "content": text},
                                        "finish_reason": "stop",
                                    }
                                ],
                            }
                        ).encode()
                    )
                    self._start(200, "application/json", len(payload))
                    self.wfile.write(payload)
                    return
                self._start(200, "text/event-stream", None)
                if behaviour.raw_body is not None:
                    self.wfile.write(behaviour.raw_body)
                    return
                for delta in behaviour.deltas:
                    time.sleep(behaviour.gap_seconds)
                    self.wfile.write(chunk_event(delta))
                    self.wfile.flush()
                    stub.sent_at.append(time.monotonic())
                self.wfile.write(chunk_event(None, finish="stop") + b"data: [DONE]\n\n")

            def _start(self, status: int, content_type: str, length: int | None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if length is not None:
                    self.send_header("Content-Length", str(length))
                self.send_header("Connection", "close")
                self.end_headers()

        return Handler
