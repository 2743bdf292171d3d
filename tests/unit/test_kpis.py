"""The wall's pure figures and panels: rows in, figures and components out."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from dashboard.components import wall_panels as panels
from models import kpis


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


def test_panels_keep_untrusted_text_as_text() -> None:
    alert = SimpleNamespace(id=1, kind="volume_surge", summary="Volume surge · topic outage: 40 mentions",
                            opened_at=datetime(2026, 11, 25, 9, 0), last_seen_at=datetime(2026, 11, 25, 9, 5),
                            mention_ids=[7])
    posts = {1: [{"author": "<b>x</b>", "network": "x", "text": "<img src=x onerror=alert(1)>"}]}
    banner = panels.alerts_banner([alert], posts, "Europe/Paris")
    item = banner[0].children[2].children[0]
    assert item.children == "<b>x</b> · x: <img src=x onerror=alert(1)>"  # a string child: Dash escapes it
    assert "since 10:00" in banner[0].children[1].children  # Paris time
    assert panels.minutes_text(None) == "–" and panels.minutes_text(4.25) == "4.2 min"
    assert panels.minutes_text(45) == "45 min" and panels.minutes_text(150) == "2.5 h"
    assert panels.signed(-19.6) == "-20" and panels.signed(None) == "–"
