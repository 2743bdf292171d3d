"""Settings: the shipped files load; every bad value names its file, key and what was expected."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.settings import ENV_VARS, RULE_CONDITIONS, ConfigError, load_settings
from tests.kit import config_dir

REPO = Path(__file__).resolve().parents[2]


def test_shipped_config_loads() -> None:
    s = load_settings(env={})
    assert s.database_url == "sqlite:///var/vigie.db"
    assert s.team_keys == ("customer_service", "legal", "marketing")
    assert s.team("legal").sla_minutes["critical"] == 30
    assert s.rules[-1].id == "default" and not s.rules[-1].when
    assert {b.name for b in s.brands if b.competitor} == {"Northwind Bank", "Crédit Lumière"}
    assert [src.name for src in s.sources] == ["demo"]
    assert s.sources[0].options["rate_per_minute"] == 90
    assert {f.name for f in s.lexicon} >= {"regulator", "legal_threat", "fraud", "phishing", "spam"}


def test_environment_overrides() -> None:
    s = load_settings(env={"DATABASE_URL": "sqlite:////tmp/x.db", "VIGIE_PORT": "9001", "VIGIE_REFRESH_MS": "500"})
    assert (s.database_url, s.port, s.refresh_ms) == ("sqlite:////tmp/x.db", 9001, 500)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VIGIE_PORT": "eighty"}, "environment: VIGIE_PORT: expected a positive integer, got 'eighty'"),
        ({"VIGIE_BATCH_SIZE": "0"}, "environment: VIGIE_BATCH_SIZE: expected a positive integer, got '0'"),
        ({"VIGIE_LOG_LEVEL": "loud"}, "VIGIE_LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR"),
        ({"VIGIE_CONFIG": "/nonexistent/dir"}, "VIGIE_CONFIG: expected a directory"),
    ],
)
def test_bad_environment(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env=env)
    assert message in str(err.value)


def _broken(tmp_path: Path, file: str, mutate) -> str:  # type: ignore[no-untyped-def]
    cfg = config_dir(tmp_path, "cfg", **{file.removesuffix(".yaml"): mutate})
    with pytest.raises(ConfigError) as err:
        load_settings(env={"VIGIE_CONFIG": str(cfg)})
    return str(err.value)


def test_bad_sla(tmp_path: Path) -> None:
    msg = _broken(tmp_path, "teams.yaml", lambda d: d["teams"]["legal"]["sla_minutes"].update(high="soon"))
    assert msg == "teams.yaml: teams.legal.sla_minutes.high: expected a positive integer, got 'soon'"


def test_rule_with_unknown_team(tmp_path: Path) -> None:
    msg = _broken(tmp_path, "routing.yaml", lambda d: d["rules"][0].update(team="sales"))
    assert msg.startswith("routing.yaml: rules[0].team: expected a team from teams.yaml")
    assert "'sales'" in msg


def test_rule_with_unknown_condition(tmp_path: Path) -> None:
    msg = _broken(tmp_path, "routing.yaml", lambda d: d["rules"][1]["when"].update(mood="angry"))
    assert msg.startswith("routing.yaml: rules[1].when.mood: expected one of flags_any")


def test_rule_with_unknown_flag(tmp_path: Path) -> None:
    msg = _broken(tmp_path, "routing.yaml", lambda d: d["rules"][1]["when"].update(flags_any=["lawsuit"]))
    assert "rules[1].when.flags_any: expected flags defined in lexicons.yaml" in msg


def test_rule_with_unknown_brand(tmp_path: Path) -> None:
    msg = _broken(tmp_path, "routing.yaml", lambda d: d["rules"][1]["when"].update(brand_any=["Aurelia"]))
    assert msg.startswith("routing.yaml: rules[1].when.brand_any: expected brand names from brands.yaml")
    assert "['Aurelia']" in msg


def test_rules_need_a_default(tmp_path: Path) -> None:
    msg = _broken(tmp_path, "routing.yaml", lambda d: d["rules"].pop())
    assert "routing.yaml: rules: expected a last rule with no `when`" in msg


def test_bad_regex(tmp_path: Path) -> None:
    msg = _broken(tmp_path, "routing.yaml", lambda d: d["rules"][0]["when"].update(text_regex="(unclosed"))
    assert msg.startswith("routing.yaml: rules[0].when.text_regex: expected a valid regular expression")


def test_source_needs_interval(tmp_path: Path) -> None:
    msg = _broken(tmp_path, "sources.yaml", lambda d: d["sources"][0].pop("interval_seconds"))
    assert msg == "sources.yaml: sources[0].interval_seconds: expected a positive number, got None"


def test_bad_severity(tmp_path: Path) -> None:
    msg = _broken(tmp_path, "lexicons.yaml", lambda d: d["flags"]["fraud"].update(severity="urgent"))
    assert msg == "lexicons.yaml: flags.fraud.severity: expected one of critical, high, medium, low, got 'urgent'"


def test_brand_without_terms(tmp_path: Path) -> None:
    msg = _broken(tmp_path, "brands.yaml", lambda d: d["competitors"][0].update(handles=[], keywords=[]))
    assert msg.startswith("brands.yaml: competitors[0]: expected at least one handle or keyword")


def test_invalid_yaml(tmp_path: Path) -> None:
    cfg = config_dir(tmp_path, "cfg", teams="teams: [unclosed\n")
    with pytest.raises(ConfigError, match=r"^teams.yaml: not valid YAML"):
        load_settings(env={"VIGIE_CONFIG": str(cfg)})


def test_readme_documents_every_setting() -> None:
    readme = (REPO / "README.md").read_text()
    missing = [name for name in ENV_VARS if f"`{name}`" not in readme]
    missing += [cond for cond in RULE_CONDITIONS if f"`{cond}`" not in readme]
    keys = ["sla_minutes", "interval_seconds", "enabled", "handles", "keywords", "severity", "influencer_followers",
            "rate_per_minute", "backfill_hours", "page_size", "seed", "duplicate_share", "repost_share",
            "malformed_share", "description", "status", "business_hours.timezone", "business_hours.days",
            "business_hours.hours", "business_hours.holidays", "business_hours.holidays.calendars",
            "business_hours.holidays.add", "business_hours.holidays.remove", "around_the_clock", "at_risk_share",
            "channels",
            "url_env", "url_file", "events", "sla_breach", "critical", "escalation", "spike", "timezone"]
    from config.reporting import DETECTOR_KEYS, SUMMARY_KEYS, WALL_KEYS
    keys += [f"detector.{k}" for k in DETECTOR_KEYS] + [f"wall.{k}" for k in WALL_KEYS]
    keys += [f"summary.{k}" for k in SUMMARY_KEYS] + ["daily_summary", "approval", "send_failed", "archive_head"]
    keys += ["approval.default", "approval.rules", "approval.expire_hours", "approval.sla_minutes", "length_limits",
             "disclosures", "screening.on_hit", "screening.defaults", "screening.terms", "accounts"]
    from config.archive import TOP_KEYS as ARCHIVE_KEYS
    keys += [k for k in ARCHIVE_KEYS if k not in ("retention", "supervision")]
    keys += ["retention.classes", "retention.default", "retention.rules", "supervision.flags",
             "supervision.sample_percent", "supervision.sample_rules", "supervision.free_form", "supervision.due_hours"]
    missing += [k for k in keys if f"`{k}`" not in readme]
    for yaml_file in sorted((REPO / "config").glob("*.yaml")):
        if f"`{yaml_file.name}`" not in readme:
            missing.append(yaml_file.name)
    assert not missing, f"README.md does not document: {missing}"
    assert re.search(r"make demo", readme) and re.search(r"make test", readme)


def test_rate_limit_reset_headers_in_every_platform_form() -> None:
    from datetime import UTC, datetime, timedelta

    from collectors.http import parse_rate_limit_reset, parse_retry_after

    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == now + timedelta(seconds=120)
    assert parse_retry_after("Wed, 25 Nov 2026 12:05:00 GMT", now) == now + timedelta(minutes=5)
    assert parse_retry_after("soon", now) is None
    assert parse_rate_limit_reset(str(int((now + timedelta(minutes=15)).timestamp())), now) == now + timedelta(
        minutes=15)  # X and Bluesky: epoch seconds
    assert parse_rate_limit_reset("42.0", now) == now + timedelta(seconds=42)  # Reddit: seconds to wait
    assert parse_rate_limit_reset("2026-11-25T12:10:00.000Z", now) == now + timedelta(minutes=10)  # Mastodon
    assert parse_rate_limit_reset("later", now) is None


def test_readme_documents_every_connector_key() -> None:
    """Each connector's module docstring holds a sources.yaml example; every key in it is in the README."""
    import inspect

    from collectors.sources import REGISTRY

    readme = (REPO / "README.md").read_text()
    common = {"sources", "name", "kind", "interval_seconds", "enabled"}
    missing = []
    for kind, cls in REGISTRY.items():
        doc = inspect.getmodule(cls).__doc__ or ""  # type: ignore[union-attr]
        keys = set(re.findall(r"^\s+(?:- )?([a-z][a-z0-9_]*):(?:\s|$)", doc, re.MULTILINE)) - common
        assert keys or kind == "demo", f"{kind}: no sources.yaml example in its module docstring"
        missing += [f"{kind}.{k}" for k in sorted(keys) if f"`{k}`" not in readme]
        assert f"`{kind}`" in readme, kind
    assert not missing, f"README.md does not document: {missing}"
