"""Reading the public labelled files (../shared/eval, see its README) and the figures a sentiment
model is judged on (macro-recall, macro-F1): shared by the training recipe
(`collectors/nlp/train_sentiment.py`, which `vigie model train` runs) and
`benchmarks/sentiment_eval.py`. Pure functions and file reads."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from collectors.nlp.sentiment import decode


def read_lines(path: Path) -> list[str]:
    """File lines (no trailing newline in these files), literal ``\\uXXXX`` escapes decoded."""
    return [decode(line) for line in path.read_text(encoding="utf-8").splitlines()]


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
