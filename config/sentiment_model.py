"""A firm's own sentiment model (bring your own): an ONNX file and its tokenizer, from the
environment. Read once by `config.settings.load_settings`; the `sentiment:rescore` job
(collectors/jobs/rescore_sentiment.py) scores queue items with it after ingest.

Unset (the default), Vigie uses its shipped model only. Set, the files must exist and
`onnxruntime` and `tokenizers` must be installed (``pip install -e '.[onnx]'``): a clear
error at start otherwise, not at the first batch. The model itself is loaded by the job, not
here, so web workers never hold it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from config.checks import ConfigError
from config.environment import read_environment

SENTIMENT_LABELS = ("negative", "neutral", "positive")
MODEL_ENV_VARS: dict[str, tuple[str, str]] = {
    "VIGIE_SENTIMENT_MODEL": ("unset (the shipped model only)", "an ONNX sentiment classifier (a path): the "
                              "`sentiment:rescore` job scores new queue items with it in batches after ingest, and "
                              "its label decides their sentiment (what the counts show), priority and routing "
                              "(see \"Bring your own sentiment model\")"),
    "VIGIE_SENTIMENT_TOKENIZER": ("tokenizer.json beside the model", "the model's tokenizer, a Hugging Face "
                                  "`tokenizers` JSON file"),
    "VIGIE_SENTIMENT_LABELS": ("negative,neutral,positive", "the model's output classes in order, separated by "
                               "commas: each of negative, neutral, positive once; negative and positive required"),
    "VIGIE_SENTIMENT_BATCH": ("32", "posts per inference batch of the `sentiment:rescore` job"),
    "VIGIE_SENTIMENT_MAX_TOKENS": ("128", "tokens of a post the model reads (longer posts are cut)"),
}


@dataclass(frozen=True)
class SentimentModelConfig:
    path: Path
    tokenizer: Path
    labels: tuple[str, ...]
    batch: int = 32
    max_tokens: int = 128

    @property
    def name(self) -> str:
        """How items and audit events name the model: its file name."""
        return self.path.name


def _labels(value: str) -> tuple[str, ...]:
    labels = tuple(part.strip().lower() for part in value.split(",") if part.strip())
    if (len(set(labels)) != len(labels) or not set(labels) <= set(SENTIMENT_LABELS)
            or not {"negative", "positive"} <= set(labels)):
        raise ConfigError(f"environment: VIGIE_SENTIMENT_LABELS: expected the model's classes in order, each of "
                          f"negative, neutral, positive once (negative and positive required), got {value!r}")
    return labels


def _file(variable: str, path: Path) -> Path:
    if not path.is_file():
        raise ConfigError(f"environment: {variable}: expected a readable file, got {str(path)!r}")
    return path


def parse_sentiment_model(env: Mapping[str, str]) -> SentimentModelConfig | None:
    """The configured model, or None; ConfigError for a missing file, bad labels or missing libraries."""
    given = read_environment(env)
    if not given.sentiment_model:
        if given.sentiment_tokenizer:
            raise ConfigError("environment: VIGIE_SENTIMENT_TOKENIZER: set without VIGIE_SENTIMENT_MODEL")
        return None
    path = _file("VIGIE_SENTIMENT_MODEL", Path(given.sentiment_model))
    tokenizer = _file("VIGIE_SENTIMENT_TOKENIZER", Path(given.sentiment_tokenizer or path.with_name("tokenizer.json")))
    missing = [name for name in ("onnxruntime", "tokenizers") if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(f"environment: VIGIE_SENTIMENT_MODEL: needs the {' and '.join(missing)} package(s): "
                          "pip install -e '.[onnx]'")
    return SentimentModelConfig(path, tokenizer, _labels(given.sentiment_labels), given.sentiment_batch,
                                given.sentiment_max_tokens)
