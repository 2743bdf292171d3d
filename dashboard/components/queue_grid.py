"""Pure helpers of the queue grid: rows in, AG Grid transaction out."""

from __future__ import annotations

from typing import Any

from models.tables import OPEN_STATUSES


def with_link(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row["link"] = f"[Details](/mention/{int(row['mention_id'])})"
        # The item page opened at its Reply panel (for those who work the team: the page checks).
        row["reply"] = f"[Reply](/mention/{int(row['mention_id'])}#reply)"
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
