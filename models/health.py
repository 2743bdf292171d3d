"""Source health beside the sources' own rows (`models.queries.source_health`): the items each
source sent that could not be read, kept in ``rejected_items``. Session first, never committing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.tables import RejectedItem


def rejected_counts(session: Session, since: datetime) -> dict[int, int]:
    """Items rejected since ``since``, per source id (one row per source: bounded by the sources)."""
    counts = select(RejectedItem.source_id, func.count()).where(RejectedItem.at >= since)
    return {sid: n for sid, n in session.execute(counts.group_by(RejectedItem.source_id))}
