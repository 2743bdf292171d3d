"""The spike watch (the collector's ``alerts:detect`` job): finds surges and sentiment drops and
keeps one alert per episode.

It runs every ``detector.every_seconds`` (reporting.yaml, 30 s by default; the first run after
at most 15 s). Each run reads the mentions of the last ``(baseline_windows + 1) *
window_minutes`` minutes, grouped per minute, brand, sentiment and risk flags (one bounded
query), counts them per scope and window, and asks `collectors.spikes.detect` for verdicts.
Then, in one transaction:

- a verdict with no open alert of its (kind, scope) opens one, with the newest posts of the
  window that triggered it, and writes its ``spike`` notifications (the outbox of
  `models.notifications`): an alert is sent once;
- a verdict with an open alert updates it (latest and peak figures, triggering posts);
- an open alert with no verdict for ``quiet_minutes`` closes.

A unique index on the open alerts of a (kind, scope, key) keeps two collectors running at once
from opening the same alert twice: the loser's transaction fails and its next run updates.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from collectors.spikes import Counts, Verdict, detect, history_windows, window_index
from config.settings import Settings
from i18n import _, current_reader, formats
from models import alert_words
from models.db import Database
from models.notifications import enqueue_written, plain
from models.tables import Alert, Mention, utcnow

log = logging.getLogger("vigie.spikes")

ALERT_ITEMS = 20  # posts kept on an alert
ITEM_SCAN = 5000  # newest posts of the window read to find them


@dataclass
class SpikeReport:
    verdicts: int = 0
    opened: list[int] = field(default_factory=list)
    updated: int = 0
    closed: int = 0
    notifications: int = 0


def log_line(report: SpikeReport) -> str | None:
    """The collector's log line about a run, None when no alert opened or closed."""
    if not (report.opened or report.closed):
        return None
    return (f"spike watch: {len(report.opened)} alerts opened, {report.closed} closed, "
            f"{report.notifications} notifications queued")


def _minute_bucket(session: Session) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-%dT%H:%M", Mention.created_at)
    return func.to_char(func.date_trunc("minute", Mention.created_at), 'YYYY-MM-DD"T"HH24:MI')


def _flags(raw: Any) -> list[str]:
    if isinstance(raw, list):
        return [str(f) for f in raw]
    try:
        value = json.loads(raw) if raw else []
    except (TypeError, ValueError):
        return []
    return [str(f) for f in value] if isinstance(value, list) else []


Series = dict[tuple[str, str], list[Counts]]  # (scope, key) -> counts per window, index 0 = now


def window_series(session: Session, settings: Settings, now: datetime) -> tuple[Series, int, frozenset[int]]:
    """(scope, key) -> counts per window (index 0 = now), how many earlier windows are history, and
    the earlier windows in which nothing at all was stored (collection gaps)."""
    cfg = settings.reporting.detector
    windows = cfg.baseline_windows + 1
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=windows * cfg.window_minutes - 1)
    minute = _minute_bucket(session).label("minute")
    flags_text = cast(Mention.risk_flags, Text)
    rows = session.execute(
        select(minute, Mention.brand, Mention.sentiment_label, flags_text, func.count())
        .where(Mention.created_at >= start, Mention.created_at <= now, Mention.duplicate_of_id.is_(None))
        .group_by(minute, Mention.brand, Mention.sentiment_label, flags_text)
        .limit(200_000)  # bounded: minutes x brands x labels x flag sets
    )
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * windows)
    negatives: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * windows)
    stored = [0] * windows  # every mention, whatever the scopes
    for bucket, brand, label, flag_text, n in rows:
        index = min(windows - 1, window_index(datetime.fromisoformat(bucket), now, cfg.window_minutes))
        stored[index] += int(n)
        scopes: list[tuple[str, str]] = []
        if "all" in cfg.scopes:
            scopes.append(("all", ""))
        if "brand" in cfg.scopes and brand:
            scopes.append(("brand", brand))
        if "topic" in cfg.scopes:
            scopes += [("topic", f) for f in dict.fromkeys(_flags(flag_text)) if f not in cfg.ignore_topics]
        for scope in scopes:
            totals[scope][index] += int(n)
            if label == "negative":
                negatives[scope][index] += int(n)
    first = session.scalar(select(func.min(Mention.created_at)))  # the created_at index's first entry
    series = {k: [Counts(t, negatives[k][i]) for i, t in enumerate(v)] for k, v in totals.items()}
    gaps = frozenset(i for i in range(1, windows) if not stored[i])
    return series, history_windows(first, now, cfg), gaps


