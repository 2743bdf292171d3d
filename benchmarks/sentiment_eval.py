"""Quality and speed of the shipped language detector and sentiment scorer.

Usage, from the repository root::

    python benchmarks/sentiment_eval.py [--eval-dir ../shared/eval]

Prints, on the public *validation* files under ``--eval-dir`` (see its README.md):
TweetEval sentiment macro-averaged recall ×100 (all 2,000 tweets, and the 570 that are
not in the XLM-T English train split the English model was trained on), XLM-T English
and French macro-F1 ×100, language-detection accuracy on the XLM-T English and French
validation texts, and microseconds per call of ``detect_language`` and
``score_sentiment`` (best of three passes over the French and English validation
texts, after one warm-up call that loads the models).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from collectors.nlp.evaluation import macro_f1, macro_recall, read_lines, read_split  # noqa: E402
from collectors.nlp.language import detect_language  # noqa: E402
from collectors.nlp.sentiment import LABELS, score_sentiment  # noqa: E402


def predict(texts: Sequence[str], language: str) -> list[int]:
    return [LABELS.index(score_sentiment(text, language)[1]) for text in texts]


def micros_per_call(func: Callable[[str], object], texts: Sequence[str]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for text in texts:
            func(text)
        best = min(best, time.perf_counter() - start)
    return 1e6 * best / len(texts)


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

    tweet_texts, tweet_gold = read_split(eval_dir / "tweeteval", "val")
    en_texts, en_gold = read_split(eval_dir / "xlmt" / "english", "val")
    fr_texts, fr_gold = read_split(eval_dir / "xlmt" / "french", "val")
    seen = set(read_lines(eval_dir / "xlmt" / "english" / "train_text.txt"))

    tweet_pred = predict(tweet_texts, "en")
    unseen = [i for i, t in enumerate(tweet_texts) if t not in seen]
    print(f"TweetEval val macro-recall (all {len(tweet_texts)}):         "
          f"{macro_recall(tweet_gold, tweet_pred):5.1f}   (VADER untuned ~57 on test)")
    print(f"TweetEval val macro-recall (unseen {len(unseen)}):          "
          f"{macro_recall([tweet_gold[i] for i in unseen], [tweet_pred[i] for i in unseen]):5.1f}")
    print(f"XLM-T English val macro-F1 ({len(en_texts)}):              "
          f"{macro_f1(en_gold, predict(en_texts, 'en')):5.1f}   (fastText 50.9 on test)")
    print(f"XLM-T French val macro-F1 ({len(fr_texts)}):               "
          f"{macro_f1(fr_gold, predict(fr_texts, 'fr')):5.1f}   (fastText 54.8 on test)")
    for code, texts in (("en", en_texts), ("fr", fr_texts)):
        accuracy = 100 * sum(detect_language(t) == code for t in texts) / len(texts)
        print(f"language detection accuracy, XLM-T {code} val ({len(texts)}): {accuracy:5.1f} %")

    sample = en_texts + fr_texts
    languages = {t: detect_language(t) for t in sample}
    print(f"detect_language:  {micros_per_call(detect_language, sample):6.1f} µs/call")
    print(f"score_sentiment:  {micros_per_call(lambda t: score_sentiment(t, languages[t]), sample):6.1f} µs/call")
    print(f"both together:    "
          f"{micros_per_call(lambda t: score_sentiment(t, detect_language(t)), sample):6.1f} µs/call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
