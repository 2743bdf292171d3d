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
from dashboard.context import current
from models import archive_export, holds
from models.archive_formats import FORMATS
from models.ids import no_such, parse_id
from models.tables import utcnow

EXPORT_ROLES: tuple[str, ...] = ("compliance",)
PAGE_EXPORT_LIMIT = 50_000  # records: more is the command's work
ACTOR = "archive page"


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
        raise archive_export.ExportError(f"{value[:20]!r}: expected a date like 2026-01-31") from None
    return start + timedelta(days=1) if end else start


def selection(since: Any, until: Any, hold_id: Any, author: Any, mention: Any,
              restricted: Any) -> archive_export.Selection:
    item = parse_id(mention) if mention not in (None, "") else None
    if mention not in (None, "") and item is None:
        raise archive_export.ExportError(f"item: {no_such('mention', mention)}: expected a mention id")
    hold = parse_id(hold_id) if hold_id not in (None, "") else None
    if hold_id not in (None, "") and hold is None:
        raise archive_export.ExportError(f"matter: {no_such('hold', hold_id)}")
    start, end = _day(since), _day(until, end=True)
    if start and end and end <= start:
        raise archive_export.ExportError("the range is empty: “to” must not come before “from”")
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
        html.P("An export holds the chosen records as JSONL, RFC 5322 messages (EML) and CSV, with a manifest of "
               "their ids, hashes and segment proofs; an auditor checks it offline with "
               "`vigie archive verify-export DIR`.", className="small text-muted"),
        dbc.Row([field("From (UTC date)", "archive-export-since", "date"),
                 field("To (UTC date)", "archive-export-until", "date"),
                 dbc.Col([dbc.Label("Legal hold (its matter)", html_for="archive-export-hold", className="small mb-0"),
                          dcc.Dropdown(id="archive-export-hold", options=options, placeholder="any")], md=3),
                 field("Author", "archive-export-author", placeholder="network:handle"),
                 field("Item (mention id)", "archive-export-item", "number")], className="g-2 mb-2"),
        dbc.Checklist(id="archive-export-formats", options=list(FORMATS), value=list(FORMATS), inline=True,
                      className="mb-2"),
        dbc.Checkbox(id="archive-export-restricted", value=False, className="mb-2",
                     label="Include the records of restricted authors (marked restricted)"),
        dbc.Button("Export", id="archive-export-run", color="primary", size="sm"),
        dcc.Loading(html.Div(id="archive-export-result", className="mt-3")),
    ])


def build_summary(name: str, summary: archive_export.ExportSummary, sealed: int) -> Any:
    lines = [f"{summary.records} record(s) exported to {export_root() / name} ({summary.files} file(s); "
             f"{summary.tombstones} tombstone(s), {summary.restricted} restricted included, "
             f"{summary.restricted_left_out} restricted left out, {summary.unsealed_left_out} written meanwhile "
             "left out).",
             f"Manifest SHA-256: {summary.manifest_sha256} (kept in the archive's export record).",
             f"Head: segment {summary.head_seq} {summary.head}." if summary.head else "No segment yet."]
    if sealed:
        lines.append(f"{sealed} record(s) waiting were sealed first.")
    return dbc.Alert([*[html.Div(line) for line in lines],
                      *[html.Div(f"WARNING {p}", className="text-danger") for p in summary.problems],
                      dbc.Button("Download (zip)", href=f"/archive/exports/{name}.zip", external_link=True,
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
            raise archive_export.ExportError("choose at least one format")
        wanted = selection(since, until, hold_id, author, mention, restricted and principal.role == "compliance")
        with db.read() as session:
            count = archive_export.count_selection(session, wanted, cap=PAGE_EXPORT_LIMIT + 1)
        if count > PAGE_EXPORT_LIMIT:
            raise archive_export.ExportError(f"over {PAGE_EXPORT_LIMIT:,} records: narrow the selection, or run "
                                             "`vigie archive export` (streamed, any size)")
        sealed = archive_export.seal_waiting(db, ACTOR)
        root.mkdir(parents=True, exist_ok=True)
        name = export_name(utcnow(), root)
        with db.read() as session:
            if not db.is_sqlite:  # one snapshot: writes committed meanwhile do not tear the export
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            summary = archive_export.export_archive(session, root / name, wanted, chosen)
        with db.write.begin() as session:
            archive_export.record_export(session, principal.name, wanted, chosen, summary)
        shutil.make_archive(str(root / name), "zip", root_dir=root, base_dir=name)
    except archive_export.ExportError as exc:
        return dbc.Alert(str(exc), color="danger", id="archive-export-summary")
    except OSError as exc:
        return dbc.Alert(f"cannot write the export: {exc.strerror or exc}", color="danger", id="archive-export-summary")
    return build_summary(name, summary, sealed)
