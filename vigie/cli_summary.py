"""`vigie summary`: the managers' daily summary from the command line.

    vigie summary [--date YYYY-MM-DD] [--pdf FILE [--language en|fr]] [--csv FILE] [--store]

Computes the summary of the day (default: yesterday in the `reporting.yaml` time zone) as the
database stands now, prints it, and writes the PDF (in ``--language``, English by default, times in
the `reporting.yaml` zone) and CSV exports when asked. It changes
nothing unless ``--store`` is given: then the figures replace the day's stored summary (the one
/summary shows; the collector's `summary:daily` stores each day once, at 00:30, and sends it),
for instance after posts of that day arrived late. Only a day that is over can be stored.
``--store`` sends nothing itself; a day the collector had not yet sent is sent by it at its next
run, with the figures stored.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from i18n import LANGUAGES, Reader
from models.summary import FIRST_DAY, LAST_DAY, compute_summary, day_bounds, local_day, store_summary
from models.summary_export import change_text, compared_text, fmt, label, summary_csv, summary_pdf
from models.tables import utcnow
from vigie.common import checked_settings, open_current


def _day(value: str | None, timezone: str) -> date:
    if value is None:
        return local_day(utcnow(), timezone) - timedelta(days=1)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"expected a date like 2026-11-24, got {value!r}", param_hint="--date") from None


def render_text(figures: dict[str, Any]) -> str:
    """The summary as plain text (what the command prints)."""
    out = [f"Vigie daily summary {figures['day']} ({figures['timezone']}"
           f"{'' if figures['complete'] else ', day in progress'})", ""]
    out.append(f"Compared with the mean of the previous 7 days: {compared_text(figures)}.")
    out.append(f"{'figure':<30} {'this day':>12} {'prev. 7 days':>13} {'change':>7}")
    for key, c in figures["comparison"].items():
        out.append(f"{label(key):<30} {fmt(key, c['value']):>12} {fmt(key, c['previous_mean']):>13} "
                   f"{change_text(c['change_pct']):>7}")
    vol = figures["volume"]
    out += ["", "Mentions by network: " + ", ".join(f"{k} {v:,}" for k, v in vol["by_network"].items()),
            "Mentions by sentiment: " + ", ".join(f"{k} {v:,}" for k, v in vol["by_sentiment"].items()),
            "Items by team: " + ", ".join(f"{k} {v:,}" for k, v in vol["by_team"].items()), "", "SLA by team:"]
    for team, s in [("All teams", figures["sla"]["overall"]), *figures["sla"]["teams"].items()]:
        out.append(f"  {team}: {s['items']:,} items, first response median {fmt('', s['first_response_median'])} min,"
                   f" resolution median {fmt('', s['resolution_median'])} min, {s['met']:,} met, "
                   f"{s['breached']:,} breached, adherence {fmt('adherence', s['adherence'])}")
    out += ["", "Top issues: " + "; ".join(f"{i['description']} ({i['items']:,})" for i in figures["issues"]),
            "Top topics: " + ", ".join(f"{t['topic']} ({t['mentions']:,})" for t in figures["topics"]),
            "Networks that brought work: " + ", ".join(
                f"{n['network']} {n['needed_action']:,}/{n['items']:,}" for n in figures["networks"]),
            f"Alerts: {len(figures['alerts'])}", "Notable items:"]
    out += [f"  #{n['item']} {n['priority']} {n['network']} {n['author']}: {n['text'][:100]}"
            for n in figures["notable"]]
    return "\n".join(out)


@click.command("summary")
@click.option("--date", "day_text", default=None, metavar="YYYY-MM-DD", help="The day (default: yesterday, local).")
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the PDF report here.")
@click.option("--language", type=click.Choice(LANGUAGES), default=LANGUAGES[0], show_default=True,
              help="The PDF's language.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the figures as CSV here.")
@click.option("--store", is_flag=True, help="Replace the day's stored summary with these figures (sends nothing).")
def summary(day_text: str | None, pdf_path: Path | None, language: str, csv_path: Path | None, store: bool) -> None:
    """Compute, print and export the managers' summary of one day."""
    settings = checked_settings()
    day = _day(day_text, settings.reporting.timezone)
    db = open_current(settings)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise click.BadParameter(f"expected a day from {FIRST_DAY} to {LAST_DAY}, got {day}", param_hint="--date")
    for path, option in ((pdf_path, "--pdf"), (csv_path, "--csv")):
        if path is not None and not path.resolve().parent.is_dir():
            raise click.BadParameter(f"no folder {path.resolve().parent} to write {path.name} in", param_hint=option)
    day_end = day_bounds(day, settings.reporting.timezone)[1]
    if store and utcnow() < day_end:
        raise click.BadParameter(f"{day} is not over yet (it ends at {day_end:%Y-%m-%d %H:%M} UTC): only a whole "
                                 "day can be stored", param_hint="--store")
    with db.read() as session:
        figures = compute_summary(session, settings, day)
    click.echo(render_text(figures))
    if store:
        with db.write.begin() as session:
            store_summary(session, figures)
        click.echo(f"stored as the summary of {day}")
    if pdf_path is not None:
        pdf_path.write_bytes(summary_pdf(figures, Reader(language, ZoneInfo(settings.reporting.timezone)), settings))
        click.echo(f"PDF written to {pdf_path}")
    if csv_path is not None:
        csv_path.write_text(summary_csv(figures), encoding="utf-8")
        click.echo(f"CSV written to {csv_path}")
