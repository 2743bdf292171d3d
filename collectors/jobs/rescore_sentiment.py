"""Re-scoring with a firm's own sentiment model (the collector's ``sentiment:rescore`` job).

Every 30 s (first 20 s after start), when VIGIE_SENTIMENT_MODEL names an ONNX model
(config/sentiment_model.py), each run reads up to ``limit`` queue items of the last two days
whose post the model has not scored, oldest first, scores their texts in batches
(collectors/nlp/onnx_sentiment.py), and for each writes a `model_scores` row beside the post:
the model's score and label, the shipped model's, which decided, and what that changed. Where
the model's label differs from the shipped one, the model decides: the post's row takes its label
and score (`summary_fold.relabel`: the wall, the daily summary and the spike watch count the label
that decided, their folded counts moved in the same transaction), priority and routing are
computed again with its score (the same rules as at ingest), and a new
item no person has acted on whose team, priority or rule changes is routed again
(``actions.rescore``, an audit event by ``model:<file name>`` saying what the model changed, read
from the locked item). An item someone has claimed, released, assigned, rerouted, escalated,
reopened, closed or corrected keeps its place: a person's decision stands; the row says so.

One short transaction per item: an item that fails does not hold back the others, and a scored
post is never scored again (its row exists). A model that cannot be loaded or run fails the run
with its file and reason in the collector's log; nothing is written, the next run tries again. A
post the model alone cannot read (its batch is then scored text by text) gets a row saying so
(``decided_by`` "error"), so it is not tried every 30 s for two days. "A person has acted" means
any audit event on the item by someone other than the SLA watch or a model (`actions.rescore`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from collectors.nlp.onnx_sentiment import ModelError, OnnxSentiment
from collectors.pipeline import decide
from config.sentiment_model import SentimentModelConfig
from config.settings import Settings
from models import actions, summary_fold
from models.db import Database
from models.judgement_tables import ModelScore
from models.sla import SlaClock
from models.tables import Mention, QueueItem, utcnow

log = logging.getLogger("vigie.sentiment")

WINDOW = timedelta(days=2)  # older items were decided by people long ago
_loaded: dict[tuple[SentimentModelConfig, float], OnnxSentiment] = {}


@dataclass
class RescoreReport:
    scored: int = 0  # posts the model scored
    disagreed: int = 0  # of which its label differs from the shipped model's
    routed_again: int = 0  # items whose team, priority or rule changed
    kept: int = 0  # items left where a person put them
    errors: list[str] = field(default_factory=list)


def log_line(report: RescoreReport) -> str | None:
    if not (report.scored or report.errors):
        return None
    errors = f", {len(report.errors)} errors" if report.errors else ""
    return (f"sentiment model: {report.scored} posts scored, {report.disagreed} disagreeing with the shipped model, "
            f"{report.routed_again} items routed again, {report.kept} kept by a person's decision{errors}")


def scorer(config: SentimentModelConfig) -> OnnxSentiment:
    """The model, loaded once per process (again when its file changes)."""
    key = (config, config.path.stat().st_mtime)
    if key not in _loaded:
        _loaded.clear()
        _loaded[key] = OnnxSentiment(config)
    return _loaded[key]


def _unscored(db: Database, since: datetime, limit: int) -> list[Any]:
    with db.write.begin() as session:  # the primary: a replica may not have the newest items yet
        return list(session.execute(
            select(QueueItem.id.label("item_id"), QueueItem.team, QueueItem.rule_id, Mention.id.label("mention_id"),
                   Mention.text, Mention.language, Mention.sentiment_score, Mention.sentiment_label, Mention.brand,
                   Mention.is_competitor, Mention.risk_flags, Mention.risk_terms, Mention.author_followers,
                   Mention.priority)
            .join(Mention, Mention.id == QueueItem.mention_id)
            .outerjoin(ModelScore, ModelScore.mention_id == Mention.id)
            .where(ModelScore.mention_id.is_(None), QueueItem.created_at >= since)
            .order_by(QueueItem.created_at, QueueItem.id).limit(limit)
        ).all())


def _decide(settings: Settings, row: Any, score: float, label: str) -> tuple[str, str, str, str]:
    """(team, priority, rule, explanation) with the model's sentiment, by the ingest's rules."""
    priority, decided = decide(settings, {f.name: f.severity for f in settings.lexicon}, row.text, row.language,
                               score, label, row.brand, bool(row.is_competitor), tuple(row.risk_flags or ()),
                               dict(row.risk_terms or {}), row.author_followers)
    return decided.team, priority, decided.rule_id, decided.explanation


def score_texts(model: OnnxSentiment, texts: list[str]) -> list[tuple[float, str, str | None]]:
    """(score, label, error) per text. A batch the model refuses is scored again text by text, so
    one text it cannot read (error set, never retried) does not hold back the others; when it
    refuses every text alone too, the model or its settings are at fault: ModelError, nothing
    written, the next run tries again."""
    try:
        return [(score, label, None) for score, label in model.score(texts)]
    except ModelError:
        if len(texts) == 1:
            raise
    found: list[tuple[float, str, str | None]] = []
    last: ModelError | None = None
    for text in texts:
        try:
            ((score, label),) = model.score([text])
            found.append((score, label, None))
        except ModelError as exc:
            last = exc
            found.append((0.0, "", str(exc)[:500]))
    if last is not None and all(error for _, _, error in found):
        raise last
    return found


def run_rescore_sentiment(db: Database, settings: Settings, now: datetime | None = None,
                          limit: int = 256) -> RescoreReport:
    report = RescoreReport()
    config = settings.sentiment_model
    if config is None:
        return report
    now = now or utcnow()
    rows = _unscored(db, now - WINDOW, limit)
    if not rows:
        return report
    results = score_texts(scorer(config), [row.text for row in rows])  # ModelError: the run fails, nothing written
    clock = SlaClock.from_settings(settings)
    actor = f"model:{config.name}"[:200]
    for row, (score, label, error) in zip(rows, results, strict=True):
        try:
            with db.write.begin() as session:
                decided_by, outcome = "both", "the firm's model agrees with the shipped model"
                if error is not None:
                    decided_by, outcome = "error", f"the model could not score this post: {error}"
                elif label != row.sentiment_label:
                    decided_by = "model"
                    report.disagreed += 1
                    team, priority, rule, explanation = _decide(settings, row, score, label)
                    reason = (f"sentiment {label} ({score:+.2f}) by {config.name}; the shipped model said "
                              f"{row.sentiment_label} ({row.sentiment_score:+.2f})")
                    try:
                        with session.begin_nested():
                            _, changes = actions.rescore(session, row.item_id, actor, team, priority, rule,
                                                         explanation, reason, clock)
                        if changes:
                            outcome = f"routed again: {changes}"
                            report.routed_again += 1
                        else:
                            outcome = "same team, priority and rule"
                    except actions.ActionError as refused:
                        outcome = f"not routed again: {refused}"
                        report.kept += 1
                if decided_by == "model":  # the post carries the label that decided: every count reads it
                    # the item's stamp moves, so open queue pages redraw its row (label and score)
                    session.execute(update(QueueItem).where(QueueItem.id == row.item_id).values(updated_at=utcnow()))
                    mention = session.get(Mention, row.mention_id)
                    assert mention is not None
                    summary_fold.relabel(session, mention, label, score, settings.reporting.timezone)
                session.add(ModelScore(mention_id=row.mention_id, model=config.name[:200], score=score,
                                       label=label or row.sentiment_label, scored_at=now, decided_by=decided_by,
                                       outcome=outcome[:2000], shipped_score=row.sentiment_score,
                                       shipped_label=row.sentiment_label))
            report.scored += 1
        except Exception as exc:  # one bad item must not stop the others
            log.exception("sentiment model: item %d could not be re-scored", row.item_id)
            report.errors.append(f"item {row.item_id}: {type(exc).__name__}: {exc}")
    return report
