"""Collector heartbeats and stale sources, as pure rules (`models.heartbeats`), and how the
dashboard shows them (`dashboard.components.health`, the wall's strip): no database, no browser."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from plotly.utils import PlotlyJSONEncoder

from config.checks import ConfigError
from config.ops import parse_ops
from dashboard.components.health import health_marker, source_state
from dashboard.components.wall_panels import health_strip
from models.heartbeats import collector_gone, holder, silent_collectors, stale_map, stale_reason
from tests.web import plain_strings
from vigie.logs import JsonFormatter, logging_dict

NOW = datetime(2026, 12, 4, 12, 0, 0)


def as_json(component: Any) -> Any:
    return json.loads(json.dumps(component, cls=PlotlyJSONEncoder))


@dataclass
class Beat:
    worker_id: str
    beat_at: datetime
    interval_seconds: int = 15
    stopped_at: datetime | None = None
    sources: list[Any] = field(default_factory=list)
    hostname: str = "host-a"
    pid: int = 1
    started_at: datetime = NOW - timedelta(hours=1)


@dataclass
class Row:
    name: str = "demo"
    kind: str = "demo"
    last_run_at: datetime | None = NOW - timedelta(seconds=30)
    last_ok_at: datetime | None = NOW - timedelta(seconds=30)
    not_before: datetime | None = None
    lease_owner: str | None = "c1"
    consecutive_failures: int = 0
    last_error: str | None = None


def test_a_collector_is_gone_after_three_missed_beats_or_once_stopped() -> None:
    assert collector_gone(Beat("c1", NOW - timedelta(seconds=45)), NOW) is None  # exactly three intervals
    assert "silent since" in (collector_gone(Beat("c1", NOW - timedelta(seconds=46)), NOW) or "")
    assert "stopped" in (collector_gone(Beat("c1", NOW, stopped_at=NOW), NOW) or "")
    assert collector_gone(Beat("c1", NOW - timedelta(seconds=250), interval_seconds=100), NOW) is None


def test_a_source_run_recently_by_a_live_collector_is_not_stale() -> None:
    assert stale_reason(Row(), 60, [Beat("c1", NOW - timedelta(seconds=5), sources=["demo"])], NOW) is None


def test_a_source_whose_collector_holding_the_lease_is_gone_is_stale_at_once() -> None:
    """The issue's case: the last run was a success a moment before the collector died."""
    beats = [Beat("c1", NOW - timedelta(minutes=2), sources=["demo"])]
    reason = stale_reason(Row(last_run_at=NOW - timedelta(seconds=5)), 3600, beats, NOW)
    assert reason is not None and "collector c1 silent" in reason
    stopped = [Beat("c1", NOW, stopped_at=NOW - timedelta(seconds=1))]
    assert "stopped" in (stale_reason(Row(), 3600, stopped, NOW) or "")


def test_a_released_source_is_judged_by_the_last_collector_that_listed_it() -> None:
    """A clean shutdown releases the leases: the stopped collector, last to list it, makes it stale;
    once another live collector lists it, it is not."""
    row = Row(lease_owner=None)
    old = Beat("c1", NOW - timedelta(seconds=20), stopped_at=NOW - timedelta(seconds=20), sources=["demo"])
    assert holder(row, [old]) is old
    assert "stopped" in (stale_reason(row, 3600, [old], NOW) or "")
    new = Beat("c2", NOW - timedelta(seconds=2), sources=["demo"])
    assert holder(row, [old, new]) is new
    assert stale_reason(row, 3600, [old, new], NOW) is None


def test_a_source_not_run_for_three_intervals_is_stale_even_with_no_heartbeat_naming_it() -> None:
    row = Row(lease_owner=None, last_run_at=NOW - timedelta(seconds=181))
    assert "no run since" in (stale_reason(row, 60, [], NOW) or "")
    assert stale_reason(Row(lease_owner=None, last_run_at=NOW - timedelta(seconds=179)), 60, [], NOW) is None
    # a lease owner without a heartbeat row (`vigie collect --once`): judged by time alone
    assert stale_reason(Row(lease_owner="once:1"), 60, [], NOW) is None


def test_a_wait_the_source_asked_for_is_not_staleness() -> None:
    """Backoff or Retry-After: counted from the end of the wait."""
    row = Row(lease_owner=None, last_run_at=NOW - timedelta(hours=1), not_before=NOW - timedelta(seconds=10))
    assert stale_reason(row, 60, [], NOW) is None
    row.not_before = NOW - timedelta(seconds=200)
    assert stale_reason(row, 60, [], NOW) is not None


