"""The home pages' pure rules: who is overloaded, the order of the lists, red/amber/green, the week."""

from __future__ import annotations

from datetime import datetime, timedelta

from models import home_queries as hq
from models.home_queries import AMBER, GREEN, RED, DayTrend, HomeItem, overloaded

T0 = datetime(2026, 12, 4, 9, 0)


def _item(ident: int, due_in: int, created_ago: int = 60, claimed_ago: int | None = None, rank: int = 2) -> HomeItem:
    return HomeItem(ident, ident, "customer_service", "claimed" if claimed_ago is not None else "new", "medium", rank,
                    "agent" if claimed_ago is not None else "", T0 + timedelta(minutes=due_in), None,
                    T0 - timedelta(minutes=created_ago),
                    T0 - timedelta(minutes=claimed_ago) if claimed_ago is not None else None, "text", "on time")


def test_overloaded_is_well_above_the_team_mean_and_at_least_the_minimum() -> None:
    # mean 4: 1.5 × 4 = 6; "ann" holds 12 (> 6, ≥ 5): overloaded; "bob" 4: not.
    assert overloaded({"ann": 12, "bob": 4, "cyd": 0, "dan": 0}) == ["ann"]
    # Everyone equally busy: nobody stands out.
    assert overloaded({"ann": 9, "bob": 9, "cyd": 9}) == []
    # Far above the mean but under the minimum (a quiet day): nobody.
    assert overloaded({"ann": 4, "bob": 0, "cyd": 0, "dan": 0}) == []
    assert overloaded({"ann": 4, "bob": 0, "cyd": 0, "dan": 0}, minimum=3) == ["ann"]
    # The most loaded first; a lone member is never above their own mean.
    assert overloaded({"ann": 10, "bob": 20, "cyd": 0, "dan": 0, "eve": 0, "fay": 0}) == ["bob", "ann"]
    assert overloaded({"ann": 50}) == [] and overloaded({}) == []


def test_team_loads_count_members_holding_nothing() -> None:
    workload = [{"assignee": "ann", "team": "legal", "claimed": 3}, {"assignee": "", "team": "legal", "claimed": 1}]
    members = [("ann", "legal"), ("bob", "legal"), ("cyd", "marketing")]
    assert hq.team_loads(workload, members) == {"legal": {"ann": 3, "bob": 0}, "marketing": {"cyd": 0}}


def test_lists_are_ordered_by_due_time_claim_and_age() -> None:
    items = [_item(1, due_in=30, created_ago=10, claimed_ago=5), _item(2, due_in=-5, created_ago=50, claimed_ago=40),
             _item(3, due_in=30, created_ago=90, claimed_ago=20, rank=0)]
    assert [i.id for i in hq.by_due(items, 10)] == [2, 3, 1]  # soonest due, then highest priority
    assert [i.id for i in hq.by_claim(items, 10)] == [2, 3, 1]  # oldest claim first
    assert [i.id for i in hq.by_age(items, 2)] == [3, 2]  # oldest first, bounded
    assert hq.by_due([], 5) == []


def test_red_amber_green() -> None:
    assert hq.worst([]) == GREEN and hq.worst([GREEN, AMBER]) == AMBER and hq.worst([AMBER, RED, GREEN]) == RED
    assert [hq.source_rag(c) for c in ("danger", "warning", "success", "secondary")] == [RED, AMBER, GREEN, GREEN]
    assert hq.collectors_rag(ready=True, alive=2) == GREEN
    assert hq.collectors_rag(ready=False, alive=1) == AMBER  # one alive, another silent without a clean stop
    assert hq.collectors_rag(ready=False, alive=0) == RED
    assert hq.notifications_rag(0, 0, None, T0) == GREEN
    assert hq.notifications_rag(25, 0, None, T0) == AMBER
    assert hq.notifications_rag(100, 0, None, T0) == RED
    assert hq.notifications_rag(0, 3, T0 - timedelta(days=3), T0) == AMBER  # old failures
    assert hq.notifications_rag(0, 1, T0 - timedelta(hours=2), T0) == RED  # a failure today


def test_the_week_is_one_row_per_day_oldest_first() -> None:
    summary = {"day": "2026-12-03", "volume": {"mentions": 40},
               "sla": {"overall": {"items": 12, "resolved": 9, "breached": 2}}}
    yesterday = hq.trend_from_summary(summary)
    assert yesterday == DayTrend("2026-12-03", 40, 12, 9, 2)
    older = DayTrend("2026-12-01", 1, 1, 0, 0)
    assert [d.day for d in hq.trend_rows([yesterday, older, yesterday])] == ["2026-12-01", "2026-12-03"]
