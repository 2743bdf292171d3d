"""Judgements made after ingest: a firm's own model's score of an item's post (the `sentiment:rescore`
job), beside the shipped model's. Where the firm's model decides, the post's row carries its label
and score (what every count reads) and this row keeps both."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base


class ModelScore(Base):
    """A post's sentiment by the configured ONNX model, and what that changed on its item."""

    __tablename__ = "model_scores"
    __table_args__ = (Index("ix_model_scores_scored_at", "scored_at"),)

    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(200))  # the model file's name
    score: Mapped[float]  # P(positive) - P(negative)
    label: Mapped[str] = mapped_column(String(10))
    scored_at: Mapped[datetime]
    # "model": the labels differ and the model's decided (priority and routing computed again with it);
    # "both": the labels agree; "error": the model could not read this post (not tried again).
    # What the decision changed, in words, for the item page.
    decided_by: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(Text)
    # The shipped model's score and label as the post was stored. Where the firm's model decided,
    # the post's row (`mentions.sentiment_*`) holds the firm's since migration 0023, so that the
    # wall, the summary and the spike watch count the label that decided; None on rows scored
    # before it (their post kept the shipped label).
    shipped_score: Mapped[float | None]
    shipped_label: Mapped[str | None] = mapped_column(String(10))


class Correction(Base):
    """A person marking a judgement on an item wrong, with one click: its sentiment (and the right
    label), a risk flag (that should not have fired) or its team (and the right one). Kept for
    the leads' list and for retraining (`vigie model train --with-corrections`); each one is an
    audit event too."""

    __tablename__ = "corrections"
    __table_args__ = (Index("ix_corrections_team_at", "team", "created_at"),
                      Index("ix_corrections_item", "queue_item_id"), Index("ix_corrections_mention", "mention_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_item_id: Mapped[int] = mapped_column(ForeignKey("queue_items.id"))
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"))
    kind: Mapped[str] = mapped_column(String(10))  # sentiment, flag or team
    wrong: Mapped[str] = mapped_column(String(100))  # the judgement marked wrong: a label, a flag, a team
    right: Mapped[str | None] = mapped_column(String(100))  # the right label or team; None for a flag
    team: Mapped[str] = mapped_column(String(40))  # the item's team when it was corrected
    language: Mapped[str] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
