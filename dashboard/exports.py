"""``GET /audit/export.csv`` and ``/audit/export.jsonl``: the audit trail for auditors; and
``/summary/export.pdf`` and ``.csv``: the daily summary of ``?date=``.

Streamed from the database page by page (`models.audit.iter_events`), so an export of
millions of events holds one page in memory. Compliance officers and admins only (the
guard's `ROUTE_POLICY`); each export is itself recorded in the audit trail. CSV cells are
neutralised against formula injection (`models.audit.safe_cell`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask, Response, request, stream_with_context

from dashboard.auth.guard import current_principal
from dashboard.auth.login import audit
from dashboard.context import current
from models.audit import CSV_COLUMNS, csv_row, event_record, iter_events
from models.ids import no_such, parse_id

EXPORT_ROLES = ("compliance", "admin")


class BadQuery(ValueError):
    pass


def _when(name: str, end_of_day: bool = False) -> datetime | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadQuery(f"{name}: expected a date like 2026-11-25 or a UTC time, got {raw[:40]!r}") from None
    if end_of_day and len(raw) == 10:  # a date: up to the end of that day
        value += timedelta(days=1)
    return value


def filters() -> dict[str, object]:
    item = (request.args.get("item") or "").strip()
    item_id = parse_id(item) if item else None
    if item and item_id is None:
        raise BadQuery(f"item: {no_such('item', item)} (expected an item number)")
    return {"since": _when("since"), "until": _when("until", end_of_day=True),
            "item_id": item_id, "actor": (request.args.get("actor") or "").strip() or None}


def _rows(fmt: str, wanted: dict[str, object]) -> Iterator[str]:
    with current().db.read() as session:
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(CSV_COLUMNS)
            for event in iter_events(session, replies=True, **wanted):  # type: ignore[arg-type]
                writer.writerow(csv_row(event))
                if buffer.tell() > 64_000:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()
        else:
            for event in iter_events(session, replies=True, **wanted):  # type: ignore[arg-type]
                yield json.dumps(event_record(event), ensure_ascii=False) + "\n"


def export(fmt: str) -> Response:
    try:
        wanted = filters()
    except BadQuery as exc:
        return Response(str(exc), status=400, mimetype="text/plain")
    principal = current_principal()
    assert principal is not None  # the guard let only signed-in compliance officers and admins here
    audit(principal.name, "audit.export", {"format": fmt, **{k: str(v) for k, v in wanted.items() if v is not None}})
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    mimetype = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return Response(stream_with_context(_rows(fmt, wanted)), mimetype=f"{mimetype}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="vigie-audit-{stamp}.{fmt}"'})


def register_exports(server: Flask) -> None:
    server.add_url_rule("/audit/export.csv", "vigie_audit_csv", lambda: export("csv"))
    server.add_url_rule("/audit/export.jsonl", "vigie_audit_jsonl", lambda: export("jsonl"))


# --- the daily summary ------------------------------------------------------------------------


_computed: dict[date, tuple[datetime, dict[str, Any]]] = {}  # days without a stored summary, per worker
COMPUTED_FOR = timedelta(seconds=60)


def default_summary_day() -> date:
    """The day /summary shows without ``?date=``: the newest stored summary, or today so far."""
    from models.summary import local_day, stored_days
    from models.tables import utcnow

    ctx = current()
    with ctx.db.pages() as session:
        newest = stored_days(session, limit=1)
    return newest[0] if newest else local_day(utcnow(), ctx.settings.reporting.timezone)


def summary_figures(raw: Any) -> tuple[dict[str, Any], bool]:
    """The figures of ``?date=`` (default: the newest stored summary, or today so far when none is
    stored yet): the stored summary, or computed now when none is stored (a day in progress, or
    one before the scheduler ran; kept a minute, so that reloading the page does not compute it
    again); and whether stored."""
    from models.summary import FIRST_DAY, LAST_DAY, compute_summary, stored_summary
    from models.tables import utcnow

    ctx = current()
    text = (raw[0] if isinstance(raw, list) and raw else raw if isinstance(raw, str) else "").strip()
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        raise BadQuery(f"date: expected a date like 2026-11-24, got {text[:20]!r}") from None
    if day is None:
        day = default_summary_day()
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadQuery(f"date: expected a day from {FIRST_DAY} to {LAST_DAY}, got {day}")
    with ctx.db.pages() as session:
        stored = stored_summary(session, day)
        if stored is not None:
            return stored, True
        now = utcnow()
        cached = _computed.get(day)
        if cached is not None and now - cached[0] < COMPUTED_FOR:
            return cached[1], False
        figures = compute_summary(session, ctx.settings, day, now)
    if len(_computed) > 50:
        _computed.clear()
    _computed[day] = (now, figures)
    return figures, False


def summary_export(fmt: str) -> Response:
    from models.summary_export import summary_csv, summary_pdf

    try:
        figures, _stored = summary_figures(request.args.get("date"))
    except BadQuery as exc:
        return Response(str(exc), status=400, mimetype="text/plain")
    name = f"vigie-summary-{figures['day']}.{fmt}"
    if fmt == "pdf":
        return Response(summary_pdf(figures, settings=current().settings), mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return Response(summary_csv(figures), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def register_summary_exports(server: Flask) -> None:
    server.add_url_rule("/summary/export.pdf", "vigie_summary_pdf", lambda: summary_export("pdf"))
    server.add_url_rule("/summary/export.csv", "vigie_summary_csv", lambda: summary_export("csv"))
