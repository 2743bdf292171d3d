"""The web layer's protections (dashboard/security.py, dashboard/proxies.py): the request size limit
for every caller, Dash updates included (through the app and through a real werkzeug server, with and
without Content-Length), and the security headers, HSTS only over https."""

from __future__ import annotations

import io
import select
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from config.settings import Settings
from models.db import Database
from tests.web import app_server, make_accounts, sign_in

LIMIT = 64 * 1024
HUGE = 300 * 1024 * 1024  # what took a worker from 165 MB to 1 GB


class CountingBody(io.RawIOBase):
    """A request body of ``total`` bytes made as it is read, counting what the server read."""

    def __init__(self, total: int) -> None:
        self.total, self.read_so_far = total, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.total - self.read_so_far)
        buffer[:n] = b" " * n
        self.read_so_far += n
        return n


@pytest.fixture
def signed_in(db: Database, settings: Settings) -> Any:
    make_accounts(db, settings)
    server = app_server(db, settings, VIGIE_MAX_REQUEST_BYTES=str(LIMIT))
    client = server.test_client()
    assert sign_in(client, "admin").status_code == 302
    return client


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_large_update_body_gets_413_without_being_read(signed_in: Any, declared: bool) -> None:
    body = CountingBody(HUGE)
    # The body as the WSGI server hands it over; a server that ends chunked bodies itself says so
    # (werkzeug's and gunicorn's do).
    environ: dict[str, Any] = {"wsgi.input": body, "wsgi.input_terminated": True, "CONTENT_TYPE": "application/json"}
    if declared:
        environ["CONTENT_LENGTH"] = str(HUGE)
    else:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    response = signed_in.post("/_dash-update-component", environ_overrides=environ)
    assert response.status_code == 413
    assert body.read_so_far <= LIMIT + 64 * 1024, body.read_so_far  # stopped at the limit, not 300 MB
    if declared:
        assert body.read_so_far == 0  # refused on its Content-Length alone
    small = signed_in.post("/_dash-update-component", json={"output": "x.children", "pad": "y" * 1000})
    assert small.status_code != 413


@pytest.fixture
def live(db: Database, settings: Settings) -> Iterator[tuple[int, str]]:
    """The app behind a real werkzeug server on loopback, and an admin's session cookie."""
    make_accounts(db, settings)
    server = app_server(db, settings, VIGIE_MAX_REQUEST_BYTES=str(LIMIT))
    client = server.test_client()
    assert sign_in(client, "admin").status_code == 302
    cookie = client.get_cookie("vigie_session").value
    http = make_server("127.0.0.1", 0, server, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield http.server_port, cookie
    finally:
        http.shutdown()
        http.server_close()
        thread.join(timeout=5)


def _send_until_answered(port: int, head: bytes, chunk: bytes, total: int) -> tuple[bytes, int]:
    """Send ``head`` then ``chunk`` repeatedly (up to ``total`` bytes) until the server answers or
    closes: (the answer's first bytes, the body bytes sent)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head)
        while sent < total:
            readable, _w, _x = select.select([conn], [], [], 0)
            if readable:
                break
            try:
                conn.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        conn.settimeout(30)
        try:
            answer = conn.recv(200)
        except ConnectionResetError:
            answer = b""
    return answer, sent


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_real_server_answers_413_to_a_huge_update(live: tuple[int, str], declared: bool) -> None:
    port, cookie = live
    piece = b"x" * 65536
    framing = f"Content-Length: {HUGE}" if declared else "Transfer-Encoding: chunked"
    head = (f"POST /_dash-update-component HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: vigie_session={cookie}\r\n"
            f"Content-Type: application/json\r\n{framing}\r\n\r\n").encode()
    chunk = piece if declared else b"%x\r\n" % len(piece) + piece + b"\r\n"
    answer, sent = _send_until_answered(port, head, chunk, HUGE)
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert sent < 32 * 1024 * 1024, sent  # the server answered long before 300 MB were sent


def test_security_headers_and_hsts_only_over_https(db: Database, settings: Settings) -> None:
    server = app_server(db, settings, VIGIE_TRUSTED_PROXIES="10.0.0.1")
    plain = server.test_client()
    plain.environ_base["REMOTE_ADDR"] = "192.0.2.1"
    page = plain.get("/login")
    csp = dict(part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";"))
    scripts = csp["script-src"].split()
    assert scripts[0] == "'self'" and "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert len(scripts) > 1 and all(s.startswith("'sha256-") for s in scripts[1:])  # Dash's inline scripts
    assert (csp["frame-ancestors"], csp["object-src"], csp["base-uri"], csp["connect-src"]) == \
        ("'none'", "'none'", "'self'", "'self'")
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in page.headers
    # A client claiming https itself is not believed ...
    forged = plain.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in forged.headers
    # ... the trusted proxy is, and so is a direct https request.
    proxied = server.test_client()
    proxied.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    assert proxied.get("/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.1"}
                       ).headers["Strict-Transport-Security"].startswith("max-age=")
    direct = server.test_client().get("/login", base_url="https://vigie.bank.example")
    assert direct.headers["Strict-Transport-Security"].startswith("max-age=")
