"""The demo desk's pure rules: how long an item is held, which are dismissed, which are due."""

from __future__ import annotations

from datetime import datetime, timedelta

from collectors.jobs.demo_desk import DISMISS_ONE_IN, HOLD_MINUTES, closes_as, desk_agent, due_to_close, hold_for


def test_holds_spread_over_the_whole_range_by_id() -> None:
    holds = [hold_for(i).total_seconds() / 60 for i in range(1, 3001)]
    low, high = HOLD_MINUTES
    assert all(low <= h <= high for h in holds)
    assert min(holds) < low + 0.1 and max(holds) > high - 0.1
    assert len({round(h, 2) for h in holds[:50]}) > 40  # neighbours differ
    assert abs(sum(holds) / len(holds) - (low + high) / 2) < 0.2


def test_about_one_item_in_six_is_dismissed() -> None:
    dismissed = sum(1 for i in range(1, 6001) if closes_as(i) == "dismiss")
    assert abs(dismissed - 6000 / DISMISS_ONE_IN) < 90  # 3 binomial sd
    assert {closes_as(i) for i in range(1, 100)} == {"dismiss", "resolve"}


def test_due_to_close_takes_the_items_held_long_enough_oldest_claim_first() -> None:
    now = datetime(2026, 12, 1, 12, 0)
    held = [(i, now - hold_for(i) - timedelta(seconds=1)) for i in (5, 3)]
    held += [(8, now - hold_for(8) + timedelta(seconds=5)), (9, now - timedelta(hours=1))]
    assert due_to_close(held, now) == sorted([5, 3, 9], key=lambda i: dict(held)[i])
    assert due_to_close([], now) == []


def test_desk_names_are_valid_account_names() -> None:
    assert desk_agent("customer_service") == "desk.customer-service"
