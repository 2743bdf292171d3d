"""Source registry: kind name -> class. Adding a source is one file and one line here."""

from __future__ import annotations

from collectors.sources.demo import DemoSource
from collectors.sources.rss import RssSource
from collectors.types import CollectorError, Source
from config.settings import SourceConfig

REGISTRY: dict[str, type[Source]] = {
    "demo": DemoSource,
    "rss": RssSource,
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


def build_source(config: SourceConfig) -> Source:
    """Instantiate the class for ``config.kind``; a bad kind or option raises CollectorError."""
    try:
        cls = REGISTRY[config.kind]
    except KeyError:
        raise CollectorError(
            f"source {config.name!r}: unknown kind {config.kind!r} (known: {', '.join(sorted(REGISTRY))})",
            permanent=True,
        ) from None
    return cls(config)
