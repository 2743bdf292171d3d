"""Helpers of the queue and triage grids: rows in, AG Grid transaction out; the grids' context
(the reader's language, zone and words) and the columns that show stored keys as words.

Row data keeps what is stored (ISO UTC times, English keys such as ``claimed``): the grid sorts,
filters and colours by them, live ticks patch them, and the browser formats each cell for the
reader (`dashboard/assets/vigie-i18n.js` for times, `dashboard/assets/vigie-queue.js` for keys as
words, `models.labels`).
"""

from __future__ import annotations

from typing import Any

from dashboard.components.when import grid_locale
from i18n import _
from models import labels
from models.tables import OPEN_STATUSES

# Cell formatters of dashboard/assets/vigie-queue.js (registered for dash-ag-grid's functions).
LABEL_FORMATTER = "vigieQueue.label(params, '{kind}')"  # a stored key as its label
LABELS_FORMATTER = "vigieQueue.labels(params, '{kind}')"  # several keys in one cell ("escalated, breached")
SCORE_FORMATTER = "vigieQueue.score(params)"  # a score to two decimals with its sign, per language
SLA_GETTER = "vigieQueue.sla(params.data)"  # "breached", "at risk", "on time": with the clock, in the browser


def grid_context(teams: dict[str, str] | None = None, flags: dict[str, str] | None = None) -> dict[str, Any]:
    """The grids' ``dashGridOptions.context``: `grid_locale()`, the labels of stored keys, the
    teams' and risk flags' names and the words the grids' own cells say."""
    words = {"lead": _("▲ lead")}
    return {**grid_locale(), "labels": {**labels.table("status", "priority", "sla", "why"), "team": teams or {},
                                        "flag": flags or {}},
            "cells": words}


def grid_texts() -> dict[str, str]:
    """The grid's own words (AG Grid's ``localeText``: empty grid, filter menus) in the reader's language."""
    return {"noRowsToShow": _("No items to show"), "loadingOoo": _("Loading…"), "filterOoo": _("Filter…"),
            "contains": _("Contains"), "notContains": _("Does not contain"), "equals": _("Equals"),
            "notEqual": _("Does not equal"), "startsWith": _("Begins with"), "endsWith": _("Ends with"),
            "blank": _("Blank"), "notBlank": _("Not blank"), "andCondition": _("AND"), "orCondition": _("OR"),
            "lessThan": _("Less than"), "greaterThan": _("Greater than"), "inRange": _("Between"),
            "applyFilter": _("Apply"), "resetFilter": _("Reset"), "clearFilter": _("Clear"),
            "cancelFilter": _("Cancel"), "selectAll": _("Select all"), "searchOoo": _("Search…")}


def label_column(field: str, header: str, kind: str, **extra: Any) -> dict[str, Any]:
    """A column of stored keys (``field``) shown as the reader's words (``kind`` of `models.labels`)."""
    return {"field": field, "headerName": header,
            "valueFormatter": {"function": LABEL_FORMATTER.format(kind=kind)}, **extra}


def with_link(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    details, reply = _("Details"), _("Reply")
    for row in rows:
        row["link"] = f"[{details}](/mention/{int(row['mention_id'])})"
        # The item page opened at its Reply panel (for those who work the team: the page checks).
        row["reply"] = f"[{reply}](/mention/{int(row['mention_id'])}#reply)"
    return rows


def build_transaction(
    team: str, changed: list[dict[str, Any]], known: set[int]
) -> tuple[dict[str, list[dict[str, Any]]], set[int]]:
    """Turn changed rows into an AG Grid transaction for ``team``'s open queue (pure)."""
    add: list[dict[str, Any]] = []
    update: list[dict[str, Any]] = []
    remove: list[dict[str, Any]] = []
    known = set(known)
    for row in with_link(changed):
        belongs = row["team"] == team and row["status"] in OPEN_STATUSES
        if belongs:
            (update if row["id"] in known else add).append(row)
            known.add(row["id"])
        elif row["id"] in known:
            remove.append({"id": row["id"]})
            known.discard(row["id"])
    return {"add": add, "update": update, "remove": remove}, known
