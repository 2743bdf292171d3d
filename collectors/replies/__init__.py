"""Network writers: send an approved reply (or a new post) through each platform's write API.

The job that empties the outbox picks a due reply, marks it "sending", asks `writer_for(config)`
for the writer of the mention's source and calls it; this package makes no decision about
retries beyond saying, for each attempt, what happened (`Outcome`) and whether sending again
is safe (`Writer.idempotent`). One file per network, registered by one line in `WRITERS`.

A source is answerable when its kind has a writer and its write credentials are configured
(`write_token_env` and the like, next to the read options; see each source's "Replying"
section): rss, import and webhook sources have no writer.
"""

from __future__ import annotations

from collectors.replies.base import Outcome, Outgoing, Writer, WriterClass
from collectors.replies.bluesky import BlueskyWriter
from collectors.replies.demo import DemoWriter
from collectors.replies.mastodon import MastodonWriter
from collectors.replies.reddit import RedditWriter
from collectors.replies.x import XWriter
from config.settings import SourceConfig

__all__ = ["WRITERS", "Outcome", "Outgoing", "Writer", "answerable", "writer_for"]

# source kind -> writer class (built from the source's config); one line per network.
WRITERS: dict[str, WriterClass] = {
    "bluesky": BlueskyWriter,
    "demo": DemoWriter,
    "mastodon": MastodonWriter,
    "reddit": RedditWriter,
    "x": XWriter,
}


def answerable(config: SourceConfig) -> bool:
    """Whether replies to this source's mentions can go out through Vigie (nothing is built)."""
    cls = WRITERS.get(config.kind)
    return cls is not None and cls.configured(config)


def writer_for(config: SourceConfig) -> Writer | None:
    """The writer for the source, or None when it cannot be answered through Vigie (no writer
    for its kind, or no write credentials). Bad options raise a permanent CollectorError."""
    return WRITERS[config.kind](config) if answerable(config) else None
