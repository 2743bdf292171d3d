"""Pure parts of the pages, tested without a browser."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dashboard.components.figures import build_sentiment_figure, complete_hours
from dashboard.components.links import safe_link
from dashboard.components.queue_grid import build_transaction


def _row(item_id: int, team: str = "legal", status: str = "new") -> dict[str, Any]:
    return {"id": item_id, "mention_id": item_id * 10, "team": team, "status": status}


def test_transaction_adds_updates_and_removes() -> None:
    changed = [_row(1), _row(2, status="claimed"), _row(3, status="resolved"), _row(4, team="marketing"),
               _row(5, team="marketing")]
    tx, known = build_transaction("legal", changed, known={2, 3, 4})
    assert [r["id"] for r in tx["add"]] == [1]
    assert [r["id"] for r in tx["update"]] == [2]
    assert tx["remove"] == [{"id": 3}, {"id": 4}]  # resolved, and rerouted away; 5 was never shown
    assert known == {1, 2}
    assert tx["add"][0]["link"] == "[Details](/mention/10)"


def test_sentiment_figure_stacks_labels_and_plots_the_mean() -> None:
    rows = [{"hour": "2026-11-25T08:00:00", "count": 10, "mean": -0.2, "negative": 5, "positive": 2},
            {"hour": "2026-11-25T09:00:00", "count": 4, "mean": 0.5, "negative": 0, "positive": 3}]
    fig = build_sentiment_figure(rows)
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["negative"].y) == [5, 0]
    assert list(by_name["neutral"].y) == [3, 1]
    assert list(by_name["positive"].y) == [2, 3]
    assert list(by_name["mean sentiment"].y) == [-0.2, 0.5]
    assert fig.layout.barmode == "stack"


def test_links_only_for_http() -> None:
    assert safe_link("https://x.example/p/1").href == "https://x.example/p/1"
    js = safe_link("javascript:alert(1)")
    assert not hasattr(js, "href") or js.href is None
    assert js.children == "javascript:alert(1)"
    assert safe_link(None).children == "no link"


def test_hours_without_mentions_are_zero() -> None:
    rows = [{"hour": "2026-11-25T08:00:00", "count": 10, "mean": -0.2, "negative": 5, "positive": 2}]
    filled = complete_hours(rows, datetime(2026, 11, 25, 9, 41), hours=3)
    assert [r["hour"] for r in filled] == ["2026-11-25T07:00:00", "2026-11-25T08:00:00", "2026-11-25T09:00:00"]
    assert [r["count"] for r in filled] == [0, 10, 0]
