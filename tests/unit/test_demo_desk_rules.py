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


def test_the_template_follows_the_items_flags_then_its_mood() -> None:
    from collectors.jobs.demo_desk import template_key
    assert template_key(["card_issue"], "negative", False, "card blocked") == "blocked-card"
    assert template_key(["card_issue"], "negative", False, "Carte refusée à l'étranger") == "card-declined-abroad"
    assert template_key(["outage", "card_issue"], "negative", False, "") == "app-outage"
    assert template_key(["fees"], "neutral", False, "") == "fees-question"
    assert template_key(["phishing", "fraud"], "negative", False, "") == "phishing-warning"
    assert template_key(["fraud"], "negative", False, "") == "fraud-report"
    assert template_key(["account_access"], "negative", False, "") == "account-locked"
    assert template_key([], "positive", False, "") == "thanks-praise"
    assert template_key([], "negative", False, "") == "contact-privately"
    assert template_key(["card_issue"], "negative", True, "") is None  # competitor chatter: not ours to answer


def test_case_refs_names_and_free_form_share_are_fixed_by_the_id() -> None:
    from collectors.jobs.demo_desk import FREE_FORM_ONE_IN, case_ref, first_name, free_form
    refs = [case_ref(i) for i in range(1, 2001)]
    assert all(len(r) == 10 and r.startswith("AUR-") and r[4:].isdigit() for r in refs)
    assert refs == [case_ref(i) for i in range(1, 2001)] and len(set(refs)) > 1990
    share = sum(free_form(i) for i in range(1, 12001)) / 12000
    assert abs(share - 1 / FREE_FORM_ONE_IN) < 0.01
    assert first_name("Marie-Claire Dupont", "mcd") == "Marie-Claire"
    assert first_name("🦊 Fox", "foxy_99") == "foxy_99" and first_name(None, "@sam") == "sam"
    assert first_name(None, None) == "there"
