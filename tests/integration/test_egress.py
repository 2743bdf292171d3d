"""Collectors and reply senders behind a bank's egress proxy, trusting its corporate CA.

Real parts: an HTTPS server whose certificate a test CA issued (no system trust store holds it), a
real HTTP CONNECT proxy, `vigie collect --once` as an operator runs it with VIGIE_PROXY_URL and
VIGIE_CA_BUNDLE, and the one HTTP client's `send_once` as the reply writers call it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from collectors.http import HttpClient, NotSent, use_egress
from config.egress import Egress, parse_egress
from config.settings import ConfigError
from models.db import open_database
from models.tables import Mention, SourceRow
from tests.egress import ConnectProxy, corporate_ca
from tests.kit import config_dir, db_upgrade, vigie_env
from tests.replay import ReplayServer, Reply
from tests.support import VIGIE

RSS = "application/rss+xml"
NOT_TRUSTED = "TLS certificate not trusted"


@pytest.fixture
def bank(tmp_path: Path) -> Iterator[tuple[ReplayServer, ConnectProxy, Path]]:
    """The platform (HTTPS, test CA), the proxy, and the CA's PEM file."""
    tls, bundle = corporate_ca(tmp_path)
    platform = ReplayServer(tls=tls)
    proxy = ConnectProxy()
    yield platform, proxy, bundle
    proxy.close()
    platform.close()


def _collect(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([VIGIE, "collect", "--once"], env=env, capture_output=True, text=True, timeout=120)


def _stored(url: str) -> tuple[list[str], SourceRow]:
    db = open_database(url)
    try:
        with db.read() as s:
            ids = sorted(s.scalars(select(Mention.external_id)))
            row = s.scalars(select(SourceRow).where(SourceRow.name == "news")).one()
        return ids, row
    finally:
        db.engine.dispose()


def test_a_source_is_polled_through_the_proxy_trusting_the_ca_bundle_and_refused_without_it(
        bank: tuple[ReplayServer, ConnectProxy, Path], tmp_path: Path) -> None:
    platform, proxy, bundle = bank
    platform.route("/feed.xml", Reply.file("rss/news.xml", content_type=RSS))
    cfg = config_dir(tmp_path, sources=(
        f"sources:\n  - {{name: news, kind: rss, url: '{platform.url}/feed.xml', interval_seconds: 300, retries: 2,"
        " retry_base_seconds: 0.01}\n"))
    target = platform.url.removeprefix("https://")
    without = vigie_env(tmp_path / "v.db", config=cfg, log_level="WARNING", proxy_url=proxy.url)
    db_upgrade(without)

    # Without the bundle: the proxy opens the tunnel, the server's certificate is refused, clearly, once.
    refused = _collect(without)
    assert refused.returncode == 1, refused.stderr
    assert NOT_TRUSTED in refused.stdout and "VIGIE_CA_BUNDLE" in refused.stdout, refused.stdout
    ids, row = _stored(without["DATABASE_URL"])
    assert ids == [] and row.cursor is None  # nothing stored, the cursor where it was: nothing lost
    assert row.last_error and row.last_error.startswith(f"{platform.url}/feed.xml: {NOT_TRUSTED} (")
    assert "add the CA that issued it to the system's trust store or VIGIE_CA_BUNDLE" in row.last_error
    assert proxy.tunnels == [target]  # not retried: another try changes nothing until the CA is added
    assert platform.hits("/feed.xml") == []  # no request got through the handshake

    # With the corporate CA's bundle: through the proxy, every item stored.
    with_bundle = {**without, "VIGIE_CA_BUNDLE": str(bundle)}
    done = _collect(with_bundle)
    assert done.returncode == 0, done.stderr
    assert "news: 4 stored" in done.stdout, done.stdout
    ids, row = _stored(without["DATABASE_URL"])
    assert len(ids) == 4 and NOT_TRUSTED not in (row.last_error or "")
    assert proxy.tunnels == [target, target] and proxy.refused == []
    assert len(platform.hits("/feed.xml")) == 1


def test_a_reply_write_goes_through_the_proxy_and_an_untrusted_one_is_not_sent(
        bank: tuple[ReplayServer, ConnectProxy, Path]) -> None:
    platform, proxy, bundle = bank
    platform.route("/api/v1/statuses", Reply.json({"id": "9001"}))
    try:
        use_egress(Egress(proxy.url, bundle))
        client = HttpClient(timeout=5)
        sent = client.send_once("POST", f"{platform.url}/api/v1/statuses", json_body={"status": "hello"})
        client.close()
        assert sent.status == 200 and sent.json() == {"id": "9001"}
        assert [r.body for r in platform.hits("/api/v1/statuses")] == [b'{"status":"hello"}']

        use_egress(Egress(proxy.url, None))
        client = HttpClient(timeout=5)
        with pytest.raises(NotSent, match=f"not sent: .*{NOT_TRUSTED}"):  # the caller may safely try again later
            client.send_once("POST", f"{platform.url}/api/v1/statuses", json_body={"status": "again"})
        client.close()
    finally:
        use_egress(Egress())
    assert len(platform.hits("/api/v1/statuses")) == 1
    assert len(proxy.tunnels) == 2


@pytest.mark.parametrize(("env", "message"), [
    ({"VIGIE_PROXY_URL": "proxy.bank.internal:3128"}, "VIGIE_PROXY_URL: expected http://HOST:PORT"),
    ({"VIGIE_PROXY_URL": "socks5://user:secret@proxy:1080"}, "got 'socks5://proxy'"),
    ({"VIGIE_CA_BUNDLE": "/nonexistent/ca.pem"}, "VIGIE_CA_BUNDLE: expected a PEM file of CA certificates, "
                                                 "'/nonexistent/ca.pem' is not a file"),
])
def test_bad_egress_settings_are_refused_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match="^environment: ") as caught:
        parse_egress(env)
    assert message in str(caught.value) and "secret" not in str(caught.value)


def test_a_bundle_without_certificates_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.pem").write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="VIGIE_CA_BUNDLE: .*empty.pem' holds no readable PEM certificate"):
        parse_egress({"VIGIE_CA_BUNDLE": str(tmp_path / "empty.pem")})
    assert "secret" not in repr(parse_egress({"VIGIE_PROXY_URL": "http://u:secret@proxy:3128"}))
