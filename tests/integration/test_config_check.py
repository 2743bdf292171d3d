"""`vigie config check`, and every command, on a configuration with one misspelt key: exit 2
naming the file, the key's path and the nearest valid name; secrets never in any output."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.kit import config_dir, vigie_env
from tests.support import VIGIE
from vigie.cli_config import config

ENV_SECRET = "envsecret-Kq8vW2mZ7xR4tY6uI0oP3aS5dF"  # VIGIE_SECRET_KEY (at least 32 characters)
DB_SECRET = "dbsecret-Hj3kL9"
FILE_SECRET = "filesecret-Zx7Cv2Bn"
RSS = {"name": "news", "kind": "rss", "interval_seconds": 300, "url": "https://news.example/feed"}

# One misspelt key per file, and what the error says (file: path: nearest name).
TYPOS: list[tuple[str, Any, str]] = [
    ("teams", lambda d: d["teams"]["legal"].update(buisness_hours={"hours": "09:00-18:00"}),
     "teams.yaml: teams.legal.buisness_hours: unknown key; did you mean business_hours?"),
    ("routing", lambda d: d["rules"][1].update(descripton="Regulator"),
     "routing.yaml: rules[1].descripton: unknown key; did you mean description?"),
    ("brands", lambda d: d["competitors"][0].update(handels=["@northwind"]),
     "brands.yaml: competitors[0].handels: unknown key; did you mean handles?"),
    ("lexicons", lambda d: d["flags"]["fraud"].update(severty="high"),
     "lexicons.yaml: flags.fraud.severty: unknown key; did you mean severity?"),
    ("sources", lambda d: d["sources"].append({**RSS, "timout_seconds": 5}),
     "sources.yaml: sources[1] (news): timout_seconds: unknown key; did you mean timeout_seconds?"),
    ("sources", lambda d: d["sources"][0].update(intervall_seconds=2),
     "sources.yaml: sources[0] (demo): intervall_seconds: unknown key; did you mean interval_seconds?"),
    ("notifications", lambda d: d.update(channels=[{"name": "ops", "url": f"json://hook.example/{FILE_SECRET}",
                                                    "events": ["critical"], "enabeld": True}]),
     "notifications.yaml: channels[0].enabeld: unknown key; did you mean enabled?"),
    ("reporting", lambda d: d["detector"].update(z_treshold=3),
     "reporting.yaml: detector.z_treshold: unknown key; did you mean z_threshold?"),
    ("outbound", lambda d: d["screening"].update(on_hits="block"),
     "outbound.yaml: screening.on_hits: unknown key; did you mean on_hit?"),
    ("archive", lambda d: d["retention"]["rules"][0].update(clas="mifid"),
     "archive.yaml: retention.rules[0].clas: unknown key; did you mean class?"),
]


def _env(cfg: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    return vigie_env(f"postgresql+psycopg://vigie:{DB_SECRET}@127.0.0.1:9/none", cfg,
                     extra={"VIGIE_SECRET_KEY": ENV_SECRET, **extra})


def _no_secret(*outputs: str) -> None:
    for text in outputs:
        for secret in (ENV_SECRET, DB_SECRET, FILE_SECRET):
            assert secret not in text


@pytest.mark.parametrize(("file", "typo", "message"), TYPOS, ids=[f"{t[0]}-{i}" for i, t in enumerate(TYPOS)])
def test_config_check_names_the_misspelt_key(tmp_path: Path, file: str, typo: Any, message: str) -> None:
    cfg = config_dir(tmp_path, **{file: typo})
    result = CliRunner().invoke(config, ["check"], env=_env(cfg, tmp_path))
    assert result.exit_code == 2, result.output
    assert f"configuration error: {message}" in result.stderr
    _no_secret(result.output, result.stderr)


def test_an_unknown_variable_is_a_typo_too(tmp_path: Path) -> None:
    env = _env(config_dir(tmp_path), tmp_path, VIGIE_LOG_LEVLE="DEBUG")
    result = CliRunner().invoke(config, ["check"], env=env)
    assert result.exit_code == 2
    assert ("configuration error: environment: VIGIE_LOG_LEVLE: unknown variable; did you mean VIGIE_LOG_LEVEL?"
            in result.stderr)
    # a variable a file names for a credential is known
    cfg = config_dir(tmp_path / "named", notifications={"channels": [
        {"name": "ops", "url_env": "VIGIE_OPS_HOOK", "events": ["critical"]}]})
    named = CliRunner().invoke(config, ["check"],
                               env=_env(cfg, tmp_path, VIGIE_OPS_HOOK=f"json://hook.example/{FILE_SECRET}"))
    assert named.exit_code == 0, named.stderr
    _no_secret(named.output, named.stderr)


@pytest.mark.parametrize("command", [["config", "check"], ["collect", "--once"], ["serve"], ["users", "list"]])
def test_every_command_fails_the_same_way(tmp_path: Path, command: list[str]) -> None:
    """A real process each: exit status 2 and the same message, before anything is opened."""
    cfg = config_dir(tmp_path, teams=TYPOS[0][1],
                     sources=lambda d: d["sources"].append({**RSS, "enabled": False, "pasword": FILE_SECRET}))
    result = subprocess.run([VIGIE, *command], env=_env(cfg, tmp_path), capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert f"configuration error: {TYPOS[0][2]}" in result.stderr
    _no_secret(result.stdout, result.stderr)
    fixed = config_dir(tmp_path / "fixed", sources=lambda d: d["sources"].append(
        {**RSS, "enabled": False, "pasword": FILE_SECRET}))
    source = subprocess.run([VIGIE, *command], env=_env(fixed, tmp_path), capture_output=True, text=True,
                            timeout=120)
    assert source.returncode == 2
    assert "configuration error: sources.yaml: sources[1] (news): pasword: unknown key; did you mean " \
           "password_env?" in source.stderr
    _no_secret(source.stdout, source.stderr)


def test_config_check_prints_what_vigie_runs_with_secrets_masked(tmp_path: Path) -> None:
    cfg = config_dir(tmp_path, sources=lambda d: d["sources"].append({**RSS, "password_env": "VIGIE_FEED_PASSWORD",
                                                                        "username_env": "VIGIE_FEED_USER"}),
                     notifications={"channels": [{"name": "ops", "url": f"json://hook.example/{FILE_SECRET}",
                                                  "events": ["critical"]}]})
    env = _env(cfg, tmp_path, VIGIE_FEED_PASSWORD=FILE_SECRET + "-pw", VIGIE_FEED_USER="feeduser",
               VIGIE_OIDC_ISSUER="https://sso.example", VIGIE_OIDC_CLIENT_ID="vigie",
               VIGIE_OIDC_CLIENT_SECRET=ENV_SECRET + "-oidc", VIGIE_PORT="9001")
    result = CliRunner().invoke(config, ["check"], env=env)
    assert result.exit_code == 0, result.stderr
    out = result.output
    _no_secret(out)
    assert "feeduser" not in out  # a credential's value, whatever its name, stays unsaid
    for line in ("# environment", "VIGIE_PORT: 9001", "DATABASE_URL: postgresql+psycopg://vigie:***@127.0.0.1:9/none",
                 "VIGIE_SECRET_KEY: '***'", "VIGIE_OIDC_CLIENT_SECRET: '***'", "VIGIE_OIDC_CLIENT_ID: vigie",
                 "# teams.yaml", "# archive.yaml", "url: '***'", "password_env: VIGIE_FEED_PASSWORD",
                 "timeout_seconds: 10",  # the rss kind's default, filled in
                 "wall:\n  reload_minutes: 360", f"configuration ok: {cfg}"):
        assert line in out, line


def test_a_password_in_the_database_url_query_is_masked_too(tmp_path: Path) -> None:
    env = {**_env(config_dir(tmp_path), tmp_path),
           "DATABASE_URL": f"postgresql+psycopg://vigie@127.0.0.1:9/none?password={DB_SECRET}&sslmode=disable"}
    result = CliRunner().invoke(config, ["check"], env=env)
    assert result.exit_code == 0, result.output
    _no_secret(result.output)
    assert "DATABASE_URL: postgresql+psycopg://vigie@127.0.0.1:9/none?password=***&sslmode=disable" in result.output
