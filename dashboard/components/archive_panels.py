"""The /archive page's panels, built from what `models.archive_views` reads: search results, an
item's record history, the verification and anchors panel. Pure functions of their rows.

Times are written for the reader (`dashboard.components.when`: the local time and its offset, the
UTC instant in each ``<time>``'s ``datetime``); hashes, ids and the record contents are shown as
they are. Record contents are untrusted (a post's text, an author's name, a platform's raw payload): they are
shown as pretty-printed JSON text inside ``html.Pre``, never as HTML.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.components.when import local, number
from i18n import _, current_reader, ngettext
from i18n import formats as fmt
from models.archive_views import AnchorLine, ChainState, HistoryEntry, RecordRow
from models.tables import to_naive_utc

ARCHIVE_PATH = "/archive"


def at(value: datetime | None) -> Any:
    """A time in full, for the reader (``4 Dec 2026, 10:42:05 UTC+01:00``), in a ``<time>``."""
    if value is None:
        return "—"
    return html.Time(local(value, seconds=True), dateTime=to_naive_utc(value).isoformat(timespec="seconds") + "Z")


ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?")


def local_times(text: str) -> str:
    """``text`` (an anchor line's fields) with each ISO 8601 time in it written for the reader."""
    def one(found: re.Match[str]) -> str:
        try:
            return local(datetime.fromisoformat(found.group(0).replace("Z", "+00:00")), seconds=True)
        except ValueError:
            return found.group(0)
    return ISO_TIME.sub(one, text)


def day(value: datetime) -> str:
    """A retention date, for the reader (``4 Dec 2033``)."""
    return fmt.local_day(value, current_reader())


def sealed_text(row: RecordRow) -> str:
    if row.segment_seq is None:
        return _("waiting to be sealed")
    return _("sealed in segment {seq}").format(seq=row.segment_seq)


def waiting_text(pending: int) -> str:
    return ngettext("{count} record waiting to be sealed", "{count} records waiting to be sealed",
                    pending).format(count=number(pending))


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
        out.append(dbc.Badge(_("tombstone"), color="secondary", className="me-1"))
    if row.restricted:
        out.append(dbc.Badge(_("restricted"), color="warning", text_color="dark", className="me-1"))
    return out


def build_results(rows: list[RecordRow], first_page: bool, limit: int) -> Any:
    """The search results, newest first, with the line saying how many and whether more exist."""
    if not rows:
        return html.P(_("No record matches.") if first_page else _("No older record matches."),
                      className="text-muted", id="archive-results-note")
    head = html.Thead(html.Tr([html.Th(h) for h in ("#", _("Kind"), _("Subject"), _("When"), _("Retention"),
                                                     _("Seal"), _("Item"), _("Author"),
                                                     html.Span(_("Marks"), className="visually-hidden"))]))
    body = [html.Tr([
        html.Td(str(r.id)), html.Td(r.kind), html.Td(r.subject), html.Td(at(r.at)),
        html.Td(_("{retention} until {date}").format(retention=r.retention_class, date=day(r.retain_until))),
        html.Td(sealed_text(r)),
        html.Td(dcc.Link(_("mention {id}").format(id=r.mention_id), href=history_href(r.mention_id),
                         id={"type": "archive-item-link", "record": r.id}) if r.mention_id is not None else "—"),
        html.Td(r.author or "—"), html.Td(_badges(r)),
    ], id={"type": "archive-row", "record": r.id}) for r in rows]
    more = len(rows) >= limit
    count = ngettext("{count} record, newest first", "{count} records, newest first", len(rows)).format(
        count=number(len(rows)))
    if more:
        count = _("{count} (the first {limit}: “Older” shows the next)").format(count=count, limit=number(limit))
    note = (_("{count}.").format(count=count) if first_page
            else _("{count}, ids below {id}.").format(count=count, id=rows[0].id + 1))
    return [html.P(note, className="small", id="archive-results-note"),
            dbc.Table([head, html.Tbody(body)], size="sm", striped=True, id="archive-results-table")]


def build_history(mention_id: int, entries: list[HistoryEntry], restricted_hidden: bool, limit: int) -> Any:
    """Every record of an item in id order: what it is, its hash, its seal and its content as JSON text."""
    if not entries:
        note = _("No record about mention {id}.").format(id=mention_id)
        if restricted_hidden:
            note = _("No record about mention {id}. (Records of restricted authors are not shown to your role.)"
                     ).format(id=mention_id)
        return html.P(note, className="text-muted", id="archive-history-note")
    cards = []
    for entry in entries:
        r = entry.record
        seal = sealed_text(r) if r.position is None else _("{seal}, position {position}").format(
            seal=sealed_text(r), position=r.position)
        cards.append(dbc.Card(dbc.CardBody([
            html.Div([html.B(_("Record {id} · {kind}").format(id=r.id, kind=r.kind)), f" · {r.subject} · ", at(r.at),
                      " ", *_badges(r)]),
            html.Div([f"SHA-256 {r.sha256} · {seal} · ",
                      _("{retention} until {date}").format(retention=r.retention_class, date=day(r.retain_until))],
                     className="small text-muted font-monospace"),
            html.Pre(_("Content purged at the end of its retention: the tombstone keeps its hash.") if r.tombstone
                     else pretty(entry.content), className="vigie-record mt-2 mb-0 small",
                     style={"maxHeight": "24em", "overflow": "auto", "whiteSpace": "pre-wrap"}),
        ]), className="mb-2", id={"type": "archive-record", "record": r.id}))
    more = len(entries) >= limit
    note = ngettext("{count} record about mention {id}, oldest first",
                    "{count} records about mention {id}, oldest first", len(entries)).format(
        count=number(len(entries)), id=mention_id)
    note = (_("{count} (the first {limit}: “Later” shows the next).").format(count=note, limit=number(limit)) if more
            else _("{count}.").format(count=note))
    return [html.P([note, " ", html.A(_("Open mention {id}").format(id=mention_id), href=f"/mention/{mention_id}")],
                   className="small", id="archive-history-note"), html.Div(cards, id="archive-history-records")]


def build_verifications(rows: list[Any]) -> Any:
    if not rows:
        return html.P(_("No verification yet: run `vigie archive verify`."), className="text-muted",
                      id="archive-verifications")
    head = html.Thead(html.Tr([html.Th(h) for h in (_("When"), _("Outcome"), _("By"), _("Segments"), _("Records"),
                                                     _("Head"), _("Failure"))]))
    body = [html.Tr([html.Td(at(v.at)),
                     html.Td(dbc.Badge(_("OK"), color="success") if v.ok else dbc.Badge(_("FAILED"), color="danger")),
                     html.Td(v.by), html.Td(number(v.segments)), html.Td(number(v.records)),
                     html.Td((v.head_hash or "—")[:16], className="font-monospace"),
                     html.Td(v.failure or "")]) for v in rows]
    return dbc.Table([head, html.Tbody(body)], size="sm", id="archive-verifications")


def build_chain(chain: ChainState) -> Any:
    if chain.head is None:
        text = _("No segment sealed yet; {waiting}.").format(waiting=waiting_text(chain.pending))
    else:
        h = chain.head
        text = _("Head: segment {seq} sealed {time} by {who}, hash {hash} (records up to {last}); {waiting}.").format(
            seq=h.seq, time=local(h.sealed_at, seconds=True), who=h.sealed_by, hash=h.hash, last=h.last_record_id,
            waiting=waiting_text(chain.pending))
    return html.P(text, id="archive-head", className="font-monospace small")


def build_anchors(path: str, lines: list[AnchorLine]) -> Any:
    if not lines:
        return html.P(_("No anchored head in {path} yet.").format(path=path), className="text-muted",
                      id="archive-anchors")
    items = []
    for line in lines:
        if line.seq is None:
            items.append(html.Li([dbc.Badge(_("not an anchor"), color="warning", text_color="dark", className="me-1"),
                                  html.Code(line.text)]))
            continue
        badge = (dbc.Badge(_("in the chain"), color="success", className="me-1") if line.in_chain
                 else dbc.Badge(_("NOT in the chain"), color="danger", className="me-1"))
        items.append(html.Li([badge, _("segment {seq}:").format(seq=line.seq), " ", html.Code(line.hash or ""),
                              html.Span(local_times(line.text), className="text-muted small ms-2")]))
    return html.Div([html.P(ngettext("The last line of {path}:", "The last {count} lines of {path}:",
                                     len(lines)).format(count=number(len(lines)), path=path), className="small"),
                     html.Ul(items, className="list-unstyled")], id="archive-anchors")
