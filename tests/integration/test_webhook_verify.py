"""The webhook source without a server: its signature check (v2, and v1 during a transition), its
settings refused at start with the reason, and the scheduler never polling a push source. Deliveries
through a real server: test_webhook.py."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.datastructures import Headers

from collectors.scheduler import collect_once, create_scheduler
from collectors.sources import build_source
from collectors.sources.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, Unauthorized, sign, sign_v1
from collectors.types import CollectorError
from config.settings import Secret, Settings, SourceConfig
from models.db import Database
from models.tables import SourceRow

SECRET = "whsec-verify-test-only-8Kq1-value"


def _config(**options: Any) -> SourceConfig:
    return SourceConfig("hook", "webhook", 60, True, options, {"secret": Secret(SECRET)})


def test_verify_accepts_our_signature_only() -> None:
    hook = build_source(_config())
    now = datetime.now(UTC)
    ts = str(int(now.timestamp()))
    assert hook.verify(_signed(ts, sign(SECRET, "hook", ts, b"[]")), b"[]", now) is None
    assert hook.verify(_signed(ts, sign(SECRET, "hook", ts, b"[]").upper().replace("V2=", "v2=")), b"[]", now) is None
    for bad_ts, signature in (
            (ts, sign(SECRET, "hook", ts, b"[ ]")), (str(int(ts) + 1), sign(SECRET, "hook", ts, b"[]")),
            ("12.5", sign(SECRET, "hook", "12.5", b"[]")), ("-1", sign(SECRET, "hook", "-1", b"[]")),
            (ts, sign(SECRET, "hook2", ts, b"[]")), (ts, sign_v1(SECRET, ts, b"[]"))):
        with pytest.raises(Unauthorized):
            hook.verify(_signed(bad_ts, signature), b"[]", now)


def test_v1_signature_only_until_the_transition_ends() -> None:
    hook = build_source(_config(accept_v1_until=date(2027, 3, 31)))
    last_minute = datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC)
    ts = str(int(last_minute.timestamp()))
    warning = hook.verify(_signed(ts, sign_v1(SECRET, ts, b"[]")), b"[]", last_minute)
    assert warning is not None and "signed v1" in warning and "refused after 2027-03-31" in warning
    assert hook.verify(_signed(ts, sign(SECRET, "hook", ts, b"[]")), b"[]", last_minute) is None
    next_day = datetime(2027, 4, 1, tzinfo=UTC)
    ts = str(int(next_day.timestamp()))
    with pytest.raises(Unauthorized, match="v1 signature .* is no longer accepted; sign with v2="):
        hook.verify(_signed(ts, sign_v1(SECRET, ts, b"[]")), b"[]", next_day)
    with pytest.raises(Unauthorized, match="v1 signature .* is no longer accepted"):  # off by default
        build_source(_config()).verify(_signed(ts, sign_v1(SECRET, ts, b"[]")), b"[]", next_day)


def _signed(timestamp: str, signature: str) -> Headers:  # as the route passes them: werkzeug's
    return Headers([(TIMESTAMP_HEADER.lower(), timestamp), (SIGNATURE_HEADER.upper(), signature)])


@pytest.mark.parametrize(("options", "secret", "message"), [
    ({}, None, "source 'hook': secret: required (secret_env: VARIABLE or secret_file: PATH)"),
    ({}, "", "source 'hook': secret: required (secret_env: VARIABLE or secret_file: PATH)"),
    ({}, "s3cr3t", "source 'hook': secret: too short (at least 16 characters)"),
    ({"items_path": "a..b"}, SECRET, "source 'hook': items_path: empty segment in path 'a..b'"),
    ({"max_body_mb": "big"}, SECRET, "source 'hook': max_body_mb: Input should be a valid number, got 'big'"),
    ({"tolerance_seconds": 0}, SECRET, "source 'hook': tolerance_seconds: Input should be greater than 0, got 0"),
    ({"fields": {"body": "x"}}, SECRET, "source 'hook': fields.body: unknown field"),
    ({"accept_v1_until": "soon"}, SECRET,
     "source 'hook': accept_v1_until: expected a date like 2027-03-31, got 'soon'"),
])
def test_bad_webhook_config_fails_at_start(options: dict[str, Any], secret: str | None, message: str) -> None:
    secrets = {} if secret is None else {"secret": Secret(secret)}
    with pytest.raises(CollectorError) as caught:
        build_source(SourceConfig("hook", "webhook", 60, True, options, secrets))
    assert caught.value.permanent and caught.value.message.startswith(message)
    assert secret is None or not secret or secret not in caught.value.message


def test_scheduler_never_polls_push_sources(db: Database, settings: Settings) -> None:
    demo = SourceConfig("demo", "demo", 60, True, {"seed": 1, "rate_per_minute": 60, "backfill_hours": 0.01})
    both = replace(settings, sources=(demo, _config()))
    reports = collect_once(both, db)
    assert [r.source for r in reports] == ["demo"] and reports[0].error is None
    stop = threading.Event()
    scheduler = create_scheduler(both, db, stop, blocking=False)
    assert {job.id for job in scheduler.get_jobs()} == {"source:demo", "maintenance:analyze", "sla:watch",
                                                        "alerts:detect", "summary:daily", "summary:fold",
                                                        "queue:counts", "notify:send",
                                                        "replies:send", "archive:seal", "archive:purge",
                                                        "archive:anchor", "sentiment:rescore", "heartbeat"}
    with db.read() as s:  # its row exists (health is shown for it) but it was never polled
        hook = s.scalars(select(SourceRow).where(SourceRow.name == "hook")).one()
    assert (hook.kind, hook.last_run_at) == ("webhook", None)
