"""`vigie model train --with-corrections` (issue 18, item 5): the agents' sentiment corrections join
the training data, the figures before and after are printed, the weights are written and read back.

The public validation files are not in this repository, so the test writes small ones of the same
shape; the shipped weights stay untouched (``--out``)."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from collectors.nlp.sentiment import load_models, score_sentiment
from config.settings import Settings
from models import corrections
from models.db import Database
from tests.kit import require_training_vectors, seed_items
from vigie.cli import main

pytest.importorskip("sklearn")
require_training_vectors()

# Words no corpus holds: the shipped model reads them as neutral, the agents say otherwise.
ENGLISH = "@AureliaBank this zorblax is what I got from you on tuesday"
FRENCH = "@banqueaurelia je trouve que votre flimzouk est vraiment comme ça"
WORDS = {"en": ("awful", "table", "great"), "fr": ("horrible", "table", "génial")}


def _eval_dir(root: Path) -> Path:
    """XLM-T-shaped train and val files (no trailing newline) and TweetEval's val, 90 lines each."""
    for language, folder in (("en", "english"), ("fr", "french")):
        target = root / "xlmt" / folder
        target.mkdir(parents=True)
        for split in ("train", "val"):
            lines = [f"{WORDS[language][i % 3]} number {i} {split}" for i in range(90)]
            (target / f"{split}_text.txt").write_text("\n".join(lines), encoding="utf-8")
            (target / f"{split}_labels.txt").write_text("\n".join(str(i % 3) for i in range(90)), encoding="utf-8")
    tweets = root / "tweeteval"
    tweets.mkdir()
    (tweets / "val_text.txt").write_text("\n".join(f"{WORDS['en'][i % 3]} tweet {i}" for i in range(90)),
                                         encoding="utf-8")
    (tweets / "val_labels.txt").write_text("\n".join(str(i % 3) for i in range(90)), encoding="utf-8")
    semeval = root / "semeval"
    semeval.mkdir()
    names = ("negative", "neutral", "positive")
    for year in ("2013train", "2016test"):
        with gzip.open(semeval / f"twitter-{year}-A.tsv.gz", "wt", encoding="utf-8") as handle:
            handle.writelines(f"{names[i % 3]}\t{WORDS['en'][i % 3]} @user {year} {i}\n" for i in range(60))
    return root


def test_corrections_retrain_the_model_and_the_figures_are_printed(
        tmp_path: Path, sqlite_db: Database, base_settings: Settings) -> None:
    url = str(sqlite_db.engine.url)
    settings = replace(base_settings, database_url=url)
    english, french = seed_items(sqlite_db, settings, [ENGLISH, FRENCH])
    teams = settings.team_keys
    with sqlite_db.write.begin() as s:
        corrections.correct(s, english, "agent", "sentiment", "positive", teams)
        corrections.correct(s, french, "agent", "sentiment", "negative", teams)
    assert score_sentiment(ENGLISH, "en")[1] != "positive"  # the shipped model's view

    out = tmp_path / "model.json.gz"
    data = _eval_dir(tmp_path / "eval")
    result = CliRunner().invoke(main.commands["model"], ["train", "--with-corrections", "--eval-dir", str(data),
                                                        "--semeval-dir", str(data / "semeval"), "--out", str(out),
                                                        "--c", "10"], env={"DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    text = result.output
    assert "corrections used: 2 (en 1, fr 1)" in text
    # before: what the shipped file recorded (its validation files are larger than these: "-");
    # after: pooled out-of-fold figures of the model trained now
    for label in ("TweetEval val macro-recall (90)", "XLM-T English val macro-F1 (90)",
                  "XLM-T French val macro-F1 (90)", "SemEval-2016 held out: test macro-recall (60)",
                  "SemEval-2016 held out: test macro-F1 (60)"):
        assert re.search(re.escape(label) + r"\s+-\s+\d+\.\d", text), label
    # the overall figures: on 270 English and 180 French posts here, on other numbers in the shipped file
    for label in ("en macro-recall (390)", "en macro-F1 (390)", "fr macro-recall (180)", "fr macro-F1 (180)"):
        assert re.search(re.escape(label) + r"\s+-\s+\d+\.\d", text), label
    agreement = re.search(r"corrected posts labelled as the agents did \(%\)\s+(\d+\.\d)\s+(\d+\.\d)", text)
    assert agreement is not None and float(agreement.group(2)) == 100.0 > float(agreement.group(1))
    assert f"wrote {out}" in text

    with gzip.open(out, "rt", encoding="utf-8") as handle:
        model = json.load(handle)["languages"]
    # English: TweetEval val + XLM-T train + XLM-T val + SemEval (here no text in two files) + the correction
    assert model["en"]["extra_examples"] == 1 and model["en"]["train_size"] == 391
    assert model["fr"]["train_size"] == 181 and "génial" in model["fr"]["vectors"]["words"]
    model = load_models(model)
    assert score_sentiment(ENGLISH, "en", model)[1] == "positive"
    assert score_sentiment(FRENCH, "fr", model)[1] == "negative"


def test_training_without_the_data_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main.commands["model"], ["train", "--eval-dir", str(tmp_path), "--out",
                                                        str(tmp_path / "m.json.gz")])
    assert result.exit_code != 0 and "no xlmt/ and tweeteval/ folders under" in result.output
    data = _eval_dir(tmp_path / "eval")
    result = CliRunner().invoke(main.commands["model"], ["train", "--eval-dir", str(data), "--semeval-dir",
                                                        str(tmp_path), "--out", str(tmp_path / "m.json.gz")])
    assert result.exit_code != 0 and f"no SemEval *.tsv.gz files in {tmp_path}: pass --semeval-dir" in result.output
    assert not (tmp_path / "m.json.gz").exists()
