"""A bank's network in miniature, for the egress tests: a test CA (`trustme`) whose certificate the
local HTTPS server presents, and a real HTTP CONNECT proxy that records every tunnel it opens."""

from __future__ import annotations

import select
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme


def corporate_ca(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A new CA: the server context of a certificate it issued for 127.0.0.1, and its PEM file (what
    a bank hands over as VIGIE_CA_BUNDLE). No system trust store holds it."""
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    bundle = folder / "corporate-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return server, bundle


class ConnectProxy:
    """An HTTP proxy answering CONNECT only (as egress proxies do for HTTPS): opens the tunnel,
    records its target in ``tunnels``, and copies bytes both ways until one side closes."""

    def __init__(self) -> None:
        self.tunnels: list[str] = []
        self.refused: list[str] = []  # requests other than CONNECT
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_CONNECT(self) -> None:  # noqa: N802 (the method's name is the verb)
                proxy.tunnels.append(self.path)
                host, _, port = self.path.rpartition(":")
                try:
                    upstream = socket.create_connection((host, int(port)), timeout=10)
                except OSError:
                    self.send_error(502)
                    return
                self.send_response(200, "Connection established")
                self.end_headers()
                self.wfile.flush()
                _pipe(self.connection, upstream)
                self.close_connection = True

            def _refuse(self) -> None:
                proxy.refused.append(f"{self.command} {self.path}")
                self.send_error(405)

            do_GET = do_POST = do_HEAD = _refuse

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.2,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _pipe(client: socket.socket, upstream: socket.socket) -> None:
    sockets = [client, upstream]
    try:
        while True:
            readable, _, broken = select.select(sockets, [], sockets, 30)
            if broken or not readable:
                return
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                (upstream if sock is client else client).sendall(data)
    except OSError:
        return
    finally:
        upstream.close()
