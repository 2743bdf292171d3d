"""A small OpenID Connect provider on 127.0.0.1 for tests: discovery, /authorize, /token, /jwks, /userinfo.

It signs in whoever the test names (``provider.user``, or a ``login_hint`` on /authorize) without a
form, and signs its ID tokens (RS256) with `cryptography` directly, so the checks Vigie makes
through Authlib are not checked by Authlib's own code. ``provider.misbehave`` makes it answer
wrongly the way a broken or hostile provider would.

    with OidcProvider(client_id="vigie", client_secret="s3cret", redirect_uri=...) as provider:
        provider.user = "alice"
        provider.misbehave = Misbehaviour(wrong_key=True)
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import Flask, Response, jsonify, redirect, request
from werkzeug.serving import make_server

KID = "test-key-1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def sign_rs256(claims: dict[str, Any], key: rsa.RSAPrivateKey, kid: str = KID) -> str:
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": kid}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64(signature)}"


@dataclass
class Misbehaviour:
    deny: bool = False  # /authorize answers error=access_denied
    wrong_key: bool = False  # ID token signed by a key the JWKS does not hold (same kid)
    audience: str | None = None  # ID token "aud" instead of the client id
    nonce: str | None = None  # ID token "nonce" instead of the one asked for
    expired: bool = False  # ID token "exp" ten minutes ago
    issuer: str | None = None  # ID token "iss" instead of the provider's address
    extra_claims: dict[str, Any] = field(default_factory=dict)  # e.g. {"preferred_username": None}
    unsigned: bool = False  # ID token with alg "none" and no signature (and "none" advertised)
    no_id_token: bool = False  # /token answers without an ID token


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    user: str
    nonce: str | None
    code_challenge: str | None


class OidcProvider:
    def __init__(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.client_id, self.client_secret, self.redirect_uri = client_id, client_secret, redirect_uri
        self.user = "alice"
        self.misbehave = Misbehaviour()
        self.auth_methods = ["client_secret_basic", "client_secret_post"]  # advertised in discovery
        self.token_requests: list[str] = []  # the client authentication method of each /token call
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._grants: dict[str, Grant] = {}
        self._access: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app(), threaded=True)
        self.port = self._server.server_port
        self.issuer = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def __enter__(self) -> OidcProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID,
                          "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}]}

    def id_token(self, grant: Grant, now: int | None = None) -> str:
        now = int(time.time()) if now is None else now
        bad = self.misbehave
        claims: dict[str, Any] = {
            "iss": bad.issuer or self.issuer,
            "sub": f"sub-{grant.user}",
            "aud": bad.audience or grant.client_id,
            "iat": now - (900 if bad.expired else 0),
            "exp": now - 600 if bad.expired else now + 300,
            "preferred_username": grant.user,
            "email": f"{grant.user}@example.test",
        }
        if grant.nonce is not None or bad.nonce is not None:
            claims["nonce"] = bad.nonce or grant.nonce
        claims.update(bad.extra_claims)
        if bad.unsigned:
            header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
            return f"{header}.{_b64(json.dumps(claims).encode())}."
        return sign_rs256({k: v for k, v in claims.items() if v is not None},
                          self.other_key if bad.wrong_key else self.key)

    def _client_authenticated(self) -> bool:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            self.token_requests.append("client_secret_basic")
            raw_id, _, raw_secret = base64.b64decode(auth[6:]).decode().partition(":")
            given = (unquote_plus(raw_id), unquote_plus(raw_secret))
        else:
            self.token_requests.append("client_secret_post")
            given = (request.form.get("client_id", ""), request.form.get("client_secret", ""))
        return secrets.compare_digest(given[0], self.client_id) and secrets.compare_digest(given[1],
                                                                                           self.client_secret)

    def _app(self) -> Flask:
        app = Flask("oidc-test-provider")

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            return jsonify({
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256", "none"] if self.misbehave.unsigned else ["RS256"],
                "scopes_supported": ["openid", "profile", "email"],
                "token_endpoint_auth_methods_supported": self.auth_methods,
                "code_challenge_methods_supported": ["S256"],
            })

        @app.get("/jwks")
        def jwks() -> Response:
            return jsonify(self.jwks())

        @app.get("/authorize")
        def authorize() -> Response:
            args = request.args
            if args.get("client_id") != self.client_id or args.get("redirect_uri") != self.redirect_uri:
                return Response("unknown client or redirect_uri", status=400)  # never redirect to an unknown URI
            back: dict[str, str] = {"state": args["state"]} if "state" in args else {}
            if args.get("response_type") != "code" or "openid" not in args.get("scope", "").split():
                back["error"] = "invalid_request"
            elif self.misbehave.deny:
                back.update(error="access_denied", error_description="The user said no")
            else:
                code = secrets.token_urlsafe(16)
                challenge = args.get("code_challenge")
                if challenge and args.get("code_challenge_method") != "S256":
                    return Response("only S256 PKCE", status=400)
                with self._lock:
                    self._grants[code] = Grant(self.client_id, self.redirect_uri, args.get("login_hint") or self.user,
                                               args.get("nonce"), challenge)
                back["code"] = code
            return redirect(f"{self.redirect_uri}?{urlencode(back)}")  # type: ignore[return-value]

        @app.post("/token")
        def token() -> Response | tuple[Response, int]:
            if not self._client_authenticated():
                return jsonify(error="invalid_client"), 401
            form = request.form
            with self._lock:
                grant = self._grants.pop(form.get("code", ""), None)  # a code is good once
            if form.get("grant_type") != "authorization_code" or grant is None \
                    or form.get("redirect_uri") != grant.redirect_uri:
                return jsonify(error="invalid_grant"), 400
            if grant.code_challenge is not None:
                verifier = form.get("code_verifier", "")
                if _b64(hashlib.sha256(verifier.encode()).digest()) != grant.code_challenge:
                    return jsonify(error="invalid_grant", error_description="PKCE verifier mismatch"), 400
            access = secrets.token_urlsafe(24)
            with self._lock:
                self._access[access] = {"sub": f"sub-{grant.user}", "preferred_username": grant.user,
                                        "email": f"{grant.user}@example.test"}
            answer = {"access_token": access, "token_type": "Bearer", "expires_in": 300}
            if not self.misbehave.no_id_token:
                answer["id_token"] = self.id_token(grant)
            return jsonify(answer)

        @app.get("/userinfo")
        def userinfo() -> Response | tuple[Response, int]:
            auth = request.headers.get("Authorization", "")
            claims = self._access.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
            if claims is None:
                return jsonify(error="invalid_token"), 401
            return jsonify(claims)

        return app
