"""The daily summary's exports on the seeded days (tests/summary_days.py): the PDF renders with
pdftoppm, in the reader's language; the CSV holds the figures; the collector's job stores it once
and its e-mail reaches a local SMTP server with the PDF attached; the command prints and exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import select

from collectors.jobs.daily_summary import run_daily_summary
from collectors.jobs.notify import deliver_pending
from config.notifications import parse_notifications
from config.settings import Settings
from i18n import Reader, formats, use_reader
from models.db import Database
from models.summary import compute_summary, store_summary, stored_summary
from models.summary_export import fmt, summary_csv, summary_pdf
from models.tables import Alert, DailySummary, Notification
from models.users import add_user, set_preferences
from tests.integration.test_notifications import Inbox, smtp  # noqa: F401  (the local SMTP server fixture)
from tests.kit import config_dir, vigie_env
from tests.summary_days import DAYS, END, ZONE
from tests.support import VIGIE
from tests.web import PASSWORD, app_server, children_text, find_id, make_accounts, sign_in


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


def _with_a_surge(db: Database, seeded: Settings) -> dict[str, Any]:
    """The seeded day's figures with a volume surge on the outage topic opened that morning."""
    opened = datetime(2026, 10, 25, 10, 0)
    with db.write.begin() as s:
        s.add(Alert(kind="volume_surge", scope="topic", scope_key="outage", opened_at=opened, last_seen_at=opened,
                    window_minutes=10, observed=64, expected=5.1, z=4.2, peak_observed=64, mentions_in_window=64,
                    summary="Volume surge · topic outage: 64 mentions in 10 min (usually 5.1, z 4.2)",
                    mention_ids=[]))
    with db.read() as s:
        return compute_summary(s, seeded, DAYS[1], END)


def test_the_pdf_names_teams_and_topics_in_the_readers_language(db: Database, seeded: Settings,
                                                               tmp_path: Path) -> None:
    """With the settings, a French PDF names teams, risk flags and routing rules as the configuration does in
    French, and says a spike alert from its figures (its stored line is English)."""
    figures = _with_a_surge(db, seeded)
    topics = [t["topic"] for t in figures["topics"]]
    assert "card_issue" in topics and figures["volume"]["by_team"].get("Customer service")
    assert figures["alerts"] and figures["alerts"][0]["summary"].startswith("Volume surge · topic outage: 64")
    french = Reader("fr", ZoneInfo(ZONE))
    named = _pdf_text(summary_pdf(figures, french, seeded), tmp_path, "named.pdf")
    assert "Problème de carte" in named and "Service client" in named
    french_rules = {r.id: r.descriptions["fr"] for r in seeded.rules}
    assert all(french_rules[i["rule"]] in named for i in figures["issues"])  # routing rules by their French
    assert "card_issue" not in named and "Customer service" not in named
    assert "Pic de volume · thème Panne : 64 mentions en 10 min (d’habitude 5,1, z 4,2)" in named
    assert "Volume surge" not in named
    plain = _pdf_text(summary_pdf(figures, french), tmp_path, "plain.pdf")  # no settings: as stored
    assert "card_issue" in plain and "Customer service" in plain


def test_the_summary_page_names_rules_topics_and_alerts_in_french(web: Any, db: Database, seeded: Settings) -> None:
    """The page a French manager reads: routing rules, risk flags and a spike alert in French, and
    what its first-response median counts (the wall's counts otherwise)."""
    from dashboard.pages.summary import render  # a page module: imported once the app exists

    figures = _with_a_surge(db, seeded)
    with web.server.app_context(), use_reader(Reader("fr", ZoneInfo(ZONE))):
        page = json.loads(json.dumps(render(figures, True), cls=PlotlyJSONEncoder))
    topics = " ".join(children_text(find_id(page, "summary-topics")))
    issues = " ".join(children_text(find_id(page, "summary-issues")))
    alerts = " ".join(children_text(find_id(page, "summary-alerts")))
    assert "Problème de carte" in topics and "card_issue" not in topics
    assert "Problème de service (panne, carte, frais, accès au compte)" in issues and "Service problem" not in issues
    assert "Pic de volume · thème Panne : 64 mentions" in alerts and "Volume surge" not in alerts
    assert "la médiane du mur porte sur les éléments pris en charge depuis minuit" in " ".join(
        children_text(find_id(page, "summary-first-response")))


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
