"""The wall's pure figures and panels: rows in, figures and components out."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from dashboard.components import wall_panels as panels
from models import kpis
from models.alert_words import figures_of, stored_finding


def test_local_midnight_follows_the_zone_and_its_dst() -> None:
    # 2026-03-29 is the spring change in Paris: midnight there is 23:00 UTC the day before (winter time).
    assert kpis.local_midnight(datetime(2026, 3, 29, 12, 0), "Europe/Paris") == datetime(2026, 3, 28, 23, 0)
    assert kpis.local_midnight(datetime(2026, 7, 1, 21, 59), "Europe/Paris") == datetime(2026, 6, 30, 22, 0)
    assert kpis.local_midnight(datetime(2026, 7, 1, 22, 0), "Europe/Paris") == datetime(2026, 7, 1, 22, 0)
    assert kpis.local_midnight(datetime(2026, 7, 1, 3, 0), "America/New_York") == datetime(2026, 6, 30, 4, 0)


def test_net_sentiment_change_and_medians() -> None:
    assert kpis.net_sentiment({"positive": 30, "negative": 50, "neutral": 20}) == -20.0
    assert kpis.net_sentiment({}) is None
    assert kpis.change(150, 100) == 50.0 and kpis.change(5, 0) is None
    overall, per = kpis.medians_by_team([("cs", 4.0), ("cs", 10.0), ("legal", 30.0)])
    assert overall == 10.0 and per == {"cs": 7.0, "legal": 30.0}
    assert kpis.medians_by_team([]) == (None, {})


def test_top_terms_skip_stop_words_brands_handles_and_links_and_count_each_post_once() -> None:
    texts = ["Card declined AGAIN, card declined! @AureliaBank #fail https://t.example/card",
             "Aurelia Bank: my card was declined #Fail #AureliaBank",
             "Les frais de la carte sont trop chers #frais"]
    words, tags = kpis.top_terms(texts, exclude=["Aurelia Bank", "Aurelia"])
    assert words[:2] == [("card", 2), ("declined", 2)]
    assert all(w not in dict(words) for w in ("aurelia", "bank", "the", "les", "trop", "again"))
    assert tags == [("#fail", 2), ("#frais", 1)]  # the brand's own hashtag is not a finding


def test_share_of_voice_and_network_totals() -> None:
    voice = kpis.share_of_voice([("Aurelia Bank", False, 75), ("Northwind Bank", True, 25)])
    assert [(v.brand, v.share) for v in voice] == [("Aurelia Bank", 0.75), ("Northwind Bank", 0.25)]
    assert kpis.share_of_voice([]) == []
    rows = [{"network": "x", "count": 3}, {"network": "reddit", "count": 5}, {"network": "x", "count": 4}]
    assert kpis.network_totals(rows) == [("x", 7), ("reddit", 5)]


def _alert(n: int, kind: str, scope: str, key: str, mention_ids: list[int]) -> Any:
    """An open alert as the wall reads it: its figures, and the English line stored with it."""
    surge = kind == "volume_surge"
    return SimpleNamespace(id=n, kind=kind, scope=scope, scope_key=key, window_minutes=10,
                           observed=64 if surge else 0.4, expected=5.1 if surge else 0.12, z=4.2,
                           mentions_in_window=64 if surge else 25, summary="(the stored English line)",
                           opened_at=datetime(2026, 11, 25, 9, 0), last_seen_at=datetime(2026, 11, 25, 9, 5),
                           mention_ids=mention_ids)


def test_panels_keep_untrusted_text_as_text() -> None:
    alert = _alert(1, "volume_surge", "topic", "outage", mention_ids=[7])
    posts = {1: [{"author": "<b>x</b>", "network": "x", "text": "<img src=x onerror=alert(1)>"}]}
    banner = panels.alerts_banner([alert], posts, "Europe/Paris")
    item = banner[0].children[2].children[0]
    assert item.children == "<b>x</b> · x: <img src=x onerror=alert(1)>"  # a string child: Dash escapes it
    assert "since 10:00" in banner[0].children[1].children  # Paris time
    assert panels.minutes_text(None) == "–" and panels.minutes_text(4.25) == "4.2 min"
    assert panels.minutes_text(45) == "45 min" and panels.minutes_text(150) == "2.5 h"
    assert panels.signed(-19.6) == "-20" and panels.signed(None) == "–"


def test_alerts_banner_shows_each_open_alert_or_says_how_many_it_does_not() -> None:
    def alert(n: int) -> Any:
        return _alert(n, "sentiment_drop", "brand", f"B{n}", mention_ids=[n, n + 100])
    posts = {n: [{"author": "a", "network": "x", "text": f"post {n}.{k}"} for k in (1, 2)] for n in range(1, 7)}

    def cells(banner: list[Any]) -> list[tuple[str, list[str]]]:
        return [(b.id, [li.children for li in b.children[-1].children]) for b in banner]

    # alone: the banner's width and its two newest posts
    alone = panels.alerts_banner([alert(1)], posts, "UTC")
    assert cells(alone) == [("wall-alert-1", ["a · x: post 1.1", "a · x: post 1.2"])]
    # up to four: a cell each, one post each
    four = panels.alerts_banner([alert(n) for n in range(1, 5)], posts, "UTC", total=4)
    assert cells(four) == [(f"wall-alert-{n}", [f"a · x: post {n}.1"]) for n in range(1, 5)]
    # more open than the grid holds (and than were read): three cells, then the count of the rest and their names
    many = panels.alerts_banner([alert(n) for n in range(1, 7)], posts, "UTC", total=9)
    assert [c[0] for c in cells(many)] == ["wall-alert-1", "wall-alert-2", "wall-alert-3", "wall-alert-more"]
    assert many[3].children[0].children[2] == "6 more open alerts"
    assert cells(many)[3][1] == [f"Sentiment drop · brand B{n}: 40% negative in 10 min (usually 12%, 25 mentions, "
                                 "z 4.2)" for n in (4, 5)]
    assert many[0].children[0].children[2] == ("Sentiment drop · brand B1: 40% negative in 10 min (usually 12%, "
                                               "25 mentions, z 4.2)")
    assert panels.alerts_banner([], {}, "UTC", total=0) == []
    # five: the grid's last cell names the two it does not show
    five = panels.alerts_banner([alert(n) for n in range(1, 6)], posts, "UTC", total=5)
    assert [c[0] for c in cells(five)][-1] == "wall-alert-more"
    assert five[3].children[0].children[2] == "2 more open alerts"
    # the count and the list read apart (an alert opened or closed between them): no cell without a name
    assert len(panels.alerts_banner([alert(1), alert(2)], posts, "UTC", total=1)) == 2
    assert panels.alerts_banner([], posts, "UTC", total=1) == []
    assert [c[0] for c in cells(panels.alerts_banner([alert(1), alert(2)], posts, "UTC", total=3))] == [
        "wall-alert-1", "wall-alert-2"]


def test_summary_sla_verdicts_percentiles_and_comparison() -> None:
    from models.summary import comparison, day_bounds
    from models.summary_sla import percentile, sla_figures

    t0 = datetime(2026, 11, 24, 9, 0)
    ids = itertools.count(1)

    def item(status: str, claimed: int | None, closed: int | None, due: int, created: datetime = t0) -> Any:
        def at(minutes: int | None) -> datetime | None:
            return None if minutes is None else created + timedelta(minutes=minutes)

        return SimpleNamespace(id=next(ids), status=status, created_at=created, claimed_at=at(claimed),
                               resolved_at=at(closed), due_at=created + timedelta(minutes=due))

    items = [item("resolved", 5, 30, 60),  # met
             item("resolved", 10, 90, 60),  # closed late: breached
             item("dismissed", 3, 20, 60),  # closed in time by a person: met
             item("dismissed", None, 0, 60),  # filed closed by routing: not judged
             item("claimed", 40, None, 60),  # open past due: breached
             item("new", None, None, 600)]  # open, not yet due: pending
    figures = sla_figures(items, now=t0 + timedelta(minutes=120))
    assert (figures["items"], figures["filed_closed"]) == (6, 1)
    assert (figures["met"], figures["breached"], figures["pending"]) == (2, 2, 1)
    assert figures["adherence"] == 0.5
    assert figures["first_response_median"] == 7.5 and figures["first_response_p90"] == 40
    assert figures["resolution_median"] == 60 and figures["resolved"] == 2
    assert figures["dismissed"] == 1  # by a person; the one filed closed is counted apart
    assert percentile([], 0.9) is None and percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert sla_figures([], t0)["adherence"] is None

    prev = [{"mentions": 100, "net_sentiment": -10.0}, {"mentions": 0, "net_sentiment": None},
            {"mentions": 300, "net_sentiment": 10.0}]
    result = comparison({"mentions": 300, "net_sentiment": 5.0}, prev)
    assert result["mentions"] == {"value": 300, "previous_mean": 200.0, "change_pct": 50.0}  # the empty day left out
    assert result["net_sentiment"]["previous_mean"] == 0.0 and result["net_sentiment"]["change_pct"] is None
    assert day_bounds(datetime(2026, 10, 25).date(), "Europe/Paris") == (datetime(2026, 10, 24, 22, 0),
                                                                         datetime(2026, 10, 25, 23, 0))


def test_summary_csv_neutralises_formulas_but_keeps_numbers() -> None:
    from models.summary_export import csv_rows, summary_csv

    figures = {"day": "2026-11-24", "comparison": {"net_sentiment": {"value": -12.5, "previous_mean": None,
                                                                      "change_pct": None}},
               "volume": {"by_network": {"x": 3}, "by_sentiment": {}, "by_team": {}, "copies": 0},
               "sla": {"overall": {"items": 3}, "teams": {}}, "issues": [], "topics": [], "terms": [],
               "hashtags": [], "networks": [], "alerts": [], "previous": [],
               "notable": [{"item": 1, "priority": "high", "network": "=HYPERLINK(\"http://evil\")",
                            "author": "@a", "text": "hello"}]}
    assert csv_rows(figures)[1] == ["headline", "2026-11-24", "net_sentiment", -12.5, None, None]
    body = summary_csv(figures)
    assert "headline,2026-11-24,net_sentiment,-12.5,," in body  # a negative figure stays a number
    # A network named by a webhook starts the cell: it is quoted, never read as a formula.
    assert ",\"'=HYPERLINK" in body and ',"=HYPERLINK' not in body and ",=HYPERLINK" not in body


def test_timeline_labels_each_hour_with_its_own_local_time_across_a_dst_change() -> None:
    # 2026-10-25 01:00 UTC: Paris goes back from 03:00 summer time to 02:00 winter time.
    start = datetime(2026, 10, 24, 12, 0)
    hours = [(start + timedelta(hours=i)).strftime("%Y-%m-%dT%H:00:00") for i in range(24)]
    rows = [{"hour": hours[0], "network": "x", "count": 4, "positive": 3, "negative": 1},
            {"hour": hours[13], "network": "x", "count": 2, "positive": 0, "negative": 2}]
    fig = panels.timeline_figure(rows, hours, "Europe/Paris")
    bars = [t for t in fig.data if t.type == "bar"]
    assert list(bars[0].x) == hours and sum(bars[0].y) == 6  # the axis runs in UTC: 24 distinct places
    labels = dict(zip(fig.layout.xaxis.tickvals, fig.layout.xaxis.ticktext, strict=True))
    # before the change (summer, UTC+2) and after it (winter, UTC+1), each tick says the local hour
    assert labels["2026-10-24T13:00:00"] == "15:00" and labels["2026-10-24T22:00:00"] == "00:00"
    assert labels["2026-10-25T02:00:00"] == "03:00" and labels["2026-10-25T08:00:00"] == "09:00"
    # 00:00 and 01:00 UTC are both 02:00 in Paris (summer, then winter time): two bars, no tick
    assert [h for h in hours if "2026-10-24T22" <= h <= "2026-10-25T02:00:00" and h in labels] == \
        ["2026-10-24T22:00:00", "2026-10-25T02:00:00"]
    assert all(int(text[:2]) % 3 == 0 for text in labels.values())
    line = next(t for t in fig.data if t.type == "scatter")
    assert line.y[0] == 50.0 and line.y[13] == -100.0 and line.y[1] is None


def test_earlier_days_compared_whole_or_up_to_the_same_local_time() -> None:
    from datetime import date, time, timedelta

    from models.summary import compared_window, day_bounds

    start, end = day_bounds(date(2026, 11, 30), "Europe/Paris")
    assert compared_window(date(2026, 11, 30), "Europe/Paris", timedelta(minutes=30), None) == (
        start, end, end + timedelta(minutes=30))
    assert compared_window(date(2026, 11, 30), "Europe/Paris", timedelta(hours=-3), None) == (start, end, end)
    cut = compared_window(date(2026, 11, 30), "Europe/Paris", timedelta(0), time(13, 30))
    assert cut == (start, datetime(2026, 11, 30, 12, 30), datetime(2026, 11, 30, 12, 30))  # CET: UTC+1
    summer = compared_window(date(2026, 7, 1), "Europe/Paris", timedelta(0), time(13, 30))
    assert summer[1] == datetime(2026, 7, 1, 11, 30)  # CEST: UTC+2
    # 02:30 does not exist on 2026-03-29 in Paris (02:00 -> 03:00): still a moment inside that day
    s, e = day_bounds(date(2026, 3, 29), "Europe/Paris")
    gap = compared_window(date(2026, 3, 29), "Europe/Paris", timedelta(0), time(2, 30))
    assert s < gap[1] <= e and gap[1] == gap[2]
    assert e - s == timedelta(hours=23)


def test_panels_write_for_a_french_reader() -> None:
    from i18n import Reader, use_reader

    alert = _alert(1, "volume_surge", "topic", "outage", mention_ids=[7, 8])
    with use_reader(Reader("fr")):
        head = panels.headline_kpis(10508, 9000, 16.75, -19.6, 3.2, 4.25, 1)
        assert head[0].children[1].children == "10\u202f508"  # U+202F between thousands
        assert [str(c) if isinstance(c, str) else c.children for c in head[0].children[2].children] == [
            "9\u202f000", " à la même heure la semaine dernière (", "+17\xa0%", ")"]
        assert head[1].children[1].children == "-20" and head[2].children[1].children == "4,2 min"
        assert "1 élément pris en charge depuis minuit" in "".join(
            c if isinstance(c, str) else c.children for c in head[2].children[2].children)
        assert panels.minutes_text(150) == "2,5 h"
        banner = panels.alerts_banner([alert], {}, "Europe/Paris", flags={"outage": "Panne"})
        assert banner[0].children[1].children == "depuis 10:00, confirmée à 10:05:00 · 2 publications listées"
        assert banner[0].children[0].children[2] == ("Pic de volume · thème Panne : 64 mentions en 10 min "
                                                     "(d’habitude 5,1, z 4,2)")  # not the stored English
        many = panels.alerts_banner([alert] * 5, {}, "Europe/Paris", total=6)
        assert many[-1].children[0].children[2] == "3 autres alertes ouvertes"
        quiet = panels.ticker([], {}, "Europe/Paris")[0].children
        assert quiet == "Aucun élément ouvert de priorité critique ou haute."
        fig = panels.timeline_figure([], ["2026-11-25T08:00:00", "2026-11-25T09:00:00"], "Europe/Paris",
                                     labels=panels.timeline_labels())
        assert fig.layout.yaxis.title.text == "mentions par heure" and list(fig.layout.xaxis.ticktext) == ["09:00"]
    assert panels.headline_kpis(10508, 9000, None, None, None, None, 0)[0].children[1].children == "10,508"


def test_sentiment_totals_of_the_timeline_rows() -> None:
    rows = [{"hour": "h1", "network": "x", "count": 10, "negative": 4, "positive": 1, "mean": 0.0},
            {"hour": "h2", "network": "reddit", "count": 5, "negative": 0, "positive": 3, "mean": 0.0}]
    totals = kpis.sentiment_totals(rows)
    assert totals == {"positive": 4, "negative": 4, "other": 7}
    assert kpis.net_sentiment(totals) == 0.0
    assert kpis.net_sentiment(kpis.sentiment_totals([])) is None


def test_a_summary_alert_is_said_from_its_figures_or_as_it_was_kept() -> None:
    from i18n import Reader, use_reader

    kept = {"summary": "Sentiment drop · brand Aurelia Bank: 40% negative in 10 min (usually 12%, 25 mentions, z 4.2)",
            **figures_of(_alert(1, "sentiment_drop", "brand", "Aurelia Bank", []))}
    assert stored_finding(kept) == kept["summary"]  # English from the figures: the stored line, word for word
    with use_reader(Reader("fr")):
        assert stored_finding(kept) == ("Chute du sentiment · marque Aurelia Bank : 40\xa0% de négatif en 10 min "
                                        "(d’habitude 12\xa0%, 25 mentions, z 4,2)")
        older = {"summary": "Volume surge · all mentions: 9 mentions in 10 min"}  # kept before its figures were
        assert stored_finding(older) == older["summary"]
