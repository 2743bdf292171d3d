"""The daily summary on a database seeded over several days (the demo stream replayed through the
pipeline, then items claimed, resolved and dismissed at chosen times): every figure is checked
against independent SQL; the PDF renders with pdftoppm; the collector's job stores it once and
its e-mail reaches a local SMTP server with the PDF attached."""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text, update

from collectors.jobs.daily_summary import run_daily_summary
from collectors.jobs.notify import deliver_pending
from config.notifications import parse_notifications
from config.settings import Settings
from i18n import Reader, formats
from models.db import Database
from models.summary import compute_summary, store_summary, stored_summary
from models.summary_export import fmt, summary_csv, summary_pdf
from models.tables import DailySummary, Mention, Notification
from models.users import add_user, set_preferences
from tests.integration.test_notifications import Inbox, smtp  # noqa: F401  (the local SMTP server fixture)
from tests.kit import config_dir, vigie_env
from tests.streams import inject, replay_demo
from tests.support import VIGIE
from tests.web import PASSWORD, app_server, make_accounts, sign_in

ZONE = "Europe/Paris"
END = datetime(2026, 10, 27, 6, 0)  # naive UTC; the seeded days include 2026-10-25, 25 hours long in Paris
DAYS = [date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)]


def _bounds(day: date) -> tuple[datetime, datetime]:
    """Local midnight to midnight as naive UTC, worked out here independently of models.summary."""
    zone = ZoneInfo(ZONE)
    start = datetime.combine(day, datetime.min.time(), zone).astimezone(UTC).replace(tzinfo=None)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC).replace(tzinfo=None)
    return start, end


