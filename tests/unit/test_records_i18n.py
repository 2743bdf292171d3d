"""The records pages' fixed texts for a French reader in Paris: source states (shared with the home
page and the wall), stale reasons, a hold's scope, the times inside an audit change; English stays as it was."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from i18n import Reader, use_reader

FR = Reader("fr", ZoneInfo("Europe/Paris"))
NOW = datetime(2026, 12, 4, 9, 0)  # naive UTC: 10:00 in Paris


def _row(**kw: Any) -> Any:
    base = dict(name="feed", kind="rss", consecutive_failures=0, last_ok_at=None, not_before=None, last_error=None,
                last_run_at=None, lease_owner=None)
    return SimpleNamespace(**{**base, **kw})


def test_source_states_in_french() -> None:
    from dashboard.components.health import source_state

    with use_reader(FR):
        ok = source_state(_row(last_ok_at=NOW - timedelta(minutes=3)), NOW, True, True)
        assert (ok.label, ok.detail) == ("ok", "dernier succès il y a 3 min")
        bad = source_state(_row(consecutive_failures=2, last_ok_at=NOW - timedelta(hours=2),
                                not_before=NOW + timedelta(minutes=5)), NOW, True, True)
        assert bad.label == "en échec"
        assert bad.detail == "2 relèves échouées d’affilée depuis il y a 2 h ; prochaine requête dans 5 min"
        one = source_state(_row(consecutive_failures=1), NOW, True, True)
        assert one.detail == "1 relève échouée d’affilée depuis le début"
        assert source_state(_row(), NOW, True, False).label == "désactivée"
        stale = source_state(_row(last_ok_at=NOW - timedelta(minutes=30)), NOW, True, True, "collecteur c1 arrêté")
        assert (stale.label, stale.detail) == ("figée", "collecteur c1 arrêté ; dernier succès il y a 30 min")
    assert source_state(_row(), NOW, True, False).label == "disabled"  # outside the block: English


def test_stale_reasons_in_the_readers_zone() -> None:
    from models.heartbeats import collector_gone

    beat = SimpleNamespace(worker_id="c1", stopped_at=datetime(2026, 12, 4, 8, 41, 5), beat_at=NOW,
                           interval_seconds=15)
    with use_reader(FR):
        assert collector_gone(beat, NOW) == "collecteur c1 arrêté le 4 déc. 2026, 09:41:05 UTC+01:00"
    assert collector_gone(beat, NOW) == "collector c1 stopped at Dec 4, 2026, 08:41:05 UTC+00:00"


def test_a_holds_scope_and_an_audit_change_for_the_reader() -> None:
    from dashboard.components.archive_holds import scope_text
    from dashboard.components.archive_panels import local_times
    from models.holds import HoldScope

    scope = HoldScope(mention_ids=(12, 57), since=datetime(2026, 1, 1))
    with use_reader(FR):
        assert scope_text(scope) == "éléments 12, 57 ; à partir du 1 janv. 2026, 01:00 UTC+01:00"
        assert scope_text(HoldScope()) == "tous les enregistrements"
        change = local_times('{"since": "2026-12-04T09:00:00", "until": "2026-12-05T09:00:00.123456Z"}')
        assert change == '{"since": "4 déc. 2026, 10:00:00 UTC+01:00", "until": "5 déc. 2026, 10:00:00 UTC+01:00"}'
    assert scope_text(scope) == "items 12, 57; from Jan 1, 2026, 00:00 UTC+00:00 on"
