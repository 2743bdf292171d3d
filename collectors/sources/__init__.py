"""Source registry: kind name -> class. Adding a source is one file and one line here.

A source class declares its options (``Options``, a `collectors.options.SourceOptions` model,
whose ``credentials`` are the secrets it takes); `load_checked_settings` checks every source of
`sources.yaml` against them when the settings load, in every process, so a bad option stops the
start with a message naming the file, the source and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from collectors.options import SourceOptions, check_options
from collectors.sources.bluesky import BlueskySource
from collectors.sources.demo import DemoSource
from collectors.sources.mastodon import MastodonSource
from collectors.sources.reddit import RedditSource
from collectors.sources.rss import RssSource
from collectors.sources.webhook import WebhookSource
from collectors.sources.x import XSource
from collectors.types import CollectorError, PushSource, Source
from config.settings import ConfigError, Settings, SourceConfig, load_settings


class SourceClass(Protocol):
    """What the registry holds: a source class (read-only members: its class attributes), its
    declared options (with the credentials it takes), and its constructor."""

    @property
    def kind(self) -> str: ...

    @property
    def Options(self) -> type[SourceOptions]: ...  # the class attribute naming its model

    def __call__(self, config: SourceConfig, options: Any) -> Source | PushSource: ...


REGISTRY: dict[str, SourceClass] = {
    "bluesky": BlueskySource,
    "demo": DemoSource,
    "mastodon": MastodonSource,
    "reddit": RedditSource,
    "rss": RssSource,
    "webhook": WebhookSource,  # a PushSource: nothing to fetch; the scheduler skips it
    "x": XSource,
}


def load_checked_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """`config.settings.load_settings` and then `check_sources`: what every process starts with
    (the `vigie` commands and gunicorn's `dashboard.wsgi`), which also routes the process's outbound
    requests through the settings' egress proxy and CA bundle. Raise ConfigError."""
    from collectors.http import use_egress

    settings = load_settings(env, **overrides)
    check_sources(settings.sources)
    use_egress(settings.egress)  # every HTTP client of this process goes out as the settings say
    return settings


def check_sources(configs: tuple[SourceConfig, ...]) -> None:
    """Check every source's kind, options and credentials against its declaration; raise ConfigError
    naming sources.yaml, the source and the key. A disabled source's options are checked too (a typo
    is caught before it is enabled), but not its credentials (it may lack them while disabled), and
    a disabled source of a kind this version does not know is left alone (it is never built)."""
    for index, config in enumerate(configs):
        cls = REGISTRY.get(config.kind)
        where = f"sources.yaml: sources[{index}] ({config.name})"
        if cls is None:
            if config.enabled:
                raise ConfigError(f"{where}: {_unknown_kind(config.kind)}")
            continue
        try:
            check_options(config, cls.Options, where)
        except CollectorError as exc:
            raise ConfigError(exc.message) from None


def _unknown_kind(kind: str) -> str:
    return f"unknown kind {kind!r} (known: {', '.join(sorted(REGISTRY))})"


def build_source(config: SourceConfig) -> Source | PushSource:
    """Instantiate the class for ``config.kind`` with its checked options; a bad kind or option
    raises a permanent CollectorError."""
    try:
        cls = REGISTRY[config.kind]
    except KeyError:
        raise CollectorError(f"source {config.name!r}: {_unknown_kind(config.kind)}", permanent=True) from None
    return cls(config, check_options(config, cls.Options))


def build_polled_source(config: SourceConfig) -> Source:
    """The source for one poll; a push source (webhook) has nothing to poll."""
    source = build_source(config)
    if getattr(source, "push", False) or not hasattr(source, "fetch"):
        raise CollectorError(f"source {config.name!r}: kind {config.kind!r} is pushed to, not polled", True)
    return source  # type: ignore[return-value]  # has fetch(): a polled Source