def _dt(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


@pytest.fixture
def seeded(db: Database, settings: Settings) -> Settings:
    settings = replace(settings, reporting=replace(settings.reporting, timezone=ZONE))
    replay_demo(db, settings, END, hours=90, rate_per_minute=1.2, seed=31, lag=timedelta(minutes=2))
    # Work done on the items, by their id: some claimed and resolved in time, some resolved late,
    # some claimed only, some dismissed by a person; the rest left open.
    with db.engine.begin() as conn:
        rows = conn.execute(text("SELECT id, created_at, due_at FROM queue_items WHERE status = 'new'")).all()
        for item_id, created, due in rows:
            created, due = _dt(created), _dt(due)
            if item_id % 3 == 0:
                conn.execute(text("UPDATE queue_items SET status = 'resolved', claimed_at = :c, resolved_at = :r "
                                  "WHERE id = :i"), {"c": created + timedelta(minutes=item_id % 17 + 1),
                                                     "r": created + timedelta(minutes=item_id % 29 + 20), "i": item_id})
            elif item_id % 7 == 0:
                conn.execute(text("UPDATE queue_items SET status = 'resolved', claimed_at = :c, resolved_at = :r "
                                  "WHERE id = :i"), {"c": created + timedelta(minutes=45),
                                                     "r": due + timedelta(hours=1), "i": item_id})
            elif item_id % 5 == 0:
                conn.execute(text("UPDATE queue_items SET status = 'claimed', claimed_at = :c, assignee = 'a' "
                                  "WHERE id = :i"), {"c": created + timedelta(minutes=item_id % 13 + 2), "i": item_id})
            elif item_id % 11 == 0:
                conn.execute(text("UPDATE queue_items SET status = 'dismissed', claimed_at = :c, resolved_at = :c "
                                  "WHERE id = :i"), {"c": created + timedelta(minutes=5), "i": item_id})
    return settings


def _independent(db: Database, day: date, now: datetime) -> dict[str, Any]:
    start, end = _bounds(day)
    span = {"a": start, "b": end}
    with db.engine.connect() as conn:
        def rows(sql: str, **extra: Any) -> list[Any]:
            return list(conn.execute(text(sql), {**span, **extra}))
        heads = "created_at >= :a AND created_at < :b AND duplicate_of_id IS NULL"
        by_network = dict(rows(f"SELECT network, count(*) FROM mentions WHERE {heads} GROUP BY network"))
        by_sentiment = dict(rows(f"SELECT sentiment_label, count(*) FROM mentions WHERE {heads} GROUP BY 1"))
        copies = rows("SELECT count(*) FROM mentions WHERE created_at >= :a AND created_at < :b "
                      "AND duplicate_of_id IS NOT NULL")[0][0]
        items = rows("SELECT q.id, q.team, q.status, q.created_at, q.claimed_at, q.resolved_at, q.due_at, "
                     "q.escalated_at, m.network FROM queue_items q JOIN mentions m ON m.id = q.mention_id "
                     "WHERE q.created_at >= :a AND q.created_at < :b")
        flags = rows(f"SELECT risk_flags FROM mentions WHERE {heads}")
    filed = [i for i in items if i.status == "dismissed" and i.claimed_at is None
             and _dt(i.resolved_at) == _dt(i.created_at)]
    judged = [i for i in items if i not in filed]
    # As the database stood at ``now``: a claim or a closing stamped later had not happened yet.
    closed = [i for i in judged if i.status in ("resolved", "dismissed") and _dt(i.resolved_at) <= now]
    first = [(_dt(i.claimed_at) - _dt(i.created_at)).total_seconds() / 60 for i in judged
             if i.claimed_at and _dt(i.claimed_at) <= now]
    resolution = [(_dt(i.resolved_at) - _dt(i.created_at)).total_seconds() / 60 for i in closed
                  if i.status == "resolved"]
    met = sum(1 for i in closed if _dt(i.resolved_at) <= _dt(i.due_at))
    breached = sum(1 for i in closed if _dt(i.resolved_at) > _dt(i.due_at)) + sum(
        1 for i in judged if i not in closed and _dt(i.due_at) < now)
    topics: Counter[str] = Counter()
    for (raw,) in flags:
        topics.update(set(raw if isinstance(raw, list) else __import__("json").loads(raw)))
    per_network: dict[str, int] = Counter(i.network for i in items)
    needed = Counter(i.network for i in items if i.status in ("resolved", "claimed"))
    return {"by_network": by_network, "by_sentiment": by_sentiment, "copies": copies, "items": len(items),
            "filed": len(filed), "first_median": statistics.median(first) if first else None,
            "resolution_median": statistics.median(resolution) if resolution else None, "met": met,
            "breached": breached, "topics": topics, "per_network": per_network, "needed": needed,
            "mentions": sum(by_network.values())}


def test_summary_figures_match_independent_sql_over_several_days(db: Database, seeded: Settings) -> None:
    now = END
    computed = {}
    for day in DAYS:
        with db.read() as s:
            figures = compute_summary(s, seeded, day, now)
        computed[day] = figures
        want = _independent(db, day, now)
        assert want["mentions"] > 1000, day  # a real day of data
        assert figures["complete"] and figures["timezone"] == ZONE
        assert figures["volume"]["by_network"] == want["by_network"]
        assert figures["volume"]["by_sentiment"] == want["by_sentiment"]
        assert figures["volume"]["copies"] == want["copies"] > 0
        overall = figures["sla"]["overall"]
        assert overall["items"] == want["items"] and overall["filed_closed"] == want["filed"]
        assert overall["first_response_median"] == pytest.approx(want["first_median"])
        assert overall["resolution_median"] == pytest.approx(want["resolution_median"])
        assert (overall["met"], overall["breached"]) == (want["met"], want["breached"])
        assert overall["met"] > 0 and overall["breached"] > 0
        assert overall["adherence"] == pytest.approx(want["met"] / (want["met"] + want["breached"]))
        assert sum(figures["volume"]["by_team"].values()) == want["items"]
        # The ten largest, ties by name (the summary's documented rule: the order they were counted in
        # must not decide which of two equal topics is shown).
        ten = sorted(want["topics"].items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        assert [(t["topic"], t["mentions"]) for t in figures["topics"]] == ten
        for net in figures["networks"]:
            assert net["items"] == want["per_network"].get(net["network"], 0)
            assert net["needed_action"] == want["needed"].get(net["network"], 0)
        assert len(figures["notable"]) == 10
        assert len({n["author"] or n["mention"] for n in figures["notable"]}) == 10  # one per author
    # 2026-10-25 lasted 25 hours in Paris: its bounds say so.
    start, end = _bounds(DAYS[1])
    assert end - start == timedelta(hours=25)
    assert computed[DAYS[1]]["start_utc"] == start.isoformat() and computed[DAYS[1]]["end_utc"] == end.isoformat()
    # Against the previous 7 days: the 26th compares with the 25th, 24th and the afternoon of the
    # 23rd (the days before the first mention hold none and are left out of the mean).
    last = computed[DAYS[2]]
    assert [p["day"] for p in last["previous"]][:3] == ["2026-10-25", "2026-10-24", "2026-10-23"]
    counts = [_independent(db, DAYS[2] - timedelta(days=back), now)["mentions"] for back in range(1, 8)]
    assert counts[3:] == [0, 0, 0, 0] and all(counts[:3])
    mean = sum(counts[:3]) / 3
    assert last["comparison"]["mentions"]["previous_mean"] == pytest.approx(mean)
    assert last["comparison"]["mentions"]["change_pct"] == pytest.approx(
        100 * (last["volume"]["mentions"] - mean) / mean)


def test_earlier_days_are_compared_as_they_stood_at_the_same_lag(db: Database, seeded: Settings) -> None:
    # The 26th, summed up at END (7 hours after its end), compares with the 25th as it stood 7 hours
    # after the 25th ended: a post of the 25th collected later than that was not there yet.
    def previous_mentions() -> int:
        with db.read() as s:
            return int(compute_summary(s, seeded, DAYS[2], END)["previous"][0]["mentions"])

    before = previous_mentions()
    day_end = _bounds(DAYS[1])[1]
    for name, collected in (("late", day_end + timedelta(hours=8)), ("in-time", day_end + timedelta(hours=1))):
        ids = inject(db, seeded, [f"Aurelia Bank app {name} post"], collected, 1, prefix=name)
        with db.write.begin() as s:  # posted at 23:00 on the 25th (Paris), collected at `collected`
            s.execute(update(Mention).where(Mention.external_id.in_(ids)).values(
                created_at=day_end - timedelta(hours=1), collected_at=collected))
    assert previous_mentions() == before + 1  # the in-time one only


def test_a_day_in_progress_is_compared_with_the_same_hours_of_the_days_before(db: Database, seeded: Settings) -> None:
    # At 13:30 in Paris on the 26th, the 26th so far compares with midnight to 13:30 of each day
    # before, as it stood at 13:30 that day (the 25th: 25 hours long, its 13:30 after the change).
    now = datetime(2026, 10, 26, 12, 30)  # 13:30 CET
    with db.read() as s:
        figures = compute_summary(s, seeded, DAYS[2], now)
    assert not figures["complete"] and figures["compared_until"] == "13:30"
    zone = ZoneInfo(ZONE)
    want = []
    for back in range(1, 8):
        day = DAYS[2] - timedelta(days=back)
        start = _bounds(day)[0]
        cut = datetime.combine(day, datetime.strptime("13:30", "%H:%M").time(), zone).astimezone(UTC)
        span = {"a": start, "b": cut.replace(tzinfo=None)}
        with db.engine.connect() as conn:
            mentions = conn.execute(text(
                "SELECT count(*) FROM mentions WHERE created_at >= :a AND created_at < :b AND collected_at <= :b "
                "AND duplicate_of_id IS NULL"), span).scalar_one()
            items = conn.execute(text("SELECT count(*) FROM queue_items WHERE created_at >= :a AND created_at < :b"),
                                 span).scalar_one()
        want.append({"day": day.isoformat(), "mentions": mentions, "items": items})
    assert [{k: p[k] for k in ("day", "mentions", "items")} for p in figures["previous"]] == want
    assert want[0]["mentions"] > 500 and want[1]["mentions"] > 500  # real half days
    with db.read() as s:  # the whole 25th is far more than its morning: the comparison is of like with like
        whole = compute_summary(s, seeded, DAYS[2], END)["previous"][0]["mentions"]
    assert whole > want[0]["mentions"] * 1.5
    counted = [w["mentions"] for w in want if w["mentions"]]  # (the stream began on the 23rd's afternoon)
    assert len(counted) == 2
    assert figures["comparison"]["mentions"]["previous_mean"] == pytest.approx(sum(counted) / 2)
    assert "previous,compared,until_local_time,13:30" in summary_csv(figures)


def test_pdf_renders_and_csv_holds_the_figures(db: Database, seeded: Settings, tmp_path: Path) -> None:
    with db.read() as s:
        figures = compute_summary(s, seeded, DAYS[1], END)
    pdf = tmp_path / "summary.pdf"
    pdf.write_bytes(summary_pdf(figures))
    assert shutil.which("pdftoppm"), "pdftoppm is needed: `make test` installs poppler-utils"
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2 and all(p.stat().st_size > 5000 for p in pages)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "A4" in info
    body = summary_csv(figures)
    assert f"headline,2026-10-25,mentions,{figures['volume']['mentions']}," in body
    for network, n in figures["volume"]["by_network"].items():
        assert f"volume.by_network,{network},mentions,{n},," in body


def test_the_job_stores_once_and_mails_the_pdf(db: Database, seeded: Settings, smtp: tuple[Inbox, int],  # noqa: F811
                                               tmp_path: Path) -> None:
    inbox, port = smtp
    channels = parse_notifications({"channels": [
        {"name": "managers", "url": f"mailto://127.0.0.1:{port}?from=vigie@example.com&to=ceo@example.com",
         "events": ["daily_summary"]},
        {"name": "legal-mail", "url": f"mailto://127.0.0.1:{port}?from=vigie@example.com&to=legal@example.com",
         "events": ["daily_summary"], "teams": ["legal"]}]}, set(seeded.team_keys))
    settings = replace(seeded, notifications=channels)
    # 00:10 in Paris on the 27th is before run_at (00:30): the 25th is the last day due, and the days
    # before it since the first mention (the afternoon of the 23rd) are caught up, oldest first.
    early = datetime(2026, 10, 26, 23, 10)
    assert run_daily_summary(db, settings, early) == [date(2026, 10, 23), *DAYS[:2]]
    assert run_daily_summary(db, settings, early) == []  # stored already: nothing more
    late = datetime(2026, 10, 26, 23, 40)
    assert run_daily_summary(db, settings, late) == [DAYS[2]]
    with db.read() as s:
        assert sorted(s.scalars(select(DailySummary.day))) == [date(2026, 10, 23), *DAYS]
        stored = stored_summary(s, DAYS[2])
        assert stored is not None and stored["day"] == "2026-10-26"
        messages = list(s.scalars(select(Notification).order_by(Notification.id)))
    # One message per day, to the managers' channel only (the legal team's channel gets no summary).
    assert [m.summary_day for m in messages] == [date(2026, 10, 23), *DAYS]
    assert {m.channel for m in messages} == {"managers"}
    report = deliver_pending(db, settings, now=late)
    assert report.sent == 4, report
    assert len(inbox.messages) == 4
    mail = inbox.messages[-1]
    assert mail["Subject"] == "Vigie daily summary - Oct 26, 2026" and mail["To"] == "ceo@example.com"
    attachments = [part for part in mail.iter_attachments()]
    assert [a.get_filename() for a in attachments] == ["vigie-summary-2026-10-26.pdf"]
    received = tmp_path / "received.pdf"
    received.write_bytes(attachments[0].get_content())
    info = subprocess.run(["pdfinfo", str(received)], capture_output=True, text=True, check=True).stdout
    assert "Pages:" in info and int(info.split("Pages:")[1].split()[0]) >= 2
    text_part = mail.get_body(preferencelist=("plain",))
    assert text_part is not None and "Mentions:" in text_part.get_content()


def test_a_day_stored_by_hand_before_the_job_is_still_sent_with_those_figures(db: Database,
                                                                               seeded: Settings) -> None:
    channels = parse_notifications({"channels": [
        {"name": "managers", "url": "mailto://127.0.0.1:9?from=vigie@example.com&to=ceo@example.com",
         "events": ["daily_summary"]}]}, set(seeded.team_keys))
    settings = replace(seeded, notifications=channels)
    by_hand = datetime(2026, 10, 26, 23, 20)  # `vigie summary --store` at 00:20, before the job's 00:30
    with db.write.begin() as s:
        store_summary(s, compute_summary(s, settings, DAYS[2], by_hand), by_hand)
    late = datetime(2026, 10, 26, 23, 40)
    assert run_daily_summary(db, settings, late) == [date(2026, 10, 23), *DAYS]
    assert run_daily_summary(db, settings, late) == []  # announced: never twice
    with db.read() as s:
        row = s.get(DailySummary, DAYS[2])
        assert row is not None and row.computed_at == by_hand and row.announced_at == late  # its figures kept
        messages = list(s.scalars(select(Notification).where(Notification.summary_day == DAYS[2])))
    assert len(messages) == 1 and messages[0].channel == "managers"


def _pdf_text(pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    assert shutil.which("pdftotext"), "pdftotext is needed: `make test` installs poppler-utils"
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return _spaced(text)


def _spaced(text: str) -> str:
    """No-break spaces (U+00A0, U+202F: French numbers) as pdftotext gives them back, plain."""
    return re.sub("[\u00a0\u202f]", " ", text)


def test_the_pdf_in_french_reads_french_with_french_numbers(db: Database, seeded: Settings, tmp_path: Path) -> None:
    with db.read() as s:
        figures = compute_summary(s, seeded, DAYS[1], END)
    french = Reader("fr", ZoneInfo(ZONE))
    text = _pdf_text(summary_pdf(figures, french), tmp_path, "fr.pdf")
    mentions = figures["volume"]["mentions"]
    assert mentions > 1000
    for heading in ("Vigie — synthèse quotidienne du 25 octobre 2026", "L’essentiel, comparé à la moyenne des 7 "
                    "jours précédents", "Respect du SLA", "Toutes les", "Dépassés", "Éléments marquants",
                    "Les 7 jours précédents", "Journée Europe/Paris (complète)", "Jours précédents : journées"):
        assert heading in text, heading
    assert "\u202f" in formats.number(mentions, french) and _spaced(formats.number(mentions, french)) in text
    adherence = figures["sla"]["overall"]["adherence"]
    assert re.search(r"\b\d+,\d %", text) and _spaced(fmt("adherence", adherence, french)) in text  # 51,6 %
    assert "24 oct. 2026" in text  # the previous days, as French writes them
    assert re.search(r"\n\s*\d+\s+critique\s", text)  # the notable items' priority
    assert f"{mentions:,}" not in text and "Headline" not in text and "2026-10-24" not in text

    english = _pdf_text(summary_pdf(figures, Reader("en", ZoneInfo(ZONE))), tmp_path, "en.pdf")
    assert "Vigie daily summary — October 25, 2026" in english and f"{mentions:,}" in english
    assert "Headline, against the mean of the previous 7 days" in english and "synthèse" not in english


def test_a_french_channel_gets_the_summary_and_its_pdf_in_french(db: Database, seeded: Settings,
                                                                 smtp: tuple[Inbox, int],  # noqa: F811
                                                                 tmp_path: Path) -> None:
    inbox, port = smtp
    channels = parse_notifications({"channels": [
        {"name": "direction", "url": f"mailto://127.0.0.1:{port}?from=vigie@example.com&to=direction@example.com",
         "events": ["daily_summary"], "language": "fr"},
        {"name": "managers", "url": f"mailto://127.0.0.1:{port}?from=vigie@example.com&to=ceo@example.com",
         "events": ["daily_summary"]}]}, set(seeded.team_keys))
    settings = replace(seeded, notifications=channels)
    late = datetime(2026, 10, 26, 23, 40)
    with db.write.begin() as s:  # the earlier days announced already: only the 26th is sent
        for day in (date(2026, 10, 23), *DAYS[:2]):
            store_summary(s, compute_summary(s, settings, day, late), late).announced_at = late
    assert run_daily_summary(db, settings, late) == [DAYS[2]]
    assert deliver_pending(db, settings, now=late).sent == 2
    mails = {m["to"]: m for m in inbox.messages}
    french, english = mails["direction@example.com"], mails["ceo@example.com"]
    assert french["Subject"] == "Vigie – synthèse quotidienne du 26 oct. 2026"
    assert english["Subject"] == "Vigie daily summary - Oct 26, 2026"
    body = french.get_body(preferencelist=("plain",))
    assert body is not None
    text = _spaced(body.get_content())
    with db.read() as s:
        mentions = compute_summary(s, settings, DAYS[2], late)["volume"]["mentions"]
    assert text.startswith("Synthèse quotidienne du 26 oct. 2026 (Europe/Paris), PDF joint.")
    assert f"Mentions : {_spaced(formats.number(mentions, Reader('fr')))} (7 jours précédents : " in text
    assert "Respect du SLA : " in text and "La consulter dans Vigie : " in text and "previous" not in text
    attachment = next(iter(french.iter_attachments()))
    assert attachment.get_filename() == "vigie-summary-2026-10-26.pdf"
    pdf = _pdf_text(attachment.get_content(), tmp_path, "received.pdf")
    assert "Vigie — synthèse quotidienne du 26 octobre 2026" in pdf and "Respect du SLA" in pdf
    assert _spaced(formats.number(mentions, Reader("fr"))) in pdf
    english_pdf = _pdf_text(next(iter(english.iter_attachments())).get_content(), tmp_path, "en.pdf")
    assert "Vigie daily summary — October 26, 2026" in english_pdf and f"{mentions:,}" in english_pdf


def test_the_pdf_export_is_in_the_readers_language(db: Database, seeded: Settings, tmp_path: Path) -> None:
    """/summary/export.pdf writes for whoever asks: the account's language and zone (a manager who
    chose French, in New York), else the browser's language."""
    with db.write.begin() as s:
        store_summary(s, compute_summary(s, seeded, DAYS[1], END), END)
    server = app_server(db, seeded)
    make_accounts(db, seeded)
    with db.write.begin() as s:
        for name in ("directrice", "cfo"):
            add_user(s, name, "manager", (), PASSWORD, seeded.team_keys, actor="test")
        set_preferences(s, "manager", "fr", "America/New_York")
    pdfs = {}
    for who, language in (("manager", "en"), ("directrice", "fr-FR,fr;q=0.9"), ("cfo", "en-GB")):
        client = server.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        assert sign_in(client, who).status_code == 302
        reply = client.get("/summary/export.pdf?date=2026-10-25")
        assert reply.status_code == 200 and reply.mimetype == "application/pdf"
        pdfs[who] = _pdf_text(reply.data, tmp_path, f"{who}.pdf")
    assert "Vigie — synthèse quotidienne du 25 octobre 2026" in pdfs["manager"]  # the account's choice
    assert "calculée le 27 oct. 2026, 02:00 UTC-04:00" in pdfs["manager"]  # the account's zone
    assert "Vigie — synthèse quotidienne du 25 octobre 2026" in pdfs["directrice"]  # the browser's language
    assert "calculée le 27 oct. 2026, 07:00 UTC+01:00" in pdfs["directrice"]  # the firm's zone
    assert "Vigie daily summary — October 25, 2026" in pdfs["cfo"]


def test_the_command_prints_and_exports(db: Database, seeded: Settings, tmp_path: Path, db_url: str) -> None:
    cfg = config_dir(tmp_path, "cfg", base=seeded.config_dir, reporting=f"timezone: {ZONE}\n")
    env = vigie_env(db_url, config=cfg)
    out = subprocess.run([VIGIE, "summary", "--date", "2026-10-24", "--pdf", str(tmp_path / "d.pdf"), "--csv",
                          str(tmp_path / "d.csv")], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    with db.read() as s:
        figures = compute_summary(s, seeded, DAYS[0])
    assert f"{figures['volume']['mentions']:,}" in out.stdout
    assert (tmp_path / "d.pdf").read_bytes()[:4] == b"%PDF" and "volume.by_network" in (tmp_path / "d.csv").read_text()
    assert "Vigie daily summary — October 24, 2026" in _pdf_text((tmp_path / "d.pdf").read_bytes(), tmp_path, "e.pdf")
    fr = subprocess.run([VIGIE, "summary", "--date", "2026-10-24", "--pdf", str(tmp_path / "f.pdf"),
                         "--language", "fr"], env=env, capture_output=True, text=True, timeout=120)
    assert fr.returncode == 0, fr.stderr
    french = _pdf_text((tmp_path / "f.pdf").read_bytes(), tmp_path, "f2.pdf")
    assert "Vigie — synthèse quotidienne du 24 octobre 2026" in french
    assert f"{_spaced(formats.number(figures['volume']['mentions'], Reader('fr')))}" in french
    bad = subprocess.run([VIGIE, "summary", "--date", "24/10/2026"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "expected a date like 2026-11-24, got '24/10/2026'" in bad.stderr
    nowhere = subprocess.run([VIGIE, "summary", "--date", "2026-10-24", "--pdf", str(tmp_path / "no" / "d.pdf")],
                             env=env, capture_output=True, text=True)
    assert nowhere.returncode == 2 and f"no folder {tmp_path / 'no'} to write d.pdf in" in nowhere.stderr
    today = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()  # not over in any time zone
    early = subprocess.run([VIGIE, "summary", "--date", today, "--store"], env=env, capture_output=True, text=True)
    assert early.returncode == 2 and f"{today} is not over yet" in early.stderr
    with db.read() as s:
        assert s.scalars(select(DailySummary)).first() is None  # neither stored


def test_a_summary_message_without_its_summary_is_given_up_with_the_reason(db: Database, seeded: Settings) -> None:
    channels = parse_notifications({"channels": [
        {"name": "managers", "url": "mailto://127.0.0.1:9?from=vigie@example.com&to=ceo@example.com",
         "events": ["daily_summary"]}]}, set(seeded.team_keys))
    settings = replace(seeded, notifications=channels)
    with db.write.begin() as s:
        s.add(Notification(created_at=END, event="daily_summary", channel="managers", title="t", body="b",
                           status="pending", attempts=0, summary_day=date(2026, 1, 1)))
    report = deliver_pending(db, settings, now=END)
    assert report.failed == 1 and report.sent == 0
    with db.read() as s:
        row = s.scalars(select(Notification)).one()
    assert (row.status, row.last_error) == ("failed", "the summary of this day is not stored")


def test_a_new_install_stores_no_empty_summaries(db: Database, settings: Settings) -> None:
    assert run_daily_summary(db, settings, END) == []  # no mention at all: nothing to report
    with db.read() as s:
        assert s.scalars(select(DailySummary)).first() is None
