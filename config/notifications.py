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

The URL is checked by Apprise at start: an unknown scheme or a malformed URL fails with a
message naming the key (never the URL itself, which often holds a token or a password). A
missing file means no channel.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.checks import ConfigError, _bool, _fail, _list, _mapping, _read_yaml, _strings, _text
from config.sources import Secret, _source_secrets

EVENTS: tuple[str, ...] = ("sla_breach", "critical", "escalation", "spike", "daily_summary", "approval",
                           "send_failed", "archive_head")
CHANNEL_KEYS: tuple[str, ...] = ("name", "url", "url_env", "url_file", "events", "teams", "enabled")


@dataclass(frozen=True)
class NotificationChannel:
    name: str
    url: Secret  # an Apprise URL; `reveal()` only when sending
    events: frozenset[str]
    teams: frozenset[str] = frozenset()  # empty: items of every team

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


def _channel(raw: Any, file: str, key: str, team_keys: set[str], env: Mapping[str, str]) -> NotificationChannel | None:
    item = _mapping(raw, file, key)
    extra = sorted(str(k) for k in item if k not in CHANNEL_KEYS)
    if extra:
        raise _fail(file, key, f"only {', '.join(CHANNEL_KEYS)}", extra)
    name = _text(item.get("name"), file, f"{key}.name")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,99}", name):
        raise _fail(file, f"{key}.name", "lower-case letters, digits, '-' or '_' (at most 100)", name)
    enabled = _bool(item.get("enabled", True), file, f"{key}.enabled")
    given = [k for k in ("url", "url_env", "url_file") if k in item]
    if len(given) != 1:
        raise _fail(file, key, "exactly one of url, url_env or url_file", given or None)
    if "url" in item:
        url = Secret(_text(item["url"], file, f"{key}.url"))
    else:
        url = _source_secrets({given[0]: item[given[0]]}, file, key, env, enabled)["url"]
    events = _strings(item.get("events"), file, f"{key}.events")
    if not events:
        raise _fail(file, f"{key}.events", f"at least one of {', '.join(EVENTS)}", item.get("events"))
    for i, event in enumerate(events):
        if event not in EVENTS:
            raise _fail(file, f"{key}.events[{i}]", f"one of {', '.join(EVENTS)}", event)
    teams = _strings(item.get("teams", []), file, f"{key}.teams")
    for i, team in enumerate(teams):
        if team not in team_keys:
            raise _fail(file, f"{key}.teams[{i}]", f"a team from teams.yaml ({', '.join(sorted(team_keys))})", team)
    if not enabled:
        return None
    _check_url(url, file, f"{key}.{given[0]}")
    return NotificationChannel(name, url, frozenset(events), frozenset(teams))


def parse_notifications(
    data: Any, team_keys: set[str], env: Mapping[str, str] | None = None, file: str = "notifications.yaml"
) -> tuple[NotificationChannel, ...]:
    """The enabled channels (a file holding only comments has none)."""
    if data is None:
        return ()
    root = _mapping(data, file, "(top level)")
    out: list[NotificationChannel] = []
    seen: set[str] = set()
    for i, raw in enumerate(_list(root.get("channels", []), file, "channels")):
        key = f"channels[{i}]"
        channel = _channel(raw, file, key, team_keys, env or {})
        name = str(_mapping(raw, file, key).get("name")).strip()
        if name in seen:
            raise _fail(file, f"{key}.name", "a name used once", name)
        seen.add(name)
        if channel is not None:
            out.append(channel)
    return tuple(out)


def load_notifications(
    config_dir: Path, team_keys: set[str], env: Mapping[str, str] | None = None
) -> tuple[NotificationChannel, ...]:
    path = config_dir / "notifications.yaml"
    if not path.is_file():  # optional: configuration folders made before notifications existed
        return ()
    return parse_notifications(_read_yaml(path), team_keys, env)