def _triggering(session: Session, settings: Settings, verdict: Verdict, now: datetime) -> list[int]:
    """The newest posts of window 0 in the verdict's scope (negative ones for a sentiment drop)."""
    cfg = settings.reporting.detector
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=cfg.window_minutes - 1)
    statement = (select(Mention.id, Mention.brand, Mention.risk_flags, Mention.sentiment_label)
                 .where(Mention.created_at >= start, Mention.created_at <= now, Mention.duplicate_of_id.is_(None))
                 .order_by(Mention.created_at.desc(), Mention.id.desc()).limit(ITEM_SCAN))
    out: list[int] = []
    for mention_id, brand, flags, label in session.execute(statement):
        if verdict.kind == "sentiment_drop" and label != "negative":
            continue
        if verdict.scope == "brand" and brand != verdict.key:
            continue
        if verdict.scope == "topic" and verdict.key not in _flags(flags):
            continue
        out.append(int(mention_id))
        if len(out) == ALERT_ITEMS:
            break
    return out


def alert_message(session: Session, settings: Settings, alert: Alert) -> tuple[str, str]:
    """(title, body) of a spike alert in the current reader's language: the finding, when it opened
    (local time) and the first posts that triggered it (plain text)."""
    headline, finding = alert_words.finding(alert, {f.name: f.label for f in settings.lexicon})
    lines = [plain(finding, 500), _("Opened: {time}").format(time=formats.local(alert.opened_at, current_reader())),
             ""]
    mentions = session.scalars(select(Mention).where(Mention.id.in_(alert.mention_ids[:5]))).all()
    for m in sorted(mentions, key=lambda m: alert.mention_ids.index(m.id)):
        lines.append(_("- {author} on {network}: {text}").format(
            author=plain(m.author_handle, 60) or _("unknown author"), network=plain(m.network, 30),
            text=plain(m.text, 160)))
    lines += ["", _("Open the wall: {link}").format(link=f"{settings.auth.public_url}/wall")]
    return _("Vigie: {headline}").format(headline=plain(headline, 200)), "\n".join(lines)


def _open_alert(session: Session, settings: Settings, verdict: Verdict, now: datetime, report: SpikeReport) -> None:
    cfg = settings.reporting.detector
    alert = Alert(kind=verdict.kind, scope=verdict.scope, scope_key=verdict.key, opened_at=now, last_seen_at=now,
                  closed_at=None, window_minutes=cfg.window_minutes, observed=verdict.observed,
                  expected=verdict.expected, z=verdict.z, peak_observed=verdict.observed,
                  mentions_in_window=verdict.mentions, summary=verdict.summary(cfg.window_minutes),
                  mention_ids=_triggering(session, settings, verdict, now))
    session.add(alert)
    session.flush()
    rows = enqueue_written(session, settings, "spike", None, lambda: alert_message(session, settings, alert))
    for row in rows:
        row.alert_id = alert.id
    report.opened.append(alert.id)
    report.notifications += len(rows)


def run_spike_watch(db: Database, settings: Settings, now: datetime | None = None) -> SpikeReport:
    """One run of the detector: open, update and close alerts (one transaction)."""
    now = now or utcnow()
    cfg = settings.reporting.detector
    report = SpikeReport()
    with db.read() as session:
        series, history, gaps = window_series(session, settings, now)
    verdicts = detect(series, history, cfg, gaps)
    report.verdicts = len(verdicts)
    try:
        with db.write.begin() as session:
            open_alerts = {(a.kind, a.scope, a.scope_key): a
                           for a in session.scalars(select(Alert).where(Alert.closed_at.is_(None)).limit(1000))}
            for verdict in verdicts:
                alert = open_alerts.pop((verdict.kind, verdict.scope, verdict.key), None)
                if alert is None:
                    _open_alert(session, settings, verdict, now, report)
                    continue
                alert.last_seen_at = now
                alert.observed, alert.expected, alert.z = verdict.observed, verdict.expected, verdict.z
                alert.peak_observed = max(alert.peak_observed, verdict.observed)
                alert.mentions_in_window = verdict.mentions
                alert.summary = verdict.summary(cfg.window_minutes)
                alert.mention_ids = _triggering(session, settings, verdict, now) or alert.mention_ids
                report.updated += 1
            for alert in open_alerts.values():
                if alert.last_seen_at <= now - timedelta(minutes=cfg.quiet_minutes):
                    alert.closed_at = now
                    report.closed += 1
    except IntegrityError:  # another collector opened the same alert meanwhile: the next run updates it
        log.warning("spike watch: an alert was opened by another process at the same time; retrying next run")
        return SpikeReport(verdicts=len(verdicts))
    return report

