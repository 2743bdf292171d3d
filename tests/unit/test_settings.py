"""Settings: the shipped files load; every bad value names its file, key and what was expected."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args, get_origin

import pytest
from pydantic import BaseModel

from collectors.options import valid_keys
from collectors.sources import REGISTRY
from config.checks import _unwrap, field_at
from config.effective import FILE_MODELS
from config.environment import TEST_ENV_VARS, Environment
from config.settings import ENV_VARS, ConfigError, load_settings
from config.training import TRAINING_ENV_VARS, train_cache
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


def test_the_training_tools_cache_variable_is_known_and_checked(tmp_path: Path) -> None:
    # a developer who exports VIGIE_TRAIN_CACHE (README) can still run the product beside the training tool
    assert load_settings(env={"VIGIE_TRAIN_CACHE": str(tmp_path)}).port > 0
    with pytest.raises(ConfigError, match="VIGIE_TRAIN_CAHCE: unknown variable"):
        load_settings(env={"VIGIE_TRAIN_CAHCE": str(tmp_path)})
    assert train_cache({"VIGIE_TRAIN_CACHE": str(tmp_path / "vectors")}) == tmp_path / "vectors"
    assert train_cache({"VIGIE_TRAIN_CACHE": ""}) == train_cache({}) == REPO / "var" / "train-cache"
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ConfigError, match="VIGIE_TRAIN_CACHE: expected a folder"):
        train_cache({"VIGIE_TRAIN_CACHE": str(tmp_path / "a-file")})


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
    assert msg == ("routing.yaml: rules[1].when.mood: unknown key; expected one of flags_any, sentiment, "
                   "sentiment_below, competitor, brand_any, language_any, priority_at_least, min_followers, text_regex")
    msg = _broken(tmp_path / "typo", "routing.yaml", lambda d: d["rules"][1]["when"].update(sentimnet="negative"))
    assert msg == "routing.yaml: rules[1].when.sentimnet: unknown key; did you mean sentiment?"


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
    assert msg == "sources.yaml: sources[0].interval_seconds: required: expected a positive number"


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


def key_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every key a model declares, as a dotted path (a list's items and a mapping's values are
    walked through: ``teams.business_hours.days``, ``rules.when.flags_any``)."""
    out = []
    for name, info in model.model_fields.items():
        path = prefix + (info.alias or name)
        out.append(path)
        inner, _, _ = field_at(model, (name,))
        while get_origin(inner) in (list, dict):
            inner, _ = _unwrap(get_args(inner)[-1])
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            out += key_paths(inner, path + ".")
    return out


def readme_section(readme: str, title: str) -> str:
    return readme.split(f"\n### {title}\n", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]


def documentation_problems(readme: str) -> list[str]:
    """What the README's configuration reference gets wrong about the declared models: a key of a
    file's model not named in its section (its whole path, or its own name, in backticks), a key in
    the first column of a section's table that no model declares, an environment variable missing
    from the table or listed there without being read."""
    problems = []
    for file, (model, _) in FILE_MODELS.items():
        section = readme_section(readme, f"`{file}`")
        paths = key_paths(model)
        for path in paths:
            parts = path.split(".")
            suffixes = [".".join(parts[i:]) for i in range(len(parts))]  # its whole path, …, its own name
            if not any(f"`{s}`" in section for s in suffixes) and f"`{path}." not in section:  # (or a block's keys)
                problems.append(f"{file}: {path}: declared, not documented")
        if file == "sources.yaml":  # each kind's options: their tables are checked by test_source_options_doc
            paths += [f"sources.{key}" for cls in REGISTRY.values() for key in valid_keys(cls.Options)]
        for row in re.findall(r"^\| `([a-z_.<>]+)` \|", section, re.MULTILINE):
            key = re.sub(r"\.<[a-z_]+>", "", row)
            if key not in paths and not any(p.endswith(f".{key}") for p in paths):
                problems.append(f"{file}: {row}: documented, not declared")
    environment = readme_section(readme, "Environment")
    table = set(re.findall(r"^\| `([A-Z_]+)` \|", environment, re.MULTILINE))
    problems += [f"environment: {name}: read, not documented" for name in ENV_VARS if name not in table]
    problems += [f"environment: {name}: documented, not read" for name in sorted(table)
                 if name not in ENV_VARS and name not in TEST_ENV_VARS and name not in TRAINING_ENV_VARS]
    return problems


def test_readme_documents_every_setting() -> None:
    readme = (REPO / "README.md").read_text()
    assert documentation_problems(readme) == []
    assert {f.alias for f in Environment.model_fields.values()} == set(ENV_VARS)  # one declaration each
    for yaml_file in sorted((REPO / "config").glob("*.yaml")):
        assert yaml_file.name in FILE_MODELS and f"`{yaml_file.name}`" in readme, yaml_file.name
    assert re.search(r"make demo", readme) and re.search(r"make test", readme)


def test_the_documentation_check_finds_what_is_missing_or_extra() -> None:
    readme = (REPO / "README.md").read_text()
    assert "| `detector.every_seconds` |" in readme and "| `VIGIE_PORT` |" in readme
    broken = readme.replace("| `detector.every_seconds` |", "| `detector.every_second` |")
    broken = broken.replace("| `VIGIE_PORT` |", "| `VIGIE_PROT` |")
    assert sorted(documentation_problems(broken)) == [
        "environment: VIGIE_PORT: read, not documented", "environment: VIGIE_PROT: documented, not read",
        "reporting.yaml: detector.every_second: documented, not declared",
        "reporting.yaml: detector.every_seconds: declared, not documented"]


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


PRIMARY = "postgresql+psycopg://vigie:pw@primary.internal:5432/vigie"


@pytest.mark.parametrize("url", ["sqlite:///var/replica.db", "postgresql://", "postgres://r/db",
                                 "postgresql+psycopg://u@replica:notaport/db", "replica.internal",
                                 "postgresql+pg8000://u@replica/db"])
def test_a_bad_read_url_is_refused_at_start_without_its_value(url: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env={"DATABASE_URL": PRIMARY, "DATABASE_READ_URL": url})
    assert str(err.value).startswith("environment: DATABASE_READ_URL: expected a PostgreSQL SQLAlchemy URL")
    assert url not in str(err.value)  # a secret: never echoed


def test_a_read_url_is_kept_and_unset_by_default() -> None:
    url = "postgresql+psycopg://vigie:pw@replica.internal:5433/vigie"
    assert load_settings(env={"DATABASE_URL": PRIMARY, "DATABASE_READ_URL": url}).database_read_url == url
    assert load_settings(env={}).database_read_url is None


def test_a_replica_beside_an_sqlite_primary_is_refused() -> None:
    url = "postgresql+psycopg://vigie:pw@replica.internal:5433/vigie"
    with pytest.raises(ConfigError) as err:
        load_settings(env={"DATABASE_READ_URL": url})  # DATABASE_URL: the SQLite default
    assert str(err.value).startswith("environment: DATABASE_READ_URL: a replica is read only beside a PostgreSQL")
    assert url not in str(err.value)
