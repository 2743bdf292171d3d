"""The demo source: deterministic, paced, paginated, and varied enough to exercise every flag."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from collectors.sources import build_polled_source
from collectors.sources.demo import NETWORKS, DemoSource
from collectors.types import CollectorError, RawPost
from config.settings import SourceConfig

NOW = datetime(2024, 11, 25, 12, 0, tzinfo=UTC)
ANCHOR = 1_732_500_000.0  # 2024-11-25T02:00:00Z, before NOW
LEXICONS = Path(__file__).resolve().parents[2] / "config" / "lexicons.yaml"


def make(**options: Any) -> DemoSource:
    return build_polled_source(SourceConfig("demo", "demo", 2.0, True, options))


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


@pytest.fixture(scope="module")
def sample() -> list[dict[str, Any]]:
    """2,000 consecutive items from the default stream."""
    page = make(page_size=2000).fetch(f"{ANCHOR!r}:0", NOW)
    assert len(page.payload["data"]) == 2000
    return page.payload["data"]


@pytest.fixture(scope="module")
def posts(sample: list[dict[str, Any]]) -> list[RawPost]:
    parsed = make().parse({"data": sample})
    assert parsed.problems == []
    return parsed.posts


# --- determinism, pacing, pagination -------------------------------------------------------


def test_same_cursor_gives_same_payload_even_from_a_new_instance() -> None:
    cursor = f"{ANCHOR!r}:500"
    first = make().fetch(cursor, NOW)
    assert make().fetch(cursor, NOW) == first
    assert make().fetch(cursor, NOW + timedelta(hours=1)) == first  # a full page does not change later
    assert make().fetch(None, NOW) == make().fetch(None, NOW)


def test_a_post_does_not_depend_on_where_the_page_starts() -> None:
    big = make(page_size=300).fetch(f"{ANCHOR!r}:100", NOW).payload["data"]
    small = make(page_size=10).fetch(f"{ANCHOR!r}:250", NOW).payload["data"]
    assert small == big[150:160]


def test_another_seed_gives_another_stream() -> None:
    a = make(seed=7).fetch(f"{ANCHOR!r}:0", NOW).payload["data"]
    b = make(seed=8).fetch(f"{ANCHOR!r}:0", NOW).payload["data"]
    assert [i["text"] for i in a] != [i["text"] for i in b]
    assert not set(ids(a)) & set(ids(b))


@pytest.mark.parametrize(("rate", "seconds", "expected"), [(90, 600, 901), (7.5, 3600, 451), (1, 59.9, 1)])
def test_posts_due_follow_the_rate(rate: float, seconds: float, expected: int) -> None:
    source = make(rate_per_minute=rate, page_size=10_000)
    now = datetime.fromtimestamp(ANCHOR + seconds, UTC)
    items = source.fetch(f"{ANCHOR!r}:0", now).payload["data"]
    assert len(items) == expected
    for n, item in enumerate(items):
        created = datetime.fromisoformat(item["created_at"])
        assert created.tzinfo is not None and created <= now
        if item["_demo"]["variant"] != "duplicate":  # a duplicate keeps its original's time
            assert created.timestamp() == pytest.approx(ANCHOR + n * 60 / rate, abs=1e-5)


def test_polling_in_small_steps_yields_the_same_stream_without_gaps_or_overlaps() -> None:
    source = make(rate_per_minute=90)
    cursor: str | None = f"{ANCHOR!r}:0"
    got: list[str] = []
    for tick in range(0, 601, 2):
        page = source.fetch(cursor, datetime.fromtimestamp(ANCHOR + tick, UTC))
        assert not page.has_more
        got += ids(page.payload["data"])
        cursor = page.next_cursor
    assert cursor == f"{ANCHOR!r}:901"
    whole = make(page_size=5000).fetch(f"{ANCHOR!r}:0", datetime.fromtimestamp(ANCHOR + 600, UTC))
    assert got == ids(whole.payload["data"])


def test_nothing_is_due_before_the_anchor() -> None:
    page = make().fetch(f"{ANCHOR!r}:0", datetime.fromtimestamp(ANCHOR - 10, UTC))
    assert page.payload["data"] == [] and page.next_cursor == f"{ANCHOR!r}:0" and not page.has_more


def test_pages_respect_page_size_and_chain_by_cursor() -> None:
    source = make(page_size=50, rate_per_minute=60)
    now = datetime.fromtimestamp(ANCHOR + 179.5, UTC)  # posts 0..179 due
    cursor: str | None = f"{ANCHOR!r}:0"
    sizes, flags, got = [], [], []
    while True:
        page = source.fetch(cursor, now)
        sizes.append(len(page.payload["data"]))
        flags.append(page.has_more)
        got += ids(page.payload["data"])
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert sizes == [50, 50, 50, 30] and flags == [True, True, True, False]
    assert cursor == f"{ANCHOR!r}:180"
    assert got == ids(make(page_size=500, rate_per_minute=60).fetch(f"{ANCHOR!r}:0", now).payload["data"])


def test_first_fetch_starts_backfill_hours_ago() -> None:
    page = make(backfill_hours=1, rate_per_minute=60).fetch(None, NOW)
    items = page.payload["data"]
    assert len(items) == 200 and page.has_more
    assert datetime.fromisoformat(items[0]["created_at"]) == NOW - timedelta(hours=1)
    assert page.next_cursor == f"{(NOW - timedelta(hours=1)).timestamp()!r}:200"
    empty = make(backfill_hours=0).fetch(None, NOW)
    assert len(empty.payload["data"]) == 1  # post 0 is due at the anchor itself


# --- content --------------------------------------------------------------------------------


def test_both_languages_with_english_about_two_thirds(sample: list[dict[str, Any]]) -> None:
    langs = Counter(item["_demo"]["lang"] for item in sample)
    assert set(langs) == {"en", "fr"}
    assert 0.60 <= langs["en"] / len(sample) <= 0.70
    hinted = [item for item in sample if item["network"] in ("mastodon", "bluesky")]
    assert all(item["lang"] in ("en", "fr") for item in hinted)
    wrong = sum(item["lang"] != item["_demo"]["lang"] for item in hinted)
    assert 0 < wrong < 0.08 * len(hinted)
    assert all(item["lang"] is None for item in sample if item["network"] not in ("mastodon", "bluesky"))


def test_every_category_and_network_is_present(sample: list[dict[str, Any]]) -> None:
    categories = Counter(item["_demo"]["category"] for item in sample)
    assert set(categories) == {"complaint", "fraud", "legal", "vulnerable", "praise", "question",
                               "sales_lead", "competitor", "spam", "news"}
    assert categories["complaint"] > categories["vulnerable"]
    assert set(Counter(item["network"] for item in sample)) == set(NETWORKS)


def test_texts_vary(posts: list[RawPost]) -> None:
    assert len({p.text for p in posts}) > 0.6 * len(posts)
    assert any("Northwind" in p.text for p in posts) and any("Crédit Lumière" in p.text for p in posts)
    assert any(re.search(r"@(AureliaBank|BanqueAurelia|AureliaHelp)\b", p.text) for p in posts)


def test_exact_duplicates_repeat_id_and_content(sample: list[dict[str, Any]]) -> None:
    by_id: dict[str, list[dict[str, Any]]] = {}
    for item in sample:
        by_id.setdefault(item["id"], []).append(item)
    repeated = sum(len(group) - 1 for group in by_id.values())
    assert 0.015 <= repeated / len(sample) <= 0.05
    for group in by_id.values():
        stripped = [{k: v for k, v in item.items() if k != "_demo"} for item in group]
        assert all(s == stripped[0] for s in stripped)


def test_cross_network_reposts_keep_text_and_author_under_a_new_id(sample: list[dict[str, Any]]) -> None:
    by_id = {item["id"]: item for item in sample}
    reposts = [item for item in sample if item["_demo"]["variant"] == "repost"]
    assert 0.025 <= len(reposts) / len(sample) <= 0.06
    checked = 0
    for item in reposts:
        original = by_id.get(item["_demo"]["of"])
        if original is None:  # the original is before the sample
            continue
        checked += 1
        assert item["text"] == original["text"] and item["author"] == original["author"]
        assert item["id"] != original["id"] and item["network"] != original["network"]
    assert checked > 0.8 * len(reposts)


def test_rt_and_quote_reposts_are_present(posts: list[RawPost]) -> None:
    assert any(p.text.startswith("RT @") for p in posts)
    assert any("“" in p.text for p in posts)


def test_every_regulator_acronym_appears_in_capitals(posts: list[RawPost]) -> None:
    found = {m for p in posts for m in re.findall(r"\b(CFPB|FINRA|SEC|ACPR|AMF)\b", p.text)}
    assert found == {"CFPB", "FINRA", "SEC", "ACPR", "AMF"}


def _term_pattern(term: str) -> re.Pattern[str]:
    """Roughly the pipeline's matching: whole words, trailing * for any ending, capitals exact."""
    body = re.escape(term.rstrip("*")) + (r"\w*" if term.endswith("*") else "")
    flags = 0 if term.isupper() else re.IGNORECASE
    return re.compile(rf"(?<!\w){body}(?!\w)", flags)


