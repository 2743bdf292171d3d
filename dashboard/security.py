"""The web layer's protections, installed once by `create_app`: trusted reverse proxies, the request
size limit and the security headers of every response.

- `dashboard.proxies.TrustedProxies` wraps the WSGI app (VIGIE_TRUSTED_PROXIES).
- Flask's ``MAX_CONTENT_LENGTH`` is VIGIE_MAX_REQUEST_BYTES for every route, Dash's updates included:
  a larger ``Content-Length`` is refused with 413 before anything is read, and a body sent without
  one (chunked) is cut off with 413 as soon as it passes the limit. Webhooks keep their own
  ``max_body_mb`` (`dashboard/hooks.py` sets it on its request).
- Content-Security-Policy: scripts only from this site and the inline scripts Dash writes itself,
  allowed by their hashes (`Dash.csp_hashes()`, which covers the clientside callbacks); no
  ``'unsafe-inline'`` for scripts (styles need it: Dash and Plotly write inline styles); no framing, no
  plugins, no ``<base>`` elsewhere, connections to this site only. Also ``X-Content-Type-Options``,
  ``Referrer-Policy`` (a kiosk link carries its token: never sent on in a Referer), and
  ``Strict-Transport-Security`` when the request came over https (directly, or as a trusted proxy's
  ``X-Forwarded-Proto`` says).
"""

from __future__ import annotations

import io

import dash
from flask import Flask, Response, jsonify, request

from config.auth import AuthConfig
from dashboard.proxies import TrustedProxies

HSTS = "max-age=31536000"  # a year; subdomains are the firm's business, not Vigie's
CACHED_ENDPOINTS = ("_dash_assets.static", "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>")
OWN_LIMIT_ENDPOINTS = ("vigie_hook",)  # webhooks: their source's max_body_mb


def content_security_policy(script_hashes: list[str]) -> str:
    """The policy's text (pure)."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def _refuse_too_large(limit: int) -> Response:
    response = jsonify({"error": f"request body larger than {limit} bytes"})
    response.status_code = 413
    response.headers["Connection"] = "close"  # the rest of the body is not read
    return response


def _too_large() -> Response | None:
    """A body over the limit is refused before the guard or Dash read it: a declared one on its
    Content-Length alone; one sent without (chunked) once its limit-plus-one-th byte arrives. (Werkzeug
    would cut such a body short at the limit without an error, handing truncated JSON on.)"""
    limit = request.max_content_length
    if request.endpoint in OWN_LIMIT_ENDPOINTS or limit is None:
        return None
    environ = request.environ
    if request.content_length is not None:
        return _refuse_too_large(limit) if request.content_length > limit else None
    if not environ.get("wsgi.input_terminated"):
        return None  # no length and a server that does not end the body: nothing is read (werkzeug's rule)
    body = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        return _refuse_too_large(limit)
    # Read within the limit: the app reads it again from memory, as a body of known length.
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return None


def install(app: dash.Dash, server: Flask, auth: AuthConfig) -> None:
    server.wsgi_app = TrustedProxies(server.wsgi_app, auth.trusted_proxies)  # type: ignore[method-assign]
    server.config["MAX_CONTENT_LENGTH"] = auth.max_request_bytes
    # First of the before-request hooks after Dash's own set-up: nothing reads a body that is too large.
    server.before_request(_too_large)

    policy: list[str] = []  # worked out at the first response (every callback is registered by then), not at each

    def headers(response: Response) -> Response:
        if not policy:  # (two threads may both work it out: the same text)
            policy.append(content_security_policy(list(app.csp_hashes())))
        response.headers.setdefault("Content-Security-Policy", policy[0])
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.scheme == "https":
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint not in CACHED_ENDPOINTS:
            response.headers.setdefault("Cache-Control", "no-store")
        if response.status_code == 413:
            response.headers["Connection"] = "close"
        return response

    server.after_request(headers)
