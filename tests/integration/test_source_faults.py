"""Every connector against every fault, on a real local HTTP server and a real database.

For each connector (tests/connector_cases/) and each fault: the poll survives, the error
is recorded on the source's row where the sources page shows it, another source polled
in the same round keeps collecting, nothing is requested before a server-given wait is
over, and once the server recovers every item is stored exactly once.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import func, select, update

from collectors.scheduler import collect_once
from config.settings import Secret, Settings, SourceConfig
from models.db import Database
from models.tables import Mention, SourceRow
from tests.connector_cases import ConnectorCase, all_cases
from tests.kit import source_row
from tests.replay import ReplayServer, Reply, Request, Responder

CASES = all_cases()
RETRIES = 1  # one extra try per request: a retryable fault is served (RETRIES + 1) times


def _retry_after_seconds(case: ConnectorCase) -> list[Reply]:
    return [Reply(429, b'{"error": "slow down"}', headers={"Retry-After": "2"})]


def _retry_after_date(case: ConnectorCase) -> list[Responder]:
    def reply(request: Request) -> Reply:  # dated when served: a slow start must not eat the wait
        when = datetime.now(UTC) + timedelta(seconds=5)  # whole seconds: 4 to 5 s from now
        return Reply(429, b"", content_type="text/plain", headers={"Retry-After": format_datetime(when, usegmt=True)})

    return [reply]


FAULTS = {
    "429-retry-after-seconds": (_retry_after_seconds, "rate limited"),
    "429-retry-after-http-date": (_retry_after_date, "rate limited"),
    "500": (lambda case: [Reply(500, b"oops", content_type="text/plain")] * (RETRIES + 1), "HTTP 500"),
    "timeout": (lambda case: [Reply(200, b"{}", delay=1.5)] * (RETRIES + 1), "timed out"),
    "malformed": (lambda case: [case.malformed], ""),
    "truncated": (lambda case: [replace(case.good()[0], truncate=True)] * (RETRIES + 1), "RemoteProtocolError"),
    "wrong-content-type": (lambda case: [Reply(200, b"<html>maintenance</html>", content_type="text/html")],
                           "text/html"),
    "50MB": (lambda case: [Reply.huge(50 * 1024 * 1024, content_type=case.content_type)], "over the limit"),
    "50MB-chunked": (
        lambda case: [Reply.huge(50 * 1024 * 1024, declare_length=False, content_type=case.content_type)],
        "over the limit",
    ),
}

# Faults that wait by design (a Retry-After, a timeout, 50 MB streamed): in `make test-all`, not `make test`.
SLOW = {"429-retry-after-seconds", "429-retry-after-http-date", "timeout", "50MB", "50MB-chunked"}


def _settings(settings: Settings, case: ConnectorCase, server: ReplayServer) -> Settings:
    options = {**case.options(server.url), "retries": RETRIES, "retry_base_seconds": 0.01, "timeout_seconds": 0.5}
    under_test = SourceConfig("under-test", case.kind, 60, True, options,
                              {k: Secret(v) for k, v in case.secrets.items()})
    other = SourceConfig("demo", "demo", 60, True, {"seed": 3, "rate_per_minute": 60, "backfill_hours": 0.05})
    return replace(settings, sources=(under_test, other))


def _stored(db: Database, name: str) -> list[str]:
    with db.read() as s:
        return list(s.scalars(select(Mention.external_id).join(SourceRow).where(SourceRow.name == name)))


@pytest.mark.parametrize("fault", [pytest.param(f, marks=pytest.mark.slow) if f in SLOW else f for f in sorted(FAULTS)])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.kind)
def test_connector_survives_fault_and_stores_everything_once_after_recovery(
    db: Database, settings: Settings, replay: ReplayServer, case: ConnectorCase, fault: str
) -> None:
    make_fault, message = FAULTS[fault]
    case.setup(replay)
    replay.route(case.path, *make_fault(case), *case.good())
    s2 = _settings(settings, case, replay)

    reports = {r.source: r for r in collect_once(s2, db)}
    row = source_row(db, "under-test")
    assert row.last_error, f"{fault}: no error recorded on the source row"
    assert message.lower() in row.last_error.lower(), row.last_error
    assert reports["demo"].stored > 0 and reports["demo"].error is None  # the other source went on
    if reports["under-test"].error is not None:
        assert row.consecutive_failures == 1 and _stored(db, "under-test") == []

    if fault.startswith("429"):
        assert row.not_before is not None and row.not_before > datetime.now(UTC).replace(tzinfo=None)
        before = len(replay.hits(case.path))
        again = {r.source: r for r in collect_once(s2, db)}
        assert again["under-test"].waiting_until is not None
        assert len(replay.hits(case.path)) == before, "a request was sent before Retry-After was over"
        time.sleep(max(0.0, (row.not_before - datetime.now(UTC).replace(tzinfo=None)).total_seconds()) + 0.1)
        collect_once(s2, db)
        after = replay.hits(case.path)
        assert len(after) > before, "no request once the wait was over"
        assert after[before].at >= row.not_before.replace(tzinfo=UTC).timestamp() - 0.001
    else:
        with db.write.begin() as s:  # skip the failure backoff: the server has recovered
            s.execute(update(SourceRow).where(SourceRow.name == "under-test").values(not_before=None))
        collect_once(s2, db)
    collect_once(s2, db)  # and once more: nothing new, nothing twice

    stored = _stored(db, "under-test")
    assert sorted(stored) == sorted(case.expected_ids), f"{fault}: stored {sorted(stored)}"
    assert len(stored) == len(set(stored))
    final = source_row(db, "under-test")
    assert final.consecutive_failures == 0 and final.last_ok_at is not None
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Mention).join(SourceRow)
                        .where(SourceRow.name == "under-test")) == len(case.expected_ids)
