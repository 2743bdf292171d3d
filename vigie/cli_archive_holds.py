"""`vigie archive hold …`, `vigie archive erasure request` and `vigie archive purge`.

``hold place`` and ``hold release`` (four eyes: not by whoever placed it), and ``erasure request``
act in the name of ``--actor``, an active account with the compliance role; anything else is
refused. ``hold list`` prints every hold, newest first. ``purge`` runs the purge once (the
collector's ``archive:purge`` job does it every ``purge_every_minutes``); ``--now`` may only move
the clock back (to purge less), never forward: nothing is purged early from the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import click
from sqlalchemy.orm import Session

from collectors.jobs.purge_archive import run_purge
from models.erasure import ErasureError, request_erasure
from models.holds import HoldError, HoldScope, all_holds, as_utc, place_hold, release_hold
from models.tables import utcnow
from models.users import get_user
from vigie.common import HOLD_ID, MENTION_ID, checked_settings, open_current

T = TypeVar("T")


def _compliance(session: Session, name: str) -> str:
    user = get_user(session, name)
    if user is None or not user.active or user.role != "compliance":
        raise click.ClickException(f"--actor {name}: not an active account with the compliance role")
    return user.name


def _write(change: Callable[[Session, str], T], actor: str) -> T:
    """Run ``change`` as ``actor`` in one write transaction; a refusal ends the command with its reason."""
    db = open_current(checked_settings())
    try:
        with db.write.begin() as session:
            return change(session, _compliance(session, actor))
    except (HoldError, ErasureError) as exc:
        raise click.ClickException(str(exc)) from exc


def _time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: expected an ISO 8601 time (UTC unless it has an offset)",
                                 param_hint=option) from exc


@click.group("hold")
def hold() -> None:
    """Legal holds: place, release, list."""


@hold.command("place")
@click.option("--matter", required=True, help="The matter's name.")
@click.option("--reason", required=True, help="Why the records must be kept.")
@click.option("--item", "items", multiple=True, type=MENTION_ID, help="A mention id, as in /mention/<id> (repeatable).")
@click.option("--author", "authors", multiple=True, help="An author, network:handle (repeatable).")
@click.option("--source", "sources", multiple=True, help="A source's name (repeatable).")
@click.option("--since", help="Records at or after this time (ISO 8601, UTC unless an offset is given).")
@click.option("--until", help="Records before this time.")
@click.option("--query", help="Records whose content contains this text (any case).")
@click.option("--actor", required=True, help="The compliance account placing the hold.")
def hold_place(matter: str, reason: str, items: tuple[int, ...], authors: tuple[str, ...], sources: tuple[str, ...],
               since: str | None, until: str | None, query: str | None, actor: str) -> None:
    """Place a legal hold: the records it selects are never purged while it stands."""
    scope = HoldScope(items, authors, sources, _time(since, "--since"), _time(until, "--until"), query)
    placed = _write(lambda s, who: place_hold(s, who, matter, reason, scope), actor)
    click.echo(f"hold {placed.id} placed for {placed.matter!r}: {HoldScope.from_json(placed.scope).describe()}")


@hold.command("release")
@click.argument("hold_id", type=HOLD_ID)
@click.option("--reason", required=True, help="Why the hold ends.")
@click.option("--actor", required=True, help="The compliance account releasing it (not the one who placed it).")
def hold_release(hold_id: int, reason: str, actor: str) -> None:
    """Release a hold (four eyes: someone other than whoever placed it)."""
    released = _write(lambda s, who: release_hold(s, who, hold_id, reason), actor)
    click.echo(f"hold {released.id} ({released.matter!r}) released by {released.released_by}")


@hold.command("list")
@click.option("--limit", default=200, show_default=True, help="At most this many, newest first.")
def hold_list(limit: int) -> None:
    """Every hold, newest first: id, matter, state, who placed it, its scope."""
    db = open_current(checked_settings())
    with db.read() as session:
        holds = all_holds(session, limit)
    for h in holds:
        state = (f"released by {h.released_by} {h.released_at.isoformat(timespec='seconds')}Z" if h.released_at
                 else "standing")
        click.echo(f"{h.id}\t{h.matter}\t{state}\tplaced by {h.placed_by} {h.placed_at.isoformat(timespec='seconds')}Z"
                   f"\t{HoldScope.from_json(h.scope).describe()}")


@click.group("erasure")
def erasure() -> None:
    """Data-protection requests."""


@erasure.command("request")
@click.argument("author")
@click.option("--reason", required=True, help="The request (its reference, its grounds).")
@click.option("--actor", required=True, help="The compliance account recording it.")
def erasure_request(author: str, reason: str, actor: str) -> None:
    """Restrict AUTHOR (network:handle) now; their records are erased when retention ends."""
    made = _write(lambda s, who: request_erasure(s, who, author, reason), actor)
    click.echo(f"data-protection request {made.id}: {made.author} restricted")


@click.command("purge")
@click.option("--now", "now_text", help="Purge as of this time (ISO 8601): only earlier than the clock.")
def purge(now_text: str | None) -> None:
    """Purge once: content past retention and on no legal hold becomes a tombstone."""
    settings = checked_settings()
    clock = utcnow()
    now = _time(now_text, "--now") or clock
    if now > clock:
        raise click.ClickException("--now is later than the clock: the purge never runs ahead of time")
    run = run_purge(open_current(settings), settings.archive.retention, now)
    click.echo(f"{run.purged} record(s) purged in {run.batches} batch(es) as of {now.isoformat()}Z; {run.held} kept "
               f"by legal holds, {run.kept} kept longer by the current settings; {len(run.erased)} erasure "
               f"request(s) completed")


COMMANDS = (hold, erasure, purge)
