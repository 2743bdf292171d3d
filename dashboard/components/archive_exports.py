"""The /archive page's exports for auditors: a selection (dates, a hold's matter, an author, an
item; restricted authors included only when asked, compliance being the only role here), run
into ``var/exports/<UTC timestamp>/`` by `models.archive_export` (the records waiting are sealed
first, so the export holds everything written before it), recorded (who, what, the manifest's
SHA-256), zipped beside the folder, and offered for download through a guarded route
(`dashboard.archive_download`).

An export runs inside the request: the page refuses selections over `PAGE_EXPORT_LIMIT` records
and names the command for those (`vigie archive export`, streamed with a progress bar).
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate
from flask import current_app

from dashboard.auth.guard import current_principal, guarded
from dashboard.components.archive_holds import matter_options
from dashboard.components.when import number
from dashboard.context import current
from i18n import _, ngettext
from models import archive_export, holds
from models.archive_formats import FORMATS
from models.ids import parse_id, shown
from models.tables import utcnow

EXPORT_ROLES: tuple[str, ...] = ("compliance",)
PAGE_EXPORT_LIMIT = 50_000  # records: more is the command's work
ACTOR = "archive page"  # untranslated: the actor named in the archive (data)


def export_root() -> Path:
    """Where the page's exports go (``VIGIE_EXPORT_ROOT`` in the Flask config, for tests; var/exports)."""
    return Path(current_app.config.get("VIGIE_EXPORT_ROOT", "var/exports"))


def export_name(now: datetime, root: Path) -> str:
    """A new folder name under ``root``: the UTC time, with -2, -3… when taken."""
    base = now.strftime("%Y%m%dT%H%M%SZ")
    name, n = base, 1
    while (root / name).exists() or (root / f"{name}.zip").exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _day(value: Any, end: bool = False) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        start = datetime.fromisoformat(value.strip()[:10])
    except ValueError:
        raise archive_export.ExportError(_("{value}: expected a date like 2026-01-31").format(
            value=repr(value[:20]))) from None
    return start + timedelta(days=1) if end else start


def selection(since: Any, until: Any, hold_id: Any, author: Any, mention: Any,
              restricted: Any) -> archive_export.Selection:
    item = parse_id(mention) if mention not in (None, "") else None
    if mention not in (None, "") and item is None:
        raise archive_export.ExportError(_("Item: no such mention: {value}: expected a mention id").format(
            value=shown(mention)))
    hold = parse_id(hold_id) if hold_id not in (None, "") else None
    if hold_id not in (None, "") and hold is None:
        raise archive_export.ExportError(_("Matter: no such hold: {value}").format(value=shown(hold_id)))
    start, end = _day(since), _day(until, end=True)
    if start and end and end <= start:
        raise archive_export.ExportError(_("The range is empty: “To” must not come before “From”."))
    return archive_export.Selection(
        since=start, until=end, hold_id=hold,
        author=author.strip()[:300] if isinstance(author, str) and author.strip() else None, mention_id=item,
        include_restricted=bool(restricted))


def section() -> Any:
    with current().db.read() as session:
        options = matter_options(holds.all_holds(session, 200))

    def field(label: str, ident: str, kind: str = "text", placeholder: str = "", md: int = 2) -> Any:
        return dbc.Col([dbc.Label(label, html_for=ident, className="small mb-0"),
                        dbc.Input(id=ident, type=kind, placeholder=placeholder, size="sm")], md=md)

    return html.Div([
        html.P(_("An export holds the chosen records as JSONL, RFC 5322 messages (EML) and CSV, with a manifest of "
                 "their ids, hashes and segment proofs; an auditor checks it offline with "
                 "`vigie archive verify-export DIR`. Exports are defined in UTC: the dates below are UTC days, "
                 "and the files keep UTC times."), className="small text-muted"),
        dbc.Row([field(_("From (UTC date)"), "archive-export-since", "date"),
                 field(_("To (UTC date)"), "archive-export-until", "date"),
                 dbc.Col([dbc.Label(_("Legal hold (its matter)"), html_for="archive-export-hold",
                                    className="small mb-0"),
                          dcc.Dropdown(id="archive-export-hold", options=options, placeholder=_("any"))], md=3),
                 field(_("Author"), "archive-export-author", placeholder="network:handle"),
                 field(_("Item (mention id)"), "archive-export-item", "number")], className="g-2 mb-2"),
        html.Fieldset([html.Legend(_("Formats"), className="small mb-0 fs-6"),
                       dbc.Checklist(id="archive-export-formats", options=list(FORMATS), value=list(FORMATS),
                                     inline=True, className="mb-2")]),
        dbc.Checkbox(id="archive-export-restricted", value=False, className="mb-2",
                     label=_("Include the records of restricted authors (marked restricted)")),
        dbc.Button(_("Export"), id="archive-export-run", color="primary", size="sm"),
        dcc.Loading(html.Div(id="archive-export-result", className="mt-3")),
    ])


