"""The /archive page's panels, built from what `models.archive_views` reads: search results, an
item's record history, the verification and anchors panel. Pure functions of their rows.

Record contents are untrusted (a post's text, an author's name, a platform's raw payload): they are
shown as pretty-printed JSON text inside ``html.Pre``, never as HTML.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from models.archive_views import AnchorLine, ChainState, HistoryEntry, RecordRow

ARCHIVE_PATH = "/archive"


def utc(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def sealed_text(row: RecordRow) -> str:
    if row.segment_seq is None:
        return "waiting to be sealed"
    return f"sealed in segment {row.segment_seq}"


def history_href(mention_id: int) -> str:
    return f"{ARCHIVE_PATH}?mention={mention_id}"


def pretty(content: Any) -> str:
    """A record's content as indented JSON text (keys sorted, non-ASCII kept)."""
    if isinstance(content, str):
        return content
    return json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _badges(row: RecordRow) -> list[Any]:
    out = []
    if row.tombstone:
        out.append(dbc.Badge("tombstone", color="secondary", className="me-1"))
    if row.restricted:
        out.append(dbc.Badge("restricted", color="warning", text_color="dark", className="me-1"))
    return out


def build_results(rows: list[RecordRow], first_page: bool, limit: int) -> Any:
    """The search results, newest first, with the line saying how many and whether more exist."""
    if not rows:
        return html.P("No record matches." if first_page else "No older record matches.", className="text-muted",
                      id="archive-results-note")
    head = html.Thead(html.Tr([html.Th(h) for h in ("#", "Kind", "Subject", "When (UTC)", "Retention", "Seal",
                                                     "Item", "Author", "")]))
    body = [html.Tr([
        html.Td(str(r.id)), html.Td(r.kind), html.Td(r.subject), html.Td(utc(r.at)),
        html.Td(f"{r.retention_class} until {r.retain_until.date().isoformat()}"), html.Td(sealed_text(r)),
        html.Td(dcc.Link(f"mention {r.mention_id}", href=history_href(r.mention_id),
                         id={"type": "archive-item-link", "record": r.id}) if r.mention_id is not None else "—"),
        html.Td(r.author or "—"), html.Td(_badges(r)),
    ], id={"type": "archive-row", "record": r.id}) for r in rows]
    more = len(rows) >= limit
    note = (f"{len(rows)} record(s), newest first" + (f" (the first {limit}: “Older” shows the next)" if more else "")
            + ("." if first_page else f", ids below {rows[0].id + 1}."))
    return [html.P(note, className="small", id="archive-results-note"),
            dbc.Table([head, html.Tbody(body)], size="sm", striped=True, id="archive-results-table")]


def build_history(mention_id: int, entries: list[HistoryEntry], restricted_hidden: bool, limit: int) -> Any:
    """Every record of an item in id order: what it is, its hash, its seal and its content as JSON text."""
    if not entries:
        note = f"No record about mention {mention_id}."
        if restricted_hidden:
            note += " (Records of restricted authors are not shown to your role.)"
        return html.P(note, className="text-muted", id="archive-history-note")
    cards = []
    for entry in entries:
        r = entry.record
        seal = sealed_text(r) + (f", position {r.position}" if r.position is not None else "")
        cards.append(dbc.Card(dbc.CardBody([
            html.Div([html.B(f"Record {r.id} · {r.kind}"), f" · {r.subject} · {utc(r.at)} ",
                      *_badges(r)]),
            html.Div([f"SHA-256 {r.sha256} · {seal} · {r.retention_class} until {utc(r.retain_until)}"],
                     className="small text-muted font-monospace"),
            html.Pre("Content purged at the end of its retention: the tombstone keeps its hash." if r.tombstone
                     else pretty(entry.content), className="vigie-record mt-2 mb-0 small",
                     style={"maxHeight": "24em", "overflow": "auto", "whiteSpace": "pre-wrap"}),
        ]), className="mb-2", id={"type": "archive-record", "record": r.id}))
    more = len(entries) >= limit
    note = (f"{len(entries)} record(s) about mention {mention_id}, oldest first"
            + (f" (the first {limit}: “Later” shows the next)." if more else "."))
    return [html.P([note, " ", html.A(f"Open mention {mention_id}", href=f"/mention/{mention_id}")],
                   className="small", id="archive-history-note"), html.Div(cards, id="archive-history-records")]


def build_verifications(rows: list[Any]) -> Any:
    if not rows:
        return html.P("No verification yet: run `vigie archive verify`.", className="text-muted",
                      id="archive-verifications")
    head = html.Thead(html.Tr([html.Th(h) for h in ("When (UTC)", "Outcome", "By", "Segments", "Records", "Head",
                                                     "Failure")]))
    body = [html.Tr([html.Td(utc(v.at)),
                     html.Td(dbc.Badge("OK", color="success") if v.ok else dbc.Badge("FAILED", color="danger")),
                     html.Td(v.by), html.Td(str(v.segments)), html.Td(str(v.records)),
                     html.Td((v.head_hash or "—")[:16], className="font-monospace"),
                     html.Td(v.failure or "")]) for v in rows]
    return dbc.Table([head, html.Tbody(body)], size="sm", id="archive-verifications")


def build_chain(chain: ChainState) -> Any:
    if chain.head is None:
        text = f"No segment sealed yet; {chain.pending} record(s) waiting to be sealed."
    else:
        h = chain.head
        text = (f"Head: segment {h.seq} sealed {utc(h.sealed_at)} by {h.sealed_by}, hash {h.hash} "
                f"(records up to {h.last_record_id}); {chain.pending} record(s) waiting to be sealed.")
    return html.P(text, id="archive-head", className="font-monospace small")


def build_anchors(path: str, lines: list[AnchorLine]) -> Any:
    if not lines:
        return html.P(f"No anchored head in {path} yet.", className="text-muted", id="archive-anchors")
    items = []
    for line in lines:
        if line.seq is None:
            items.append(html.Li([dbc.Badge("not an anchor", color="warning", text_color="dark", className="me-1"),
                                  html.Code(line.text)]))
            continue
        badge = (dbc.Badge("in the chain", color="success", className="me-1") if line.in_chain
                 else dbc.Badge("NOT in the chain", color="danger", className="me-1"))
        items.append(html.Li([badge, f"segment {line.seq}: ", html.Code(line.hash or ""),
                              html.Span(f" {line.text}", className="text-muted small ms-2")]))
    return html.Div([html.P(f"The last {len(lines)} line(s) of {path}:", className="small"),
                     html.Ul(items, className="list-unstyled")], id="archive-anchors")
