"""The outbound pages' pure builders: approval SLA, diffs as plain spans, catalogue filters, troubles.

Page modules register themselves with Dash when imported: those tests take the shared app first."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from dashboard.components.outbound import diff_spans, sla_state
from dashboard.components.wall_panels import health_strip
from models.compose import word_diff

NOW = datetime(2026, 3, 2, 12, 0)


def test_approval_sla_is_on_time_then_at_risk_past_75_percent_then_breached(web_app: Any) -> None:
    from dashboard.pages.approvals import build_header
    assert sla_state(NOW - timedelta(minutes=44), NOW, 60).label == "on time"
    assert sla_state(NOW - timedelta(minutes=45), NOW, 60).label == "at risk"
    late = sla_state(NOW - timedelta(minutes=61), NOW, 60)
    assert (late.label, late.colour, late.minutes) == ("breached", "danger", 61)
    assert build_header(3, NOW - timedelta(minutes=75), NOW, 60) == \
        "3 waiting, oldest waiting for 1 h 15, SLA 1 h."


def test_a_diff_is_plain_spans_with_classes() -> None:
    spans = diff_spans(word_diff("call us <b>now</b>", "call us <script>x</script>"))
    kinds = {s.className for s in spans}
    assert {"diff-added", "diff-removed", "diff-same"} <= kinds
    assert all(isinstance(s.children, str) for s in spans)  # text, never markup
    assert any("<script>" in s.children for s in spans if s.className == "diff-added")


def test_catalogue_rows_filter_by_language_category_and_team(web_app: Any) -> None:
    from dashboard.pages.library import build_rows

    def entry(tid: int, lang: str, cat: str, teams: list[str], used: bool) -> dict[str, object]:
        latest = SimpleNamespace(version=2, status="draft", category=cat, title="t", teams=teams, networks=[],
                                 expires_at=None)
        return {"template_id": tid, "key": f"k{tid}", "language": lang, "kind": "reply", "latest": latest,
                "in_use": SimpleNamespace(version=1) if used else None}
    entries = [entry(1, "en", "cards", ["legal"], True), entry(2, "fr", "fees", ["marketing"], False)]
    assert [r["id"] for r in build_rows(entries, "fr", None, None)] == [2]
    assert [r["id"] for r in build_rows(entries, None, "cards", "legal")] == [1]
    assert build_rows(entries, None, None, "customer_service") == []
    assert [r["in_use"] for r in build_rows(entries, None, None, None)] == ["version 1", "none approved"]


def test_troubles_show_on_sources_and_the_wall_only_when_there_are_some(web_app: Any) -> None:
    from dashboard.pages.sources import build_troubles

    table = build_troubles({"demo": {"failed": 2, "unknown": 1, "retrying": 0, "error": "<b>401</b>", "at": NOW}})
    assert "401" in str(table) and "sources-troubles-demo" in str(table)
    assert "No reply" in str(build_troubles({}))
    assert health_strip([], {}, NOW, {"failed": 2, "unknown": 1, "sent": 9})[1].id == "wall-replies-trouble"
    assert health_strip([], {}, NOW, {"sent": 9, "pending": 2})[1:] == []
