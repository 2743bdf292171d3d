"""What the reply panel and the thread share: the reply rules compiled once, whether an item's
source can be answered through Vigie, and where a reply to an item goes."""

from __future__ import annotations

from config.settings import Settings
from models import replies
from models.reply_views import ItemContext

# PROVISIONAL: the kinds of source whose network Vigie can post a reply to. `answerable` is the one
# place that asks; it becomes `collectors.replies.answerable(source_config)` once the writers land.
ANSWERABLE_KINDS = frozenset({"x", "bluesky", "mastodon", "reddit", "demo"})

_rules_cache: list[tuple[Settings, replies.Rules]] = []


def answerable(settings: Settings, source_name: str | None) -> bool:
    """Can a reply to a post of ``source_name`` be sent through Vigie (its network has a writer)?"""
    config = next((s for s in settings.sources if s.name == source_name), None)
    return config is not None and config.kind in ANSWERABLE_KINDS


def rules_for(settings: Settings) -> replies.Rules:
    """The reply rules, compiled once per settings object (not the screening lexicon at every key)."""
    if _rules_cache and _rules_cache[0][0] is settings:
        return _rules_cache[0][1]
    rules = replies.compile_rules(settings)
    _rules_cache[:] = [(settings, rules)]
    return rules


def target_of(ctx: ItemContext, settings: Settings) -> replies.Target:
    """Where a reply to the item goes: through its post's source when that can be answered (None: it
    cannot, and only an answer made elsewhere can be recorded)."""
    source = ctx.source_name if answerable(settings, ctx.source_name) else None
    return replies.Target("reply", ctx.network, source, ctx.team, ctx.brand, ctx.language, ctx.item_id, ctx.mention_id)
