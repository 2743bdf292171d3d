"""Pure parts of the pages, tested without a browser."""

from __future__ import annotations

from datetime import datetime, timedelta
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


def test_source_state_and_wall_strip() -> None:
    from types import SimpleNamespace

    from dashboard.components.health import health_marker, source_state
    from dashboard.components.wall_panels import health_strip

    now = datetime(2026, 11, 25, 12, 0)

    def row(**kw: Any) -> Any:
        base = dict(name="feed", kind="rss", consecutive_failures=0, last_ok_at=None, not_before=None,
                    last_error=None)
        return SimpleNamespace(**{**base, **kw})

    ok = row(last_ok_at=now - timedelta(minutes=3))
    assert source_state(ok, now, True, True).label == "ok"
    assert source_state(ok, now, True, True).detail == "last success 3 min ago"
    assert source_state(row(), now, True, True).label == "not run yet"
    assert source_state(ok, now, True, False).label == "disabled"
    assert source_state(ok, now, False, True).label == "not configured"
    waiting = row(last_ok_at=now, not_before=now + timedelta(seconds=90))
    assert source_state(waiting, now, True, True).label == "waiting"
    bad = row(name="x-search", kind="x", consecutive_failures=3, last_ok_at=now - timedelta(hours=2),
              not_before=now + timedelta(minutes=5), last_error="HTTP 500 <b>oops</b>")
    state = source_state(bad, now, True, True)
    assert (state.label, state.color) == ("failing", "danger")
    assert state.detail == "3 failed polls in a row since 2 h ago; next request in 5 min"
    strip = health_strip([ok, bad], {"feed": True, "x-search": True}, now)
    assert [c.children for c in strip[0].children] == ["feed · ok", "x-search · failing"]
    assert len(strip) == 2
    text = strip[1].children[0].children + strip[1].children[1].children
    assert text == "SOURCE DOWN · x-search (x) — 3 failed polls, last success 2 h ago: HTTP 500 <b>oops</b>"
    assert health_strip([bad], {"feed": True, "x-search": False}, now)[1:] == []  # a disabled source: not on the wall
    assert health_marker([ok, bad], {"feed", "x-search"}) != health_marker([ok], {"feed", "x-search"})


def test_navigation_from_page_declarations() -> None:
    import pytest

    from dashboard.auth.policy import Principal
    from dashboard.components.nav import nav_links

    def page(name: str, roles: tuple[str, ...], nav: dict[str, Any] | None, template: str = "") -> dict[str, Any]:
        path = template.replace("<team>", "none") if template else f"/{name}"
        return {"module": f"pages.{name}", "path": path, "path_template": template or None, "roles": roles,
                **({"nav": nav} if nav is not None else {})}

    pages = [page("home", ("agent", "admin"), None), page("audit", ("admin",), {"order": 60, "label": "Audit"}),
             page("queue", ("agent", "admin"), {"order": 10, "per_team": True}, "/queue/<team>"),
             page("sources", ("agent", "admin"), {"order": 30, "label": "Sources"}),
             page("mention", ("agent", "admin"), None, "/mention/<mention_id>")]
    teams = [("legal", "Legal"), ("cs", "Customer service")]
    shown = [(x.label, x.href, x.ident) for x in nav_links(pages, Principal("a", "admin"), teams)]
    assert shown == [("Legal", "/queue/legal", "nav-legal"), ("Customer service", "/queue/cs", "nav-cs"),
                     ("Sources", "/sources", "nav-sources"), ("Audit", "/audit", "nav-audit")]
    agent = nav_links(pages, Principal("b", "agent", ("cs",)), teams)
    assert [x.href for x in agent] == ["/queue/cs", "/sources"]  # its team only; no audit
    assert nav_links(pages, Principal("c", "operator"), teams) == []
    for bad, why in (({"order": 1}, "not both or neither"), ({"order": 1, "label": "X", "per_team": True}, "not both"),
                     ({"order": 1, "lable": "X"}, "lable"), ({"order": "1", "label": "X"}, "whole number")):
        with pytest.raises(ValueError, match=why):
            nav_links([page("odd", ("admin",), bad)], Principal("a", "admin"), teams)
    with pytest.raises(ValueError, match="pages.item: a nav link needs a fixed path"):
        nav_links([page("item", ("admin",), {"order": 1, "label": "X"}, "/item/<id>")], Principal("a", "admin"), teams)
    with pytest.raises(ValueError, match="per-team nav entry needs a path like"):
        nav_links([page("all", ("admin",), {"order": 1, "per_team": True})], Principal("a", "admin"), teams)
