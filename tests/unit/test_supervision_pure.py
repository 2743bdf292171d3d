"""Supervision's rules without a database: the sample's rate and reproducibility, flags always
reviewed, what counts as free-form, and the coverage figures."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from config.archive import SampleRule, Supervision
from config.outbound import Disclosure
from models.compose import text_sha256
from models.reply_tables import Reply
from models.supervision import Reviewed, coverage_rows, draw, free_form, ingest_reason, period_start, sampled

N = 10_000


def _within_binomial(hits: int, n: int, p: float, sigmas: float = 4.5) -> bool:
    """``hits`` of ``n`` draws at rate ``p``: within 4.5 standard deviations (a false alarm about
    once in 150,000 runs; the draws are fixed anyway, so a pass here passes every time)."""
    return abs(hits - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


@pytest.mark.parametrize("percent", [1.0, 5.0, 10.0, 50.0])
def test_the_sample_rate_is_the_configured_percent(percent: float) -> None:
    # Synthetic ids as a store gives them: consecutive mention ids, external ids of a platform.
    hits = sum(sampled(1000 + i, f"at://did:plc:{i * 7919 % 100003:06d}/post/{i}", percent) for i in range(N))
    assert _within_binomial(hits, N, percent / 100), (percent, hits)


def test_the_sample_is_unbiased_across_id_ranges_and_reproducible() -> None:
    draws = [draw(i, f"x-{i}") for i in range(N)]
    assert draws == [draw(i, f"x-{i}") for i in range(N)]  # the same mention always draws the same
    assert all(0.0 <= d < 1.0 for d in draws)
    for decile in range(10):  # evenly spread: each tenth of [0, 1) gets its share
        assert _within_binomial(sum(decile / 10 <= d < (decile + 1) / 10 for d in draws), N, 0.1), decile
    # ... and the ids' order does not matter: the first and second halves sample alike
    first = sum(d < 0.05 for d in draws[: N // 2])
    second = sum(d < 0.05 for d in draws[N // 2 :])
    assert _within_binomial(first, N // 2, 0.05) and _within_binomial(second, N // 2, 0.05)
    assert not sampled(1, "x", 0.0) and sampled(1, "x", 100.0)


def test_flagged_posts_are_always_reviewed_and_the_rate_follows_network_and_team() -> None:
    config = Supervision(flags=("regulator", "fraud"), sample_percent=0.0,
                         sample_rules=(SampleRule(100.0, network="x", team="marketing"),))
    for i in range(500):  # whatever the draw
        assert ingest_reason(config, i, f"p{i}", ["fraud"], "mastodon", "legal") == "flag:fraud"
    assert ingest_reason(config, 1, "p", ["praise", "fraud", "regulator"], None, None) == "flag:regulator,fraud"
    assert ingest_reason(config, 1, "p", ["praise"], "mastodon", "marketing") is None  # 0 %: never sampled
    assert ingest_reason(config, 1, "p", [], "x", "marketing") == "sample"  # the rule's 100 %


def _reply(**values: object) -> Reply:
    fields: dict[str, object] = {"kind": "reply", "text": "We are sorry, we will call you.",
                                 "template_version_id": None, "values": {}, "approved_sha256": None}
    fields.update(values)
    return Reply(**fields)


def test_free_form_is_any_text_sent_without_approval_but_an_unedited_template() -> None:
    body = "Hello {{first_name}}, we will call you today."
    assert free_form(_reply(), None)  # free text, never approved
    approved = _reply()
    approved.approved_sha256 = text_sha256(approved.text)
    assert not free_form(approved, None)  # compliance approved this very text
    assert free_form(_reply(approved_sha256=text_sha256("an earlier text")), None)  # approved, then changed
    template = {"template_version_id": 3, "values": {"first_name": "Ana"}}
    assert not free_form(_reply(text="Hello Ana, we will call you today.", **template), body)
    assert free_form(_reply(text="Hello Ana, we will call you today. Buy our fund!", **template), body)
    assert free_form(_reply(text="Hello see https://x.example/win, we will call you today.", template_version_id=3,
                            values={"first_name": "see https://x.example/win"}), body)  # free text in a value
    assert not free_form(_reply(kind="elsewhere"), None)  # answered outside Vigie: nothing was sent


def test_a_template_sent_as_written_with_its_disclosure_line_is_not_free_form() -> None:
    body = "Bonjour {{first_name}}, nous vous appelons aujourd'hui."
    english = Disclosure("Aurelia Bank", frozenset({"x"}), "Aurelia Bank SA, regulated by the ACPR")
    french = Disclosure("Aurelia Bank", frozenset({"x"}), "Aurelia Bank SA, régulée par l'ACPR", "fr")
    config = Supervision(disclosures=(english, french))
    line = config.disclosure("Aurelia Bank", "x", "fr")
    assert line == french.text and config.disclosure("Aurelia Bank", "x", "de") == english.text
    assert config.disclosure("Aurelia Bank", "bluesky", "fr") is None and config.disclosure("Other", "x", "fr") is None
    # Only lines of some languages: a reply in another still carries one (never none at all).
    assert Supervision(disclosures=(french,)).disclosure("Aurelia Bank", "x", "de") == french.text
    sent = _reply(text=f"Bonjour Ana, nous vous appelons aujourd'hui.\n\n{line}", template_version_id=3,
                  values={"first_name": "Ana"}, brand="Aurelia Bank", network="x", language="fr")
    assert not free_form(sent, body, line)  # as compose wrote it: the template and the brand's line
    assert free_form(sent, body, None)  # (before: nobody told supervision the line, every one was reviewed)
    assert free_form(sent, body, english.text)  # another line than the one its language carries: an edit
    edited = _reply(text=f"Bonjour Ana, nous vous appelons demain.\n\n{line}", template_version_id=3,
                    values={"first_name": "Ana"})
    assert free_form(edited, body, line)


T0 = datetime(2026, 3, 2, 9, 0)  # a Monday


def _r(reason: str, created_h: float, reviewer: str | None = None, after_h: float | None = None,
       due_h: float = 72) -> Reviewed:
    created = T0 + timedelta(hours=created_h)
    return Reviewed(reason, created, created + timedelta(hours=due_h), reviewer,
                    created + timedelta(hours=after_h) if after_h is not None else None)


def test_coverage_per_day_and_reviewer() -> None:
    now = T0 + timedelta(days=5)
    reviews = [_r("sample", 0, "ana", 1), _r("flag:fraud", 2, "bo", 3), _r("free_form", 3, "ana", 80),
               _r("sample", 4), _r("sample", 25, "bo", 0.5), _r("flag:regulator", 26, due_h=200)]
    rows = coverage_rows(reviews, "day", now)
    assert [(r.period, r.reviewer) for r in rows] == [
        (T0.replace(hour=0) + timedelta(days=1), None), (T0.replace(hour=0) + timedelta(days=1), "bo"),
        (T0.replace(hour=0), None), (T0.replace(hour=0), "ana"), (T0.replace(hour=0), "bo")]
    day2, day2_bo, day1, ana, bo = rows
    assert (day1.sampled, day1.flagged, day1.free_form, day1.reviewed, day1.late, day1.overdue) == (2, 1, 1, 3, 1, 1)
    assert day1.median_minutes == 180.0  # 60, 180, 4800
    assert (ana.sampled, ana.free_form, ana.reviewed, ana.late, ana.overdue, ana.median_minutes) == (1, 1, 2, 1, 0,
                                                                                                     2430.0)
    assert (bo.flagged, bo.reviewed, bo.median_minutes) == (1, 1, 180.0)
    assert (day2.sampled, day2.flagged, day2.reviewed, day2.overdue) == (1, 1, 1, 0)  # not due yet: not overdue
    assert day2_bo.median_minutes == 30.0


def test_coverage_per_week_starts_on_monday_and_refuses_other_periods() -> None:
    sunday = T0 + timedelta(days=6, hours=10)
    assert period_start(sunday, "week") == T0.replace(hour=0)
    assert period_start(T0 + timedelta(days=7), "week") == T0.replace(hour=0) + timedelta(days=7)
    rows = coverage_rows([_r("sample", 0), _r("sample", 24 * 6 + 10), _r("sample", 24 * 7)], "week", T0)
    assert [(r.period, r.sampled) for r in rows] == [(T0.replace(hour=0) + timedelta(days=7), 1),
                                                     (T0.replace(hour=0), 2)]
    assert coverage_rows([], "day", T0) == []
    with pytest.raises(ValueError):
        coverage_rows([], "month", T0)