def build_summary(name: str, summary: archive_export.ExportSummary, sealed: int) -> Any:
    exported = ngettext("{count} record exported to {folder}", "{count} records exported to {folder}",
                        summary.records).format(count=number(summary.records), folder=export_root() / name)
    files = ngettext("{count} file", "{count} files", summary.files).format(count=number(summary.files))
    tombstones = ngettext("{count} tombstone", "{count} tombstones", summary.tombstones).format(
        count=number(summary.tombstones))
    detail = _("{files}; {tombstones}, {included} restricted included, {left_out} restricted left out, "
               "{meanwhile} written meanwhile left out").format(
        files=files, tombstones=tombstones, included=number(summary.restricted),
        left_out=number(summary.restricted_left_out), meanwhile=number(summary.unsealed_left_out))
    lines = [_("{exported} ({detail}).").format(exported=exported, detail=detail),
             _("Manifest SHA-256: {hash} (kept in the archive’s export record).").format(hash=summary.manifest_sha256),
             _("Head: segment {seq} {hash}.").format(seq=summary.head_seq, hash=summary.head) if summary.head
             else _("No segment yet.")]
    if sealed:
        lines.append(ngettext("{count} record waiting was sealed first.", "{count} records waiting were sealed first.",
                              sealed).format(count=number(sealed)))
    return dbc.Alert([*[html.Div(line) for line in lines],
                      *[html.Div(_("Warning: {problem}").format(problem=p), className="text-danger")
                        for p in summary.problems],
                      dbc.Button(_("Download (zip)"), href=f"/archive/exports/{name}.zip", external_link=True,
                                 color="success", size="sm", className="mt-2", id="archive-export-download")],
                     color="warning" if summary.problems else "success", id="archive-export-summary")


@callback(
    Output("archive-export-result", "children"),
    Input("archive-export-run", "n_clicks"),
    State("archive-export-since", "value"),
    State("archive-export-until", "value"),
    State("archive-export-hold", "value"),
    State("archive-export-author", "value"),
    State("archive-export-item", "value"),
    State("archive-export-formats", "value"),
    State("archive-export-restricted", "value"),
    prevent_initial_call=True,
)
@guarded(*EXPORT_ROLES)
def run_export(clicks: int | None, since: Any, until: Any, hold_id: Any, author: Any, mention: Any, formats: Any,
               restricted: Any) -> Any:
    """Seal, export into a new folder, record who exported what, zip it; the summary and the link."""
    principal = current_principal()
    assert principal is not None  # guarded
    if not clicks or dash.ctx.triggered_id != "archive-export-run":
        raise PreventUpdate
    chosen = tuple(f for f in FORMATS if isinstance(formats, list) and f in formats)
    db, root = current().db, export_root()
    try:
        if not chosen:
            raise archive_export.ExportError(_("choose at least one format"))
        wanted = selection(since, until, hold_id, author, mention, restricted and principal.role == "compliance")
        with db.read() as session:
            count = archive_export.count_selection(session, wanted, cap=PAGE_EXPORT_LIMIT + 1)
        if count > PAGE_EXPORT_LIMIT:
            raise archive_export.ExportError(_("Over {limit} records: narrow the selection, or run "
                                               "`vigie archive export` (streamed, any size).").format(
                limit=number(PAGE_EXPORT_LIMIT)))
        sealed = archive_export.seal_waiting(db, ACTOR)
        root.mkdir(parents=True, exist_ok=True)
        name = export_name(utcnow(), root)
        with db.read() as session:
            if not db.is_sqlite:  # one snapshot: writes committed meanwhile do not tear the export
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})  # untranslated: SQL
            summary = archive_export.export_archive(session, root / name, wanted, chosen)
        with db.write.begin() as session:
            archive_export.record_export(session, principal.name, wanted, chosen, summary)
        shutil.make_archive(str(root / name), "zip", root_dir=root, base_dir=name)
    except archive_export.ExportError as exc:
        return dbc.Alert(str(exc), color="danger", id="archive-export-summary")
    except OSError as exc:
        return dbc.Alert(_("Cannot write the export: {error}").format(error=exc.strerror or exc), color="danger",
                         id="archive-export-summary")
    return build_summary(name, summary, sealed)
