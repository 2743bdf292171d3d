"""Figures for a sentiment model on the public validation files (../shared/eval, see its README):
shared by `benchmarks/sentiment_eval.py` and `vigie model train`. Pure functions and file reads."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from collectors.nlp.sentiment import LABELS

_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def read_lines(path: Path) -> list[str]:
    """File lines (no trailing newline in these files), literal ``\\uXXXX`` escapes decoded."""
    text = path.read_text(encoding="utf-8")
    return [_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), line) for line in text.splitlines()]


def read_split(folder: Path, split: str) -> tuple[list[str], list[int]]:
    texts = read_lines(folder / f"{split}_text.txt")
    labels = [int(x) for x in read_lines(folder / f"{split}_labels.txt")]
    return texts, labels


def per_class(gold: Sequence[int], pred: Sequence[int]) -> list[tuple[float, float]]:
    """(recall, F1) for classes 0, 1, 2."""
    out = []
    for c in range(3):
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p == c)
        n_gold = sum(1 for g in gold if g == c)
        n_pred = sum(1 for p in pred if p == c)
        recall = tp / n_gold if n_gold else 0.0
        precision = tp / n_pred if n_pred else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out.append((recall, f1))
    return out


def macro_recall(gold: Sequence[int], pred: Sequence[int]) -> float:
    return 100 * sum(r for r, _ in per_class(gold, pred)) / 3


def macro_f1(gold: Sequence[int], pred: Sequence[int]) -> float:
    return 100 * sum(f for _, f in per_class(gold, pred)) / 3


Scorer = Callable[[str, str], tuple[float, str]]


def validation_figures(eval_dir: Path, score: Scorer) -> dict[str, float]:
    """The three figures a sentiment model is judged on here, for ``score(text, language)``:
    TweetEval val macro-recall on the tweets not in XLM-T's English train split (the others are),
    and XLM-T English and French val macro-F1."""
    def predict(texts: Sequence[str], language: str) -> list[int]:
        return [LABELS.index(score(text, language)[1]) for text in texts]

    tweets, tweet_gold = read_split(eval_dir / "tweeteval", "val")
    seen = set(read_lines(eval_dir / "xlmt" / "english" / "train_text.txt"))
    unseen = [i for i, t in enumerate(tweets) if t not in seen]
    en, en_gold = read_split(eval_dir / "xlmt" / "english", "val")
    fr, fr_gold = read_split(eval_dir / "xlmt" / "french", "val")
    return {
        f"TweetEval val macro-recall (the {len(unseen)} unseen)":
            macro_recall([tweet_gold[i] for i in unseen], predict([tweets[i] for i in unseen], "en")),
        f"XLM-T English val macro-F1 ({len(en)})": macro_f1(en_gold, predict(en, "en")),
        f"XLM-T French val macro-F1 ({len(fr)})": macro_f1(fr_gold, predict(fr, "fr")),
    }