def test_every_lexicon_flag_fires_in_a_sample(posts: list[RawPost]) -> None:
    lexicon = yaml.safe_load(LEXICONS.read_text(encoding="utf-8"))["flags"]
    for flag, spec in lexicon.items():
        for lang, terms in spec["terms"].items():
            patterns = [_term_pattern(t) for t in terms]
            hits = sum(1 for p in posts if any(pat.search(p.text) for pat in patterns))
            assert hits >= 2, f"flag {flag} ({lang}) fired {hits} times"


def test_authors_have_heavy_tailed_followers(posts: list[RawPost]) -> None:
    handles = {p.author_handle for p in posts}
    assert len(handles) > 200
    followers = [p.author_followers for p in posts if p.author_followers is not None]
    assert any(p.author_followers is None for p in posts)
    assert any(f > 10_000 for f in followers)
    assert sorted(followers)[len(followers) // 2] < 200  # most accounts are small
    assert all(p.author_name for p in posts)


def test_urls_use_example_hosts_and_times_are_utc(posts: list[RawPost]) -> None:
    for p in posts:
        assert p.url is not None
        host = urlparse(p.url).hostname or ""
        assert host.endswith(".example"), p.url
        assert p.created_at.utcoffset() == timedelta(0)


# --- malformed items, options and cursors -----------------------------------------------------


def test_malformed_items_are_problems_and_the_rest_is_kept() -> None:
    source = make(malformed_share=0.1, page_size=1000)
    items = source.fetch(f"{ANCHOR!r}:0", NOW).payload["data"]
    bad = [item for item in items if item["_demo"]["variant"] == "malformed"]
    assert 0.05 * len(items) <= len(bad) <= 0.15 * len(items)
    parsed = source.parse({"data": items})
    assert len(parsed.problems) == len(bad)
    assert len(parsed.posts) == len(items) - len(bad)
    assert all(re.search(r"missing text|bad created_at", p) for p in parsed.problems)
    reported = {m.group(1) for p in parsed.problems if (m := re.search(r"id '(\d+)'", p))}
    assert reported == {i["id"] for i in bad}


def test_parse_reports_odd_items_and_refuses_a_payload_without_data() -> None:
    source = make()
    good = source.fetch(f"{ANCHOR!r}:0", NOW).payload["data"][0]
    odd = ["not an object", {**good, "id": ""}, {**good, "network": "myspace"},
           {**good, "author": {"followers_count": -3}}, {**good, "created_at": None}]
    parsed = source.parse({"data": [good, *odd]})
    assert [p.external_id for p in parsed.posts] == [good["id"]]
    assert len(parsed.problems) == len(odd)
    with pytest.raises(CollectorError):
        source.parse({"items": []})


@pytest.mark.parametrize(
    ("key", "value"),
    [("seed", "seven"), ("seed", -1), ("seed", True), ("rate_per_minute", 0), ("rate_per_minute", "fast"),
     ("backfill_hours", -1), ("page_size", 0), ("page_size", 2.5), ("duplicate_share", 1.5),
     ("repost_share", -0.1), ("malformed_share", "some"), ("colour", "blue")],
)
def test_bad_options_raise_a_permanent_error_naming_the_key(key: str, value: Any) -> None:
    with pytest.raises(CollectorError) as caught:
        make(**{key: value})
    assert caught.value.permanent
    assert key in caught.value.message and "'demo'" in caught.value.message


@pytest.mark.parametrize("cursor", ["", "garbage", "1732500000.0", "nan:3", "1732500000.0:-1", "x:12"])
def test_bad_cursor_raises(cursor: str) -> None:
    with pytest.raises(CollectorError):
        make().fetch(cursor, NOW)


def test_fetch_and_parse_are_cheap() -> None:
    source = make(page_size=3000)
    started = time.perf_counter()
    parsed = source.parse(source.fetch(f"{ANCHOR!r}:0", NOW).payload)
    per_post = (time.perf_counter() - started) / len(parsed.posts)
    assert per_post < 200e-6  # measured ≈ 20 µs; the bound is loose to stay stable on slow CI


def test_the_crisis_is_an_outage_and_leaves_the_rest_of_the_stream_alone(sample: list[dict[str, Any]]) -> None:
    from collectors.sources import demo_corpus as corpus

    # ANCHOR is 02:00 UTC: at 90 a minute, the first 720 posts fall in 02:00-02:08, the crisis.
    crisis = make(page_size=2000, crisis_every_minutes=60, crisis_minutes=8).fetch(f"{ANCHOR!r}:0", NOW)
    items = crisis.payload["data"]
    assert len(items) == 2000 and ids(items) == ids(sample)
    inside = [i for i in items if i["created_at"] < "2024-11-25T02:08"]
    outside = [i for i in items if i["created_at"] >= "2024-11-25T02:08"]
    assert 700 <= len(inside) <= 740
    # after it, the same original posts (reposts may quote a post of the crisis)
    assert [i for i in outside if i["_demo"]["variant"] == "original"] == [
        i for i in sample if i["created_at"] >= "2024-11-25T02:08" and i["_demo"]["variant"] == "original"]
    originals = [i for i in inside if i["_demo"]["variant"] == "original"]
    outages = [i for i in originals if i["_demo"]["category"] == "complaint" and any(
        _matches(t, i["text"]) for t in corpus.CRISIS_TEMPLATES[i["_demo"]["lang"]])]
    before = [i for i in sample if i["created_at"] < "2024-11-25T02:08" and i["_demo"]["variant"] == "original"
              and i["_demo"]["category"] == "complaint"]
    assert 0.45 <= len(outages) / len(originals) <= 0.7, (len(outages), len(originals))  # half, and a few usual
    assert len(outages) > 2 * len(before)


def _matches(template: str, text: str) -> bool:
    """Whether ``text`` was made from ``template`` (its fixed words, in order)."""
    words = [w for w in re.split(r"\{[^}]*\}", template) if w.strip()]
    position = 0
    for w in words:
        found = text.find(w.strip(), position)
        if found < 0:
            return False
        position = found + len(w.strip())
    return True
