"""`vigie bench risk`: how the risk lexicon reads real writing, and what it fires on by mistake.

Prints, for the shipped lexicon (config/lexicons.yaml):

- the fixture set (tests/fixtures/risk/cases.csv: case, accents, plurals, elisions, spaced and
  dotted letters, digit and symbol swaps, hashtags, words written together, English and French):
  cases flagged per kind, beside the whole-words-only reading the lexicon had before;
- the near misses that must raise no alarm (tests/fixtures/risk/negatives.csv);
- the false-positive figure: the share of texts that should raise no alarm which do, on public
  corpora under ``--eval-dir`` (../shared/eval): neutral finance-news tweets and French neutral
  tweets; split into what the whole-words reading fires and what the robust reading adds, with
  the terms that fire most, so a reader can judge them.

An alarm is a flag of severity critical or high (fraud, a regulator, an outage…): what puts an
item at the top of a queue. Medium and low flags (fees, questions, service requests, sales
leads, spam) are routing cues; the figure with them is printed beside.
- the cost: microseconds per post of ``match_risk``, robust beside whole-words, best of 3.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import click

from collectors.text import CompiledLexicon, compile_lexicon, fold, match_risk, strip_accents
from config.settings import Settings

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "risk"


def read_cases(name: str) -> list[dict[str, str]]:
    with (FIXTURES / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


ALARMS = ("critical", "high")


def flags_of(lexicon: CompiledLexicon, text: str) -> dict[str, list[str]]:
    return match_risk(lexicon, fold(text), strip_accents(text)).terms


def alarms_of(lexicon: CompiledLexicon, text: str, alarming: frozenset[str]) -> dict[str, list[str]]:
    return {flag: words for flag, words in flags_of(lexicon, text).items() if flag in alarming}


def should_not_fire(eval_dir: Path) -> dict[str, list[str]]:
    """Texts that should raise no risk flag, by corpus (missing corpora are left out)."""
    corpora: dict[str, list[str]] = {}
    finance = eval_dir / "financial_tweets" / "train.csv"
    if finance.exists():
        with finance.open(encoding="utf-8", newline="") as fh:
            corpora["finance news tweets, neutral (financial_tweets label 2)"] = [
                row["text"] for row in csv.DictReader(fh) if row["label"] == "2"
            ]
    french = eval_dir / "xlmt" / "french"
    if french.exists():
        texts: list[str] = []
        for split in ("train", "val"):
            lines = (french / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
            labels = (french / f"{split}_labels.txt").read_text(encoding="utf-8").splitlines()
            texts += [t for t, label in zip(lines, labels, strict=True) if label.strip() == "1"]
        corpora["French tweets, neutral (XLM-T fr train+val label 1)"] = texts
    return corpora


def _per_kind(cases: list[dict[str, str]], lexicon: CompiledLexicon) -> Counter[str]:
    return Counter(c["kind"] for c in cases if c["flag"] in flags_of(lexicon, c["text"]))


def _micros(lexicon: CompiledLexicon, texts: list[str]) -> float:
    prepared = [(fold(t), strip_accents(t)) for t in texts]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for folded, unaccented in prepared:
            match_risk(lexicon, folded, unaccented)
        best = min(best, time.perf_counter() - start)
    return best / max(len(prepared), 1) * 1e6


def _top(counter: Counter[str], n: int = 8) -> str:
    return ", ".join(f"{term} {count}" for term, count in counter.most_common(n)) or "none"


def run_risk(settings: Settings, eval_dir: Path) -> int:
    robust = compile_lexicon(settings.lexicon)
    plain = compile_lexicon(settings.lexicon, robust=False)
    alarming = frozenset(flag.name for flag in settings.lexicon if flag.severity in ALARMS)
    cases = read_cases("cases.csv")
    caught, before = _per_kind(cases, robust), _per_kind(cases, plain)
    kinds = Counter(c["kind"] for c in cases)
    languages = Counter(c["language"] for c in cases)
    click.echo(f"risk fixtures: {len(cases)} cases ({', '.join(f'{k} {v}' for k, v in sorted(languages.items()))})")
    click.echo(f"  {'kind':<12} {'cases':>5} {'flagged':>8} {'whole words only':>17}")
    for kind, total in sorted(kinds.items()):
        click.echo(f"  {kind:<12} {total:>5} {caught[kind]:>8} {before[kind]:>17}")
    missed = sum(kinds.values()) - sum(caught.values())
    click.echo(f"  {'all':<12} {len(cases):>5} {sum(caught.values()):>8} {sum(before.values()):>17}"
               f"   ({missed} missed)")
    negatives = read_cases("negatives.csv")
    fired = [(n["text"], alarms_of(robust, n["text"], alarming)) for n in negatives]
    fired = [(text, terms) for text, terms in fired if terms]
    click.echo(f"near misses that must raise no alarm (critical or high flag): {len(negatives)}, fired {len(fired)}")
    for text, terms in fired:
        click.echo(f"  FIRED {text!r}: {terms}")
    corpora = should_not_fire(eval_dir)
    if not corpora:
        click.echo(f"no corpus under {eval_dir}: the false-positive figure is not printed")
    for name, texts in corpora.items():
        _false_positives(name, texts, robust, plain, alarming)
    sample = [c["text"] for c in cases] + [t for texts in corpora.values() for t in texts]
    click.echo(f"cost: {_micros(robust, sample):.1f} µs a post robust, {_micros(plain, sample):.1f} µs whole words "
               f"only (match_risk, {len(sample):,} texts, best of 3)")
    return missed + len(fired)


def _false_positives(name: str, texts: Iterable[str], robust: CompiledLexicon, plain: CompiledLexicon,
                     alarming: frozenset[str]) -> None:
    texts = list(texts)
    alarm_robust = alarm_plain = any_flag = 0
    terms: Counter[str] = Counter()
    added: Counter[str] = Counter()
    for text in texts:
        now, was = flags_of(robust, text), flags_of(plain, text)
        any_flag += bool(now)
        alarm_robust += any(flag in alarming for flag in now)
        alarm_plain += any(flag in alarming for flag in was)
        for flag, words in now.items():
            if flag not in alarming:
                continue
            for word in words:
                terms[f"{flag}:{word}"] += 1
                if word not in was.get(flag, []):
                    added[f"{flag}:{word}"] += 1
    n = max(len(texts), 1)
    click.echo(f"false positives, {name}: {len(texts):,} texts")
    click.echo(f"  raise an alarm: {alarm_robust:,} ({alarm_robust / n:.1%}); whole words only {alarm_plain:,} "
               f"({alarm_plain / n:.1%}); added by plurals and the unmasked reading {alarm_robust - alarm_plain:,} "
               f"({(alarm_robust - alarm_plain) / n:.2%}); any flag, cues included: {any_flag:,} ({any_flag / n:.1%})")
    click.echo(f"  alarm terms firing most: {_top(terms)}")
    click.echo(f"  added: {_top(added)}")
