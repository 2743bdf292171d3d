"""Offline training of the shipped sentiment weights (scikit-learn needed here only).

Usage, from the repository root::

    python -m collectors.nlp.train_sentiment --eval-dir ../shared/eval --out collectors/nlp/data/

Reads the XLM-T / UMSAB train splits (``xlmt/<english|french>/train_*``; Apache-2.0
repository, dataset terms apply), shuffles them with a fixed seed (labels cycle 0,1,2
by line, so line order must never reach the model), chooses the inverse regularisation
``C`` by stratified 5-fold cross-validation on train only (macro-F1), refits on the
whole train split and writes ``sentiment_model.json.gz``: per language, the intercepts
and the three class weights of every feature whose largest absolute weight is at least
``PRUNE``, rounded to 4 decimals. Validation splits are never read here: the benchmark
(``benchmarks/sentiment_eval.py``) reports them once.

Note: 1,430 of the 1,839 English train tweets are also in TweetEval's validation split,
so that split is not an independent check of the English model; the benchmark also
prints the figure on the TweetEval tweets the model never saw.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from pathlib import Path

from collectors.nlp.evaluation import read_lines
from collectors.nlp.sentiment import LABELS, _vader_for, features

LANGUAGES = {"en": "english", "fr": "french"}
C_GRID = (0.03, 0.05, 0.1, 0.2, 0.3, 0.5)
PRUNE = 1e-3
SEED = 13
def load_split(eval_dir: Path, language: str, split: str) -> tuple[list[str], list[int]]:
    folder = eval_dir / "xlmt" / LANGUAGES[language]
    texts = read_lines(folder / f"{split}_text.txt")
    labels = [int(x) for x in read_lines(folder / f"{split}_labels.txt")]
    if len(texts) != len(labels):
        raise SystemExit(f"{folder}: {len(texts)} texts but {len(labels)} labels")
    return texts, labels


def train_language(eval_dir: Path, language: str, extra: list[tuple[str, int]] | None = None,
                   c_grid: tuple[float, ...] = C_GRID) -> dict:
    """Cross-validate C, refit, and return the pruned weights for one language. ``extra`` adds
    labelled posts to the train split (the agents' corrections, `vigie model train`)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    texts, labels = load_split(eval_dir, language, "train")
    pairs = list(zip(texts, labels, strict=True)) + list(extra or [])
    random.Random(SEED).shuffle(pairs)
    vader = _vader_for(language)
    x_dicts = [features(text, language, vader) for text, _ in pairs]
    for feats in x_dicts:
        del feats["_dom"]  # the banking lexicon is a fixed prior at scoring time, not learned
    y = [label for _, label in pairs]
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform(x_dicts)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    best_c, best_f1 = c_grid[0], -1.0
    for c in c_grid:
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
        f1 = float(cross_val_score(model, x, y, cv=folds, scoring="f1_macro").mean())
        print(f"{language} C={c:<5} 5-fold CV macro-F1 {100 * f1:.1f}", file=sys.stderr)
        if f1 > best_f1:
            best_c, best_f1 = c, f1
    model = LogisticRegression(C=best_c, class_weight="balanced", max_iter=2000).fit(x, y)
    if list(model.classes_) != [0, 1, 2]:
        raise SystemExit(f"unexpected classes {model.classes_}")
    weights: dict[str, list[float]] = {}
    for j, name in enumerate(vectorizer.get_feature_names_out()):
        column = [float(model.coef_[k, j]) for k in range(3)]
        if max(abs(w) for w in column) >= PRUNE:
            weights[str(name)] = [round(w, 4) for w in column]
    print(f"{language}: C={best_c} CV macro-F1 {100 * best_f1:.1f}, {len(weights)} features kept",
          file=sys.stderr)
    return {
        "bias": [round(float(b), 4) for b in model.intercept_],
        "weights": weights,
        "c": best_c,
        "cv_macro_f1": round(100 * best_f1, 1),
        "train_size": len(y),
        **({"extra_examples": len(extra)} if extra else {}),
    }


def build(eval_dir: Path, extra: dict[str, list[tuple[str, int]]] | None = None, c: float | None = None) -> dict:
    """The whole model file's content: both languages, trained on XLM-T train (plus ``extra``);
    ``c`` fixes the regularisation instead of choosing it from C_GRID by cross-validation."""
    extra = extra or {}
    return {
        "format": 1,
        "labels": list(LABELS),
        "source": "XLM-T/UMSAB sentiment train splits (cardiffnlp/xlm-t @874214d)"
                  + (f" + {sum(len(v) for v in extra.values())} agents' corrections" if any(extra.values()) else ""),
        "languages": {lang: train_language(eval_dir, lang, extra.get(lang), (c,) if c else C_GRID)
                      for lang in LANGUAGES},
    }


def write(model: dict, target: Path) -> None:
    """The model file, written whole beside ``target`` then renamed over it: a collector starting
    meanwhile reads the old file or the new one, never half of one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(model, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    partial = target.with_name(target.name + ".partial")
    with open(partial, "wb") as raw, gzip.GzipFile(target.name, "wb", fileobj=raw, mtime=0) as handle:
        handle.write(payload.encode("utf-8"))  # mtime=0 and the final name inside: byte-identical reruns
    partial.replace(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("data"))
    args = parser.parse_args(argv)
    if not (args.eval_dir / "xlmt").is_dir():
        raise SystemExit(f"no xlmt/ folder under {args.eval_dir}: pass --eval-dir")
    target = args.out / "sentiment_model.json.gz"
    write(build(args.eval_dir), target)
    print(f"wrote {target} ({target.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
