"""A threaded local HTTP server replaying recorded payloads, for connector tests.

Each test registers what a path answers, in order (the last answer repeats):

    server.route("/api/v1/timelines/tag/aurelia", Reply.json(page1), Reply.json(page2))
    server.route("/feed.xml", Reply.file("rss/news.xml", content_type="application/rss+xml"))
    server.route("/search", lambda req: Reply.json(...))  # computed from the request

Built-in routes, as in httpbin: ``/status/{code}`` answers that status and ``/slow``
waits 5 s before answering. Every request is recorded (method, path, query, headers,
body, time) in ``server.requests`` so tests can check cursors, validators, auth headers
and that nothing was sent during a wait. Fault replies: ``Reply(truncate=True)`` declares
a longer Content-Length than it sends, then closes; ``Reply.huge(n)`` streams n bytes;
``Reply(drop=True)`` reads the request and closes the connection without a word.
``ReplayServer(tls=context)`` serves HTTPS (a test CA's certificate: `tests/egress.py`).
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (timeouts)
    truncate: bool = False  # declare the full length, send half, close
    stream_bytes: int = 0  # send this many filler bytes instead of body (oversized responses)
    declare_length: bool = True
    drop: bool = False  # read the request, then close the connection without answering

    @classmethod
    def json(cls, payload: Any, status: int = 200, **kwargs: Any) -> Reply:
        return cls(status, json.dumps(payload, ensure_ascii=False).encode(), **kwargs)

    @classmethod
    def file(cls, name: str, content_type: str | None = "application/json", **kwargs: Any) -> Reply:
        return cls(body=(FIXTURES / name).read_bytes(), content_type=content_type, **kwargs)

    @classmethod
    def huge(cls, size: int, declare_length: bool = True, content_type: str = "application/json") -> Reply:
        return cls(stream_bytes=size, declare_length=declare_length, content_type=content_type)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float  # time.time()

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


Responder = Reply | Callable[[Request], Reply]


class ReplayServer:
    def __init__(self, poll_interval: float = 0.5, tls: ssl.SSLContext | None = None) -> None:
        # close() waits up to one poll interval
        self._routes: dict[str, list[Responder]] = {}
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                req = Request(
                    self.command, parts.path, parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()}, body, time.time(),
                )
                with server._lock:
                    server.requests.append(req)
                reply = server._reply_for(req)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    return
                try:
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (size limit, timeout): expected in fault tests

            def _send(self, reply: Reply) -> None:
                self.send_response(reply.status)
                if reply.content_type:
                    self.send_header("Content-Type", reply.content_type)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.stream_bytes:
                    if reply.declare_length:
                        self.send_header("Content-Length", str(reply.stream_bytes))
                    else:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    chunk = b"[" + b" " * (64 * 1024 - 1)
                    sent = 0
                    while sent < reply.stream_bytes:
                        piece = chunk[: reply.stream_bytes - sent]
                        self.wfile.write(piece)
                        sent += len(piece)
                    self.close_connection = True
                    return
                self.send_header("Content-Length", str(len(reply.body)))
                if reply.truncate:
                    self.send_header("Connection", "close")
                self.end_headers()
                if reply.truncate:
                    self.wfile.write(reply.body[: len(reply.body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(reply.body)

            do_GET = do_POST = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if tls is not None:  # (a client refusing the certificate fails the accept: the server goes on)
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(poll_interval,), daemon=True)
        self._thread.start()

    def route(self, path: str, *responses: Responder) -> None:
        """What ``path`` answers, in order; the last answer repeats."""
        with self._lock:
            self._routes[path] = list(responses)

    def hits(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def _reply_for(self, req: Request) -> Reply:
        with self._lock:
            queue = self._routes.get(req.path)
            if queue:
                responder = queue.pop(0) if len(queue) > 1 else queue[0]
            else:
                responder = None
        if responder is None:
            if req.path.startswith("/status/"):
                return Reply(int(req.path.rsplit("/", 1)[1]), b"", content_type="text/plain")
            if req.path == "/slow":
                return Reply(200, b"{}", delay=5.0)
            return Reply(404, b"not found", content_type="text/plain")
        return responder(req) if callable(responder) else responder

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def x_recent_page(req: Request, newest: int, text: str) -> tuple[Reply, list[int]]:
    """One page of X's recent search (API v2, as X documents it) over a stream of posts numbered
    1..``newest``, newest first: ``since_id``, ``next_token`` (the oldest id of the page before),
    ``max_results`` (10 by default). ``text``: each post's text, ``{n}`` its number. Returns the
    reply and the ids it serves (none: an empty page)."""
    since = int(req.arg("since_id") or 0)
    below = int(req.arg("next_token") or newest + 1)
    ids = list(range(min(below - 1, newest), since, -1))[:int(req.arg("max_results") or 10)]
    if not ids:
        return Reply.json({"meta": {"result_count": 0}}), ids
    data = [{"id": str(n), "text": text.format(n=n), "created_at": "2026-11-25T08:00:00.000Z", "author_id": "42",
             "lang": "en"} for n in ids]
    meta: dict[str, object] = {"newest_id": str(ids[0]), "oldest_id": str(ids[-1]), "result_count": len(ids)}
    if ids[-1] - 1 > since:
        meta["next_token"] = str(ids[-1])
    users = [{"id": "42", "username": "kim", "name": "Kim", "public_metrics": {"followers_count": 12}}]
    return Reply.json({"data": data, "includes": {"users": users}, "meta": meta}), ids