def test_a_source_never_run_is_not_run_yet_and_push_sources_are_never_judged() -> None:
    assert stale_reason(Row(last_run_at=None, last_ok_at=None, lease_owner=None), 60, [], NOW) is None
    rows = [Row("hook", lease_owner=None, last_run_at=NOW - timedelta(days=2)),
            Row("demo", lease_owner=None, last_run_at=NOW - timedelta(days=2))]
    assert list(stale_map(rows, {"demo": 60}, [], NOW)) == ["demo"]  # "hook": a push source has no interval


def test_stale_is_shown_red_before_any_other_state() -> None:
    row = Row(consecutive_failures=2, last_error="HTTP 500")
    state = source_state(row, NOW, True, True, "collector c1 silent since 11:00:00 UTC")
    assert (state.label, state.color) == ("stale", "danger")
    assert "collector c1 silent" in state.detail and "last success just now" in state.detail
    assert source_state(Row(), NOW, True, True).label == "ok"
    assert source_state(Row(), NOW, True, False, "gone").label == "disabled"


def test_the_wall_strip_shows_a_stale_source_in_red_with_why() -> None:
    rows = [Row("demo"), Row("rss", kind="rss")]
    strip = health_strip(rows, {"demo": True, "rss": True}, NOW, {}, {"demo": "collector c1 stopped at 11:59"})
    chips = strip[0].children
    assert [c.children for c in chips] == ["demo · stale", "rss · ok"]
    assert chips[0].className == "health-chip health-danger"
    lines = [el for el in strip[1:] if getattr(el, "id", None) == "wall-stale-demo"]
    assert len(lines) == 1 and "SOURCE STALE · demo" in " ".join(plain_strings(as_json(lines[0])))
    assert health_marker(rows, {"demo", "rss"}, {"demo": "x"}) != health_marker(rows, {"demo", "rss"}, {})


def test_ops_settings_are_checked() -> None:
    ops = parse_ops({})
    assert (ops.heartbeat_seconds, ops.metrics_token, ops.log_format, ops.web_workers) == (15, None, "plain", 4)
    assert parse_ops({"VIGIE_METRICS_TOKEN": "s" * 20}).metrics_token.reveal() == "s" * 20  # type: ignore[union-attr]
    for env, key in (({"VIGIE_HEARTBEAT_SECONDS": "0"}, "VIGIE_HEARTBEAT_SECONDS"),
                     ({"VIGIE_LOG_FORMAT": "xml"}, "VIGIE_LOG_FORMAT"),
                     ({"VIGIE_METRICS_TOKEN": "short"}, "VIGIE_METRICS_TOKEN"),
                     ({"VIGIE_WEB_WORKERS": "many"}, "VIGIE_WEB_WORKERS")):
        with pytest.raises(ConfigError, match=key):
            parse_ops(env)


def test_json_log_lines_carry_time_level_logger_message_and_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("vigie.collect").makeRecord(
            "vigie.collect", logging.ERROR, __file__, 1, "source %s crashed", ("demo",), __import__("sys").exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "ERROR" and entry["logger"] == "vigie.collect"
    assert entry["message"] == "source demo crashed" and entry["time"].endswith("Z")
    assert "ValueError: boom" in entry["exception"]
    config = logging_dict("json", "INFO", gunicorn=True)
    assert config["loggers"]["gunicorn.access"]["handlers"] == ["stderr"] == config["root"]["handlers"]
    assert config["formatters"]["vigie"] == {"()": JsonFormatter}


def test_the_wall_names_a_collector_killed_even_once_its_sources_are_taken_over() -> None:
    """Failover hides a dead collector from the sources (a survivor holds their leases): the wall
    still names it, until it beats again, is forgotten, or a collector restarted on its host (both
    without a fixed id) replaces it. A clean stop is not a death."""
    killed = Beat("c2", NOW - timedelta(minutes=2))
    beats = [Beat("c1", NOW - timedelta(seconds=5)), killed, Beat("c3", NOW - timedelta(minutes=5), stopped_at=NOW)]
    assert [b.worker_id for b in silent_collectors(beats, NOW)] == ["c2"]
    replaced = [Beat("host-a:2", NOW, hostname="host-a", pid=2, started_at=NOW - timedelta(seconds=30)),
                Beat("host-a:1", NOW - timedelta(minutes=2), hostname="host-a", pid=1)]
    assert silent_collectors(replaced, NOW) == []
    why = collector_gone(killed, NOW) or ""
    strip = health_strip([Row("demo", lease_owner="c1")], {"demo": True}, NOW, {}, {}, [("c2", why)])
    lines = [el for el in strip[1:] if getattr(el, "id", None) == "wall-silent-0"]
    text = " ".join(plain_strings(as_json(lines[0])))
    assert len(lines) == 1 and "COLLECTOR SILENT · c2" in text and "collector c2 silent since" in text
    assert health_strip([Row("demo", lease_owner="c1")], {"demo": True}, NOW, {}, {}, [])[1:] == []
