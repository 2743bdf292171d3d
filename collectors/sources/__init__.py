"""Source registry: kind name -> class. Adding a source is one file and one line here."""

from __future__ import annotations

from collectors.sources.bluesky import BlueskySource
from collectors.sources.demo import DemoSource
from collectors.sources.mastodon import MastodonSource
from collectors.sources.reddit import RedditSource
from collectors.sources.rss import RssSource
from collectors.sources.webhook import WebhookSource
from collectors.sources.x import XSource
from collectors.types import CollectorError, PushSource, Source
from config.settings import SourceConfig

REGISTRY: dict[str, type[Source] | type[PushSource]] = {
    "bluesky": BlueskySource,
    "demo": DemoSource,
    "mastodon": MastodonSource,
    "reddit": RedditSource,
    "rss": RssSource,
    "webhook": WebhookSource,  # a PushSource: nothing to fetch; the scheduler skips it
    "x": XSource,
}


def check_sources(configs: tuple[SourceConfig, ...]) -> None:
    """Build every enabled source once at start, so a bad kind or option stops the program
    with a message naming sources.yaml and the source, instead of failing every poll."""
    for index, config in enumerate(configs):
        if not config.enabled:
            continue
        try:
            build_source(config)
        except CollectorError as exc:
            raise CollectorError(f"sources.yaml: sources[{index}] ({config.name}): {exc.message}", True) from exc


def build_source(config: SourceConfig) -> Source | PushSource:
    """Instantiate the class for ``config.kind``; a bad kind or option raises CollectorError."""
    try:
        cls = REGISTRY[config.kind]
    except KeyError:
        raise CollectorError(
            f"source {config.name!r}: unknown kind {config.kind!r} (known: {', '.join(sorted(REGISTRY))})",
            permanent=True,
        ) from None
    return cls(config)


def build_polled_source(config: SourceConfig) -> Source:
    """The source for one poll; a push source (webhook) has nothing to poll."""
    source = build_source(config)
    if getattr(source, "push", False) or not hasattr(source, "fetch"):
        raise CollectorError(f"source {config.name!r}: kind {config.kind!r} is pushed to, not polled", True)
    return source  # type: ignore[return-value]  # has fetch(): a polled Source
