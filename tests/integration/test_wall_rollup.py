"""The wall's 24-hour panels from the hourly rollups (`models.wall_rollup`) against the exact reads of
`models.kpis` (the reference), on the seeded days of test_summary.py, SQLite and PostgreSQL: the
whole hours from the rollups, the partial hours at either end and the posts stored since the fold
read exactly, the same figures; a fold far behind (or never run) falls back to the exact read."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import dash
import pytest
from sqlalchemy import delete, func, select

from config.settings import Settings
from models import kpis, wall_rollup
from models.db import Database
from models.summary_fold import fold
from models.summary_tables import SummaryFoldMark, WallBrandHour, WallHourCount
from tests.streams import inject
from tests.summary_days import END, ZONE


def _same_hours(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert [{k: v for k, v in r.items() if k != "mean"} for r in got] == \
        [{k: v for k, v in r.items() if k != "mean"} for r in want]
    for g, w in zip(got, want, strict=True):  # a mean over the same scores, summed in another order and
        # each rounded to 3 decimals: at a rounding boundary the two differ by one unit (-0.1485 → -0.148, -0.149)
        assert g["mean"] == pytest.approx(w["mean"], abs=1.001e-3), (g, w)


def _compare(db: Database, now: datetime) -> None:
    since = kpis.hours_back(now, 24)
    with db.read() as s:
        rows = wall_rollup.network_hours(s, since, now)
        exact = kpis.network_hours(s, since, now)
        voice = wall_rollup.brand_counts(s, now - timedelta(hours=24), now)
        voice_exact = kpis.brand_counts(s, now - timedelta(hours=24), now)
    assert sum(r["count"] for r in exact) > 500  # a real day of posts
    _same_hours(rows, exact)
    assert kpis.sentiment_totals(rows) == kpis.sentiment_totals(exact)
    assert kpis.network_totals(rows) == kpis.network_totals(exact)
    assert voice == sorted(voice_exact) and sum(n for _b, _c, n in voice) > 100


def test_the_rollups_give_the_exact_figures(db: Database, seeded: Settings) -> None:
    fold(db, ZONE)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(WallHourCount)) > 80  # ~90 hours x networks
        assert s.scalar(select(func.count()).select_from(WallBrandHour)) > 0
    # posts stored after the fold (ids past its mark): in a whole hour of the window, in the
    # current partial hour, and a copy of an earlier post, counted once
    now = END - timedelta(minutes=23, seconds=17)
    inject(db, seeded, ["Aurelia Bank outage, app down again, furious"] * 2, now - timedelta(hours=5), 60,
           prefix="late")
    inject(db, seeded, ["Love the new Aurelia card, great service"], now - timedelta(minutes=10), 1,
           network="facebook", prefix="fresh")
    with db.read() as s:
        tail = wall_rollup._tail(s)
    assert tail is not None and len(tail[1]) >= 2  # the rollup path is taken, with a tail to place
    for at in (now, END - timedelta(hours=7, minutes=1), (END - timedelta(hours=3)).replace(minute=0, second=0)):
        _compare(db, at)
    fold(db, ZONE)  # folded now: the same figures from the rollups alone
    with db.read() as s:
        assert wall_rollup._tail(s) == (s.scalar(select(SummaryFoldMark.last_id).where(
            SummaryFoldMark.name == "mentions")), [])
    _compare(db, now)
    fold(db, ZONE)  # run again: nothing counted twice
    _compare(db, now)


def test_without_a_fold_the_window_is_read_exactly(db: Database, seeded: Settings) -> None:
    now = END - timedelta(minutes=41)
    with db.read() as s:
        assert wall_rollup._tail(s) is None
    _compare(db, now)
    fold(db, ZONE)
    with db.write.begin() as s:  # rollups lost (or far behind): their empty hours are never trusted
        s.execute(delete(WallHourCount))
        s.execute(delete(WallBrandHour))
        s.get(SummaryFoldMark, "mentions").last_id = s.get(SummaryFoldMark, "mentions").last_id - wall_rollup.TAIL
    _compare(db, now)


def test_hour_arithmetic() -> None:
    at = datetime(2026, 10, 26, 10, 30)
    ten = datetime(2026, 10, 26, 10)
    assert wall_rollup.whole_hours(at - timedelta(hours=24), at) == (datetime(2026, 10, 25, 11), ten)
    assert wall_rollup.whole_hours(datetime(2026, 10, 26, 9), at) == (datetime(2026, 10, 26, 9), ten)
    posts, scores, brands = wall_rollup.post_deltas([
        (at, "x", "negative", -0.5, "Aurelia Bank", False, None),
        (at, "x", "negative", -0.25, None, False, None),
        (at, "x", "negative", -0.9, "Aurelia Bank", False, 7),  # a copy: counted with its original
    ])
    hour = datetime(2026, 10, 26, 10)
    assert posts == Counter({(hour, "x", "negative"): 2}) and dict(scores) == {(hour, "x", "negative"): -0.75}
    assert brands == Counter({(hour, "Aurelia Bank", False): 1})
    assert wall_rollup.hour_rows(posts, scores) == [{"hour": "2026-10-26T10:00:00", "network": "x", "count": 2,
                                                     "negative": 2, "positive": 0, "mean": -0.375}]


def test_the_top_terms_as_the_exact_read(web: Any, db: Database, seeded: Settings) -> None:
    wall = sys.modules[next(p["module"] for p in dash.page_registry.values() if p["path"] == "/wall")]
    brands = ["Aurelia Bank", "aurelia"]
    for now in (END - timedelta(hours=2, minutes=13), END - timedelta(hours=14)):
        with db.read() as s:
            terms = wall._top_terms(s, db, now - timedelta(hours=24), now, brands)  # every post read
            assert terms == kpis.top_terms(kpis.recent_texts(s, now - timedelta(hours=24), now), brands)
            assert terms[0] and terms[1]
            later = now + timedelta(minutes=9)  # a step later: some posts known, some new
            assert wall._top_terms(s, db, later - timedelta(hours=24), later, brands) == kpis.top_terms(
                kpis.recent_texts(s, later - timedelta(hours=24), later), brands)


def test_a_fold_committed_between_the_tail_and_the_rollups_is_not_counted_twice(
        db: Database, seeded: Settings) -> None:
    """On PostgreSQL each statement reads its own snapshot: a fold committed after the tail (the posts
    past the mark) was read and before the rollups are counted its posts in both."""
    from sqlalchemy import event

    fold(db, ZONE)
    now = END - timedelta(minutes=23, seconds=17)
    inject(db, seeded, ["Aurelia Bank outage, app down again, furious"] * 3, now - timedelta(hours=5), 60,
           prefix="late")
    since = kpis.hours_back(now, 24)
    with db.read() as s:
        exact = kpis.network_hours(s, since, now)
        voice_exact = sorted(kpis.brand_counts(s, now - timedelta(hours=24), now))
    folded: list[str] = []

    def fold_first(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "wall_hour_counts" in statement and not folded:  # just before the page's rollup read
            folded.append(statement)
            fold(db, ZONE)  # another collector's fold, committed on its own connection

    with db.read() as s:
        event.listen(s.connection(), "before_cursor_execute", fold_first)
        rows = wall_rollup.network_hours(s, since, now)
    assert folded, "the fold ran between the two reads (else this test checks nothing)"
    _same_hours(rows, exact)
    folded.clear()
    with db.read() as s:
        inject(db, seeded, ["Aurelia Bank outage again"] * 2, now - timedelta(hours=4), 60, prefix="later")
        event.listen(s.connection(), "before_cursor_execute",
                     lambda c, cur, st, *a: fold_first(c, cur, st.replace("wall_brand_hours", "wall_hour_counts")))
        voice = wall_rollup.brand_counts(s, now - timedelta(hours=24), now)
    with db.read() as s:
        voice_exact = sorted(kpis.brand_counts(s, now - timedelta(hours=24), now))
    assert folded and voice == voice_exact


def test_the_top_terms_drop_a_restricted_authors_words(web: Any, db: Database, seeded: Settings) -> None:
    """A data-protection request rewrites the author's posts in place: the wall's per-post terms kept
    by the worker are dropped with it (the restricted words are shown nowhere)."""
    from datetime import UTC

    from collectors.types import RawPost
    from models.erasure import request_erasure
    from tests.kit import store_posts
    from tests.streams import STREAM_SOURCE

    wall = sys.modules[next(p["module"] for p in dash.page_registry.values() if p["path"] == "/wall")]
    now = END - timedelta(hours=2)
    posts = [RawPost(f"leak-{i}", "x", f"zanzibarish charges on my Aurelia account, case {i}",
                     (now - timedelta(seconds=3000 - 10 * i)).replace(tzinfo=UTC), None, "@leaker", "Leaker", 5)
             for i in range(250)]  # more than the window's most said words
    store_posts(db, seeded, posts, source=STREAM_SOURCE, collected_at=now.replace(tzinfo=None))

    def words() -> list[str]:
        with db.read() as s:
            return [w for w, _n in wall._top_terms(s, db, now - timedelta(hours=24), now, ["Aurelia Bank"])[0]]

    assert "zanzibarish" in words()  # counted, and each post's terms kept by this worker
    with db.write.begin() as s:
        request_erasure(s, "dpo", "x:@leaker", "the author's request")
    assert "zanzibarish" not in words()
