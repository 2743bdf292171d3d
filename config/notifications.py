"""`notifications.yaml`: where Vigie sends alerts, through Apprise (https://github.com/caronc/apprise).

Each channel::

    channels:
      - name: leads-mail                     # lower-case letters, digits, '-' or '_'; used once
        url_env: VIGIE_NOTIFY_LEADS_URL      # the Apprise URL: `url`, `url_env` (a variable) or
                                             # `url_file` (a file) — read once at start, kept secret
        events: [sla_breach, critical]       # any of sla_breach, critical, escalation, spike, daily_summary,
                                             # approval (a draft waits for compliance), send_failed,
                                             # archive_head (the day's archive head, for compliance)
        teams: [legal]                       # optional: only items of these teams (default: all;
                                             # a channel with teams gets no spike alert nor daily
                                             # summary: they concern every team)
        enabled: true                        # optional; a disabled channel needs no URL
        language: fr                         # optional: en (the default) or fr, the messages' and
                                             # the summary PDF's language (times in reporting.yaml's zone)

The URL is checked by Apprise at start: an unknown scheme or a malformed URL fails with a
message naming the key (never the URL itself, which often holds a token or a password). A
missing file means no channel.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from config.checks import (
    Bool,
    ConfigError,
    FileModel,
    OneOf,
    SecretText,
    Text,
    _fail,
    expect,
    validate,
)
from config.sources import Secret, _source_secrets
from i18n import LANGUAGES

EVENTS: tuple[str, ...] = ("sla_breach", "critical", "escalation", "spike", "daily_summary", "approval",
                           "send_failed", "archive_head")


@dataclass(frozen=True)
class NotificationChannel:
    name: str
    url: Secret  # an Apprise URL; `reveal()` only when sending
    events: frozenset[str]
    teams: frozenset[str] = frozenset()  # empty: items of every team
    language: str | None = None  # the readers' language (None: English)

    def wants(self, event: str, team: str | None) -> bool:
        """``team`` None: a firm-wide message (a spike alert, the daily summary), for the subscribed
        channels without a ``teams`` filter only (a team's channel gets its team's items only)."""
        return event in self.events and (not self.teams or (team is not None and team in self.teams))


def _check_url(url: Secret, file: str, key: str) -> None:
    import apprise  # imported here: only a configured channel needs it at start

    value = url.reveal()
    if apprise.Apprise.instantiate(value) is None:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        shown = f"a URL with scheme {scheme + '://'!r}" if scheme and len(scheme) < 20 else "a value"
        raise ConfigError(f"{file}: {key}: expected an Apprise URL (see Apprise's wiki for each service), "
                          f"got {shown} that Apprise rejects")


ChannelName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$"),
                       expect("lower-case letters, digits, '-' or '_' (at most 100)",
                              lambda v: isinstance(v, str) and re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,99}", v.strip()),
                              str.strip)]


class ChannelEntry(FileModel):
    name: ChannelName = Field(description="the channel's name (used once)")
    url: SecretText | None = Field(default=None, description="the Apprise URL itself (prefer url_env or url_file)")
    url_env: Text | None = Field(default=None, description="an environment variable holding the Apprise URL")
    url_file: Text | None = Field(default=None, description="a file holding the Apprise URL")
    events: list[Annotated[str, OneOf(EVENTS)]] = Field(description="the events sent to it")
    teams: list[Text] = Field(default=[], description="only items of these teams (default: all)")
    enabled: Bool = Field(default=True, description="false: kept here, sends nothing (needs no URL)")
    language: Annotated[str, OneOf(LANGUAGES)] | None = Field(
        default=None, description="the language of its messages and of the summary PDF: en or fr (default: en)")

    @model_validator(mode="after")
    def _one_url(self) -> ChannelEntry:
        given = [k for k in ("url", "url_env", "url_file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"expected exactly one of url, url_env or url_file, got {given or None!r}")
        return self

    @field_validator("events")
    @classmethod
    def _some_event(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(f"expected at least one of {', '.join(EVENTS)}, got []")
        return value


class NotificationsFile(FileModel):
    channels: list[ChannelEntry] = Field(default=[], description="where alerts go")


def parse_notifications(
    data: Any, team_keys: set[str], env: Mapping[str, str] | None = None, file: str = "notifications.yaml"
) -> tuple[NotificationChannel, ...]:
    """The enabled channels (a file holding only comments has none)."""
    checked = validate(NotificationsFile, data, file)
    out: list[NotificationChannel] = []
    seen: set[str] = set()
    for i, channel in enumerate(checked.channels):
        key = f"channels[{i}]"
        if channel.name in seen:
            raise _fail(file, f"{key}.name", "a name used once", channel.name)
        seen.add(channel.name)
        for j, team in enumerate(channel.teams):
            if team not in team_keys:
                raise _fail(file, f"{key}.teams[{j}]", f"a team from teams.yaml ({', '.join(sorted(team_keys))})",
                            team)
        via = next(k for k in ("url", "url_env", "url_file") if getattr(channel, k) is not None)
        if via == "url":
            url = Secret(str(channel.url))
        else:
            url = _source_secrets({via: getattr(channel, via)}, file, key, env or {}, channel.enabled)["url"]
        if not channel.enabled:
            continue
        _check_url(url, file, f"{key}.{via}")
        out.append(NotificationChannel(channel.name, url, frozenset(channel.events), frozenset(channel.teams),
                                       channel.language))
    return tuple(out)
