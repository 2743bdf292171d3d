"""Source options are checked when the settings load, in every process: gunicorn's `dashboard.wsgi`
refuses to start on a bad option (not on the first request), naming the file, the source and the key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from collectors.sources import check_sources, load_checked_settings
from config.settings import ConfigError, Secret, SourceConfig
from tests.kit import config_dir
from tests.support import REPO

HOOK = {"kind": "webhook", "interval_seconds": 60, "secret_env": "VIGIE_TEST_HOOK_SECRET"}


def _config_dir(tmp_path: Path, sources: list[dict[str, Any]]) -> Path:
    return config_dir(tmp_path, sources={"sources": sources})


def test_the_wsgi_module_refuses_a_bad_source_option_at_import(tmp_path: Path) -> None:
    cfg = _config_dir(tmp_path, [{"name": "demo", "kind": "demo", "interval_seconds": 2},
                                 {"name": "fb-page", **HOOK, "max_body_mb": 0}])
    env = {**os.environ, "VIGIE_CONFIG": str(cfg), "DATABASE_URL": f"sqlite:///{tmp_path / 'v.db'}",
           "VIGIE_TEST_HOOK_SECRET": "s" * 20}
    result = subprocess.run([sys.executable, "-c", "import dashboard.wsgi"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "sources.yaml: sources[1] (fb-page): max_body_mb: Input should be greater than 0, got 0" in result.stderr
    assert not (tmp_path / "v.db").exists()  # stopped before opening the database


def test_load_checked_settings_names_a_missing_required_credential(tmp_path: Path) -> None:
    hook = {**HOOK}
    del hook["secret_env"]
    cfg = _config_dir(tmp_path, [{"name": "fb-page", **hook}])
    with pytest.raises(ConfigError) as caught:
        load_checked_settings(env={"VIGIE_CONFIG": str(cfg)})
    assert str(caught.value) == ("sources.yaml: sources[0] (fb-page): "
                                 "secret: required (secret_env: VARIABLE or secret_file: PATH)")
    good = _config_dir(tmp_path / "good", [{"name": "demo", "kind": "demo", "interval_seconds": 2, "seed": 3}])
    assert load_checked_settings(env={"VIGIE_CONFIG": str(good)}).sources[0].options == {"seed": 3}


def test_a_disabled_source_has_its_options_checked_but_may_lack_its_credentials() -> None:
    check_sources((SourceConfig("off", "webhook", 60, False, {}),  # no secret: fine while disabled
                   SourceConfig("later", "carrier-pigeon", 60, False, {"x": 1}),  # unknown kind: never built
                   SourceConfig("sky-off", "bluesky", 60, False, {"query": "a", "identifier": "me.example"})))
    with pytest.raises(ConfigError, match=r"\(sky\): identifier and app_password_env .* go together"):
        check_sources((SourceConfig("sky", "bluesky", 60, True, {"query": "a", "identifier": "me.example"}),))
    with pytest.raises(ConfigError, match=r"^sources.yaml: sources\[1\] \(off\): max_body_mb: Input should be"):
        check_sources((SourceConfig("demo", "demo", 2, True, {}),
                       SourceConfig("off", "webhook", 60, False, {"max_body_mb": -1})))
    with pytest.raises(ConfigError, match=r"^sources.yaml: sources\[0\] \(pigeon\): unknown kind 'carrier-pigeon'"):
        check_sources((SourceConfig("pigeon", "carrier-pigeon", 60, True, {}),))
    with pytest.raises(ConfigError, match=r"\(feed\): token_env/_file: unknown credential \(this kind takes: "
                                          r"password_env/_file, username_env/_file\)"):
        check_sources((SourceConfig("feed", "rss", 60, True, {"url": "https://e.example/f"},
                                    {"token": Secret("t")}),))
    with pytest.raises(ConfigError, match=r"\(feed\): token: unknown key; expected one of name, kind, ") as caught:
        check_sources((SourceConfig("feed", "rss", 60, True, {"url": "https://e.example/f", "token": "s3cret"}),))
    assert "s3cret" not in str(caught.value)  # its value unsaid
    with pytest.raises(ConfigError, match=r"^sources.yaml: sources\[0\] \(feed\): timout_seconds: unknown key; "
                                          r"did you mean timeout_seconds\?$"):
        check_sources((SourceConfig("feed", "rss", 60, True, {"url": "https://e.example/f", "timout_seconds": 5}),))
