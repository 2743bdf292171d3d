"""`vigie model train [--with-corrections]`: retrain the shipped sentiment model, print its figures
before and after on the public validation files, and write it.

The recipe is `collectors.nlp.train_sentiment` (XLM-T train splits, C chosen by 5-fold CV on
train only, scikit-learn at training time only: ``pip install -e '.[train]'``). With
``--with-corrections`` the agents' sentiment corrections stored in DATABASE_URL (one click on an
item page, models/corrections.py) join the train split, the newest person's label per post, for
English and French posts. Printed, before (the model in use) and after (the one trained now):
TweetEval val macro-recall on the tweets XLM-T's train split does not hold, XLM-T English and
French val macro-F1 (validation files are never trained on), and the share of the corrected
posts the model labels as the agents did (after: in-sample, it was trained on them; a sanity
check that they were used, not a quality figure). The new weights are written to ``--out``
(default: the shipped file, which collectors read when they start: restart them).
"""

from __future__ import annotations

from pathlib import Path

import click

from collectors.nlp import sentiment
from collectors.nlp.evaluation import Scorer, validation_figures
from collectors.nlp.sentiment import LABELS, score_sentiment
from config.settings import Settings


def _examples(settings: Settings) -> list[tuple[str, str, str]]:
    from models.corrections import sentiment_examples
    from models.db import open_database

    db = open_database(settings.database_url)
    try:
        with db.read() as session:
            return [e for e in sentiment_examples(session) if e[1] in sentiment.SUPPORTED]
    finally:
        db.engine.dispose()


def run_train(settings: Settings, eval_dir: Path, with_corrections: bool, out: Path,
              c: float | None = None) -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError as missing:
        raise click.ClickException(
            "training needs scikit-learn: .venv/bin/python -m pip install -e '.[train]'") from missing
    from collectors.nlp.train_sentiment import build, write

    if not (eval_dir / "xlmt").is_dir() or not (eval_dir / "tweeteval").is_dir():
        raise click.ClickException(f"no xlmt/ and tweeteval/ folders under {eval_dir}: pass --eval-dir")
    examples = _examples(settings) if with_corrections else []
    extra: dict[str, list[tuple[str, int]]] = {}
    for text, language, right in examples:
        extra.setdefault(language, []).append((text, LABELS.index(right)))
    if with_corrections:
        click.echo(f"corrections used: {len(examples)} ("
                   + ", ".join(f"{lang} {len(extra.get(lang, []))}" for lang in sorted(sentiment.SUPPORTED)) + ")")
    before = dict(sentiment._models())
    model = build(eval_dir, extra, c)
    after = model["languages"]
    def scorer(models: dict[str, dict]) -> Scorer:
        return lambda text, language: score_sentiment(text, language, models)

    figures = {"before": validation_figures(eval_dir, scorer(before)),
               "after": validation_figures(eval_dir, scorer(after))}
    click.echo(f"{'':52} {'before':>7} {'after':>7}")
    for label in figures["after"]:
        click.echo(f"{label:52} {figures['before'][label]:7.1f} {figures['after'][label]:7.1f}")
    if examples:
        def agreeing(models: dict[str, dict]) -> float:
            agree = sum(score_sentiment(t, lang, models)[1] == right for t, lang, right in examples)
            return 100 * agree / len(examples)

        click.echo(f"{'corrected posts labelled as the agents did (%)':52} "
                   f"{agreeing(before):7.1f} {agreeing(after):7.1f}   (in-sample: trained on them)")
    for language, trained in sorted(after.items()):
        click.echo(f"{language}: C={trained['c']}, 5-fold CV macro-F1 on train {trained['cv_macro_f1']}, "
                   f"{trained['train_size']} examples, {len(trained['weights'])} features kept")
    write(model, out)
    click.echo(f"wrote {out}: collectors read it when they start (restart them)")
