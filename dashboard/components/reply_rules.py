"""Where a reply to an item goes (the reply panel and the thread): through its post's source when
that source can be answered through Vigie (`dashboard.components.outbound.answerable`, the one
place that asks), else nowhere, and only an answer made elsewhere can be recorded."""

from __future__ import annotations

from config.settings import Settings
from dashboard.components.outbound import answerable, rules_for
from models import replies
from models.reply_views import ItemContext

__all__ = ["answerable", "rules_for", "target_of"]


def target_of(ctx: ItemContext, settings: Settings) -> replies.Target:
    """Where a reply to the item goes (``source_name`` None: it cannot be answered through Vigie)."""
    source = ctx.source_name if answerable(settings, ctx.source_name) else None
    return replies.Target("reply", ctx.network, source, ctx.team, ctx.brand, ctx.language, ctx.item_id, ctx.mention_id)
