"""notifications.yaml: channels, their secret Apprise URLs, events and team filters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config.notifications import NotificationChannel, parse_notifications
from config.settings import ConfigError, Secret, load_settings
from tests.kit import config_dir

REPO = Path(__file__).resolve().parents[2]
TEAMS = {"customer_service", "legal", "marketing"}
SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"


def _parse(*channels: dict[str, Any], env: dict[str, str] | None = None) -> tuple[NotificationChannel, ...]:
    return parse_notifications({"channels": list(channels)}, TEAMS, env or {})


def test_shipped_file_has_no_active_channel() -> None:
    assert load_settings(env={}).notifications == ()


def test_missing_file_means_no_channel(tmp_path: Path) -> None:
    cfg = config_dir(tmp_path, "cfg", notifications=None)
    assert load_settings(env={"VIGIE_CONFIG": str(cfg)}).notifications == ()


def test_channels_from_url_env_and_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "mail_url"
    secret_file.write_text("mailto://relay.internal:25?from=vigie@example.com&to=duty@example.com\n")
    slack, mail = _parse(
        {"name": "leads-slack", "url_env": "VIGIE_SLACK", "events": ["sla_breach", "critical", "escalation"]},
        {"name": "legal-mail", "url_file": str(secret_file), "events": ["critical"], "teams": ["legal"]},
        env={"VIGIE_SLACK": SLACK},
    )
    assert slack.url == Secret(SLACK) and "T1JJ3T3L2" not in repr(slack)
    assert slack.wants("escalation", "marketing") and slack.wants("critical", None)
    assert mail.url.reveal().startswith("mailto://relay.internal:25")
    assert mail.wants("critical", "legal")
    assert not mail.wants("critical", "marketing") and not mail.wants("sla_breach", "legal")


def test_disabled_channel_needs_no_url() -> None:
    assert _parse({"name": "later", "url_env": "UNSET_VAR", "events": ["critical"], "enabled": False}) == ()


@pytest.mark.parametrize(
    ("channel", "message"),
    [
        ({"name": "x", "url_env": "VIGIE_NOPE", "events": ["critical"]},
         "notifications.yaml: channels[0].url_env: environment variable VIGIE_NOPE is not set"),
        ({"name": "x", "url": SLACK, "url_env": "VIGIE_SLACK", "events": ["critical"]},
         "notifications.yaml: channels[0]: expected exactly one of url, url_env or url_file"),
        ({"name": "x", "events": ["critical"]},
         "notifications.yaml: channels[0]: expected exactly one of url, url_env or url_file, got None"),
        ({"name": "x", "url": SLACK, "events": ["breach"]},
         "notifications.yaml: channels[0].events[0]: expected one of sla_breach, critical, escalation, spike, "
         "daily_summary, approval, send_failed, archive_head, got 'breach'"),
        ({"name": "x", "url": SLACK, "events": []},
         "notifications.yaml: channels[0].events: expected at least one of sla_breach, critical, escalation, spike, "
         "daily_summary"),
        ({"name": "x", "url": SLACK, "events": ["critical"], "teams": ["sales"]},
         "notifications.yaml: channels[0].teams[0]: expected a team from teams.yaml"),
        ({"name": "Ops Chat", "url": SLACK, "events": ["critical"]},
         "notifications.yaml: channels[0].name: expected lower-case letters, digits, '-' or '_'"),
        ({"name": "x", "url": SLACK, "events": ["critical"], "channel": "#ops"},
         "notifications.yaml: channels[0].channel: unknown key; expected one of name, url, url_env, url_file, "
         "events, teams, enabled"),
        ({"name": "x", "url": SLACK, "events": ["critical"], "team": ["legal"]},
         "notifications.yaml: channels[0].team: unknown key; did you mean teams?"),
        ({"name": "x", "url": SLACK, "events": ["critical"], "language": "de"},
         "notifications.yaml: channels[0].language: expected one of en, fr, got 'de'"),
    ],
)
def test_bad_channel(channel: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        _parse(channel)
    assert str(err.value).startswith(message)


def test_url_apprise_rejects_is_named_without_its_secret() -> None:
    with pytest.raises(ConfigError) as err:
        _parse({"name": "x", "url_env": "VIGIE_URL", "events": ["critical"]},
               env={"VIGIE_URL": "nosuchservice://s3cr3t-token@host"})
    assert str(err.value).startswith("notifications.yaml: channels[0].url_env: expected an Apprise URL")
    assert "s3cr3t" not in str(err.value)


def test_a_channel_says_its_readers_language() -> None:
    french, default = _parse({"name": "direction", "url": SLACK, "events": ["daily_summary"], "language": "fr"},
                             {"name": "ops", "url": SLACK, "events": ["critical"]})
    assert (french.language, default.language) == ("fr", None)


def test_duplicate_names() -> None:
    with pytest.raises(ConfigError, match=r"channels\[1\].name: expected a name used once, got 'ops'"):
        _parse({"name": "ops", "url": SLACK, "events": ["critical"]},
               {"name": "ops", "url": SLACK, "events": ["critical"]})
