"""Judgements made after ingest: a firm's own model's score of an item's post (the `sentiment:rescore`
job). The post and its shipped-model score stay as stored; this row sits beside them."""

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
    # The model decides when set: "model" (its label routed the item) or "shipped" (the labels agree,
    # nothing to decide). What the decision changed, in words, for the item page.
    decided_by: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(Text)
