"""Quality and speed of the shipped language detector and sentiment scorer.

Usage, from the repository root::

    python benchmarks/sentiment_eval.py [--eval-dir ../shared/eval]

The shipped sentiment model is trained on every public labelled tweet under ``--eval-dir`` and,
in English, SemEval-2017 Task 4A's training tweets copied in the repository (see
``collectors/nlp/train_sentiment.py``), validation files included, so scoring those files with it
would be in-sample. Its quality is therefore measured as training measures it: stratified 5-fold
cross-validation of the shipped recipe at the shipped C, every held-out tweet scored by the
shipped scorer; printed: macro-recall and macro-F1 ×100 overall and on each public validation
file's tweets (TweetEval val macro-recall, XLM-T English and French val macro-F1), next to the
figures recorded in the shipped file (they must agree: a differing line means the file was not
made by this recipe from these files); English also: SemEval-2016's test tweets scored by the
recipe trained on every tweet but that edition's (the newest edition held out, as TweetEval's
test is of 2017, a year after every training tweet).
Needs the training packages (``pip install -e '.[train]'``, in the dev set). Also printed: how
the shipped model reads the CFPB sample's complaint narratives (all complaints, long, a bank's own
kind of text: the share read negative, neutral and positive; no gold labels, a sanity figure that
the tweet figures cannot give), language-detection accuracy on the XLM-T English and French
validation texts, and the speed of ``detect_language`` and ``score_sentiment`` on one core (best
of three passes over the English and French validation texts, after one warm-up call that loads
the models), as µs per call and posts per second.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from collectors.nlp.evaluation import read_split  # noqa: E402
from collectors.nlp.language import detect_language  # noqa: E402
from collectors.nlp.sentiment import model_figures, score_sentiment  # noqa: E402

REFERENCES = {  # published figures on the held-out *test* sets (../shared/eval/README.md)
    "TweetEval": "test: fastText 62.9, RoBERTa-base 71.3",
    "XLM-T English": "test: fastText 50.9, XLM-T 70.6",
    "XLM-T French": "test: fastText 54.8, XLM-T 71.2",
}


def micros_per_call(func: Callable[[str], object], texts: Sequence[str]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for text in texts:
            func(text)
        best = min(best, time.perf_counter() - start)
    return 1e6 * best / len(texts)


def complaints(eval_dir: Path) -> list[str]:
    """The CFPB sample's complaint narratives (every one a complaint; English, most far longer than a
    tweet): no sentiment labels, but a bank's own kind of negative text, which the tweet figures
    above do not see."""
    path = eval_dir / "cfpb" / "complaints_sample.csv"
    if not path.exists():
        return []
    csv.field_size_limit(10**8)
    with open(path, encoding="utf-8", newline="") as handle:
        narratives = (row.get("Consumer complaint narrative") or "" for row in csv.DictReader(handle))
        return [text for text in narratives if text.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sentiment and language-detection figures.")
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    args = parser.parse_args(argv)
    eval_dir: Path = args.eval_dir
    needed = [eval_dir / "tweeteval", eval_dir / "xlmt" / "english", eval_dir / "xlmt" / "french"]
    missing = [str(p) for p in needed if not p.is_dir()]
    if missing:
        print(f"evaluation data not found: {', '.join(missing)} (pass --eval-dir)", file=sys.stderr)
        return 2
    from collectors.nlp.train_data import SEMEVAL, MissingData, corpus, require_semeval
    from collectors.nlp.train_sentiment import Inputs, cross_validate, held_out_latest

    try:
        require_semeval(SEMEVAL, "restore them from the repository")
    except MissingData as missing:
        print(missing, file=sys.stderr)
        return 2

    shipped = model_figures()
    if not shipped:
        print("no shipped sentiment model (collectors/nlp/data/sentiment_model.json.gz)", file=sys.stderr)
        return 2
    disagree = 0
    print(f"{'5-fold cross-validated (shipped recipe and C), ×100':56} {'now':>6} {'file':>6}")
    for language, recorded in sorted(shipped.items()):
        data = corpus(eval_dir, language)
        inputs = Inputs.of(language, data.texts)
        figures = cross_validate(inputs, data, recorded["c"])
        if data.latest:
            figures |= held_out_latest(inputs, data, recorded["c"])
        for name, value in figures.items():
            label = f"{language} {recorded['recipe']} C={recorded['c']} {name}" if name.startswith("macro") else name
            was = recorded.get("cv", {}).get(name)
            disagree += was != value
            reference = next((ref for key, ref in REFERENCES.items() if name.startswith(key)), "")
            print(f"{label:56} {value:6.1f} {was if was is not None else '-':>6}   {reference}")
    if disagree:
        print(f"{disagree} figure(s) differ from the shipped file's: retrain it (vigie model train)")

    narratives = complaints(eval_dir)
    if narratives:
        read = Counter(score_sentiment(text, "en")[1] for text in narratives)
        print(f"CFPB complaint narratives ({len(narratives)}, all complaints) read as: "
              + ", ".join(f"{label} {100 * read[label] / len(narratives):.1f} %"
                          for label in ("negative", "neutral", "positive")))

    en_texts = read_split(eval_dir / "xlmt" / "english", "val")[0]
    fr_texts = read_split(eval_dir / "xlmt" / "french", "val")[0]
    for code, texts in (("en", en_texts), ("fr", fr_texts)):
        accuracy = 100 * sum(detect_language(t) == code for t in texts) / len(texts)
        print(f"language detection accuracy, XLM-T {code} val ({len(texts)}): {accuracy:5.1f} %")

    sample = en_texts + fr_texts
    languages = {t: detect_language(t) for t in sample}
    score_sentiment(sample[0], "fr")  # loads the models
    for name, func in (("detect_language", detect_language),
                       ("score_sentiment", lambda t: score_sentiment(t, languages[t])),
                       ("both together", lambda t: score_sentiment(t, detect_language(t)))):
        micros = micros_per_call(func, sample)
        print(f"{name + ':':17} {micros:6.1f} µs/call, {1e6 / micros:7,.0f} posts/s on one core")
    for code, texts in (("en", en_texts), ("fr", fr_texts)):
        def in_language(text: str, code: str = code) -> object:
            return score_sentiment(text, code)

        micros = micros_per_call(in_language, texts)
        print(f"score_sentiment {code}: {micros:6.1f} µs/call, {1e6 / micros:7,.0f} posts/s on one core")
    return 1 if disagree else 0


if __name__ == "__main__":
    raise SystemExit(main())
