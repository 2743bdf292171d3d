"""Ids that come from outside (the browser, a URL, the command line): one check for all of them.

A row id is an integer from 1 to 2**31 - 1: our tables' ids are INTEGER, which PostgreSQL keeps in
four bytes (a larger value there is a database error, not "no row"; SQLite's INTEGER holds more,
but its ids never get there). Archive records, BIGINT, go up to 2**63 - 1 (``MAX_RECORD_ID``).
Anything else (10**30, 2**40, -1, 0, "abc", 1.5, True…) is no id: the caller says "no such item"
instead of handing the database a value it cannot bind (a 500 after earlier changes were made).
Accepted: an int, or a string of ASCII digits (surrounding spaces ignored); a float is refused
even when whole, since our pages and URLs never send one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from i18n import N_, _

MAX_ID = 2**31 - 1  # INTEGER ids (queue items, mentions, replies, templates, holds, reviews…)
MAX_RECORD_ID = 2**63 - 1  # BIGINT ids (archive records)


def parse_id(value: Any, maximum: int = MAX_ID) -> int | None:
    """``value`` as a row id (1 … ``maximum``), or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not text or len(text) > len(str(maximum)) or not (text.isascii() and text.isdigit()):
            return None
        number = int(text)
    else:
        return None
    return number if 1 <= number <= maximum else None


def shown(value: Any) -> str:
    """A client-supplied value as an error message may quote it: short, never the whole of it."""
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


NO_SUCH = {"item": N_("no such item: {value}"), "reply": N_("no such reply: {value}"),
           "review": N_("no such review: {value}"), "template": N_("no such template: {value}"),
           "template version": N_("no such template version: {value}"), "hold": N_("no such hold: {value}"),
           "record": N_("no such record: {value}")}


def no_such(kind: str, value: Any) -> str:
    """The one message for an id that is not one: ``no such item: 'abc'`` (in the reader's language)."""
    known = NO_SUCH.get(kind)
    return _(known).format(value=shown(value)) if known else f"no such {kind}: {shown(value)}"


def parse_ids(values: Iterable[Any], kind: str = "item") -> tuple[list[int], list[str]]:
    """Every value checked before anything is done: (the ids, in order, each once; the messages
    for the values that are not ids)."""
    ids: dict[int, None] = {}
    errors: list[str] = []
    for value in values:
        number = parse_id(value)
        if number is None:
            errors.append(no_such(kind, value) + ".")
        else:
            ids[number] = None
    return list(ids), errors


def parse_cursor(value: Any, maximum: int = MAX_ID) -> int | None:
    """A paging cursor's id: a row id, or 0 (before the first row); None for anything else."""
    return 0 if type(value) is int and value == 0 else parse_id(value, maximum)
