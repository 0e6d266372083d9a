"""A scripted model server on 127.0.0.1 that any provider's responder plugs into.

The server is provider-neutral: it parses HTTP, hands a `StubRequest` to a `Responder`, streams the
`StubReply` back chunk by chunk (so runtimes see a real event stream), and records every exchange
for the cassette. Provider knowledge (wire format, which step answers which request, what the
request must carry) lives in one responder module per provider.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Protocol
from urllib.parse import urlsplit


@dataclass(frozen=True)
class StubRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class StubReply:
    """A reply; `chunks` may be a generator (a live proxy streams upstream bytes through)."""

    status: int
    headers: dict[str, str]
    chunks: Iterable[bytes]

    @property
    def body(self) -> bytes:
        if not isinstance(self.chunks, list):
            raise TypeError("body of a streaming reply is only known once it was sent")
        return b"".join(self.chunks)


@dataclass(frozen=True)
class Exchange:
    request: StubRequest
    reply: StubReply


class Responder(Protocol):
    """Provider-specific brain of the stub."""

    def respond(self, request: StubRequest) -> StubReply: ...


@dataclass
class StubLog:
    """What the stub saw: exchanges in arrival order and every failed request check."""

    exchanges: list[Exchange] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, exchange: Exchange) -> None:
        with self.lock:
            self.exchanges.append(exchange)

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)


def _handler_for(responder: Responder, log: StubLog) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the stub's record is the cassette, not stderr."""

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.headers.get("Content-Encoding", "").lower() == "gzip":
                body = gzip.decompress(body)
            parts = urlsplit(self.path)
            request = StubRequest(
                method=self.command,
                path=parts.path,
                query=parts.query,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            try:
                reply = responder.respond(request)
            except Exception as exc:  # a stub bug must surface, not hang the runtime
                log.problem(f"responder crashed on {request.method} {request.path}: {exc!r}")
                reply = StubReply(500, {"content-type": "text/plain"}, [b"stub error"])
            sent = self._send(reply)
            log.add(Exchange(request, StubReply(reply.status, reply.headers, sent)))

        def _send(self, reply: StubReply) -> list[bytes]:
            """Stream the reply chunk by chunk; returns what was sent, for the cassette."""
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            sent: list[bytes] = []
            try:
                for chunk in reply.chunks:
                    if chunk:
                        sent.append(chunk)
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                log.problem(f"client hung up during {self.path}")
            except Exception as exc:  # an upstream failing mid-stream must be recorded, not lost
                log.problem(f"reply stream failed during {self.path}: {exc!r}")
            return sent

        do_POST = _serve  # noqa: N815 -- the name http.server dispatches to
        do_GET = _serve  # noqa: N815 -- the name http.server dispatches to

    return Handler


class StubServer:
    """Context manager: a threaded HTTP server on 127.0.0.1 with a random free port."""

    def __init__(self, responder: Responder) -> None:
        self.log = StubLog()
        bind = getattr(responder, "bind", None)
        if callable(bind):  # a responder that checks requests reports into this log
            bind(self.log)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(responder, self.log))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def sse_event(event: str | None, data: bytes) -> bytes:
    """One server-sent event frame."""
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + data + b"\n\n"

