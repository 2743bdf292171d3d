"""`vigie eval routing`: the shipped routing measured on a labelled set of bank posts.

Each post of benchmarks/routing/posts.csv (English and French, labelled by the guide beside it,
GUIDE.md) goes through the real enrichment (language, sentiment, brand, risk flags, priority)
and the routing rules of the settings in use; the team they pick is compared with the label.
Printed: accuracy overall and per language, per team (recall: of the posts that belong to the
team, the share routed there; precision: of the posts routed there, the share that belong), the
confusion matrix, and per rule how many posts it took and the share it sent to the right team.
Accuracy is also printed per half: rules and lexicons may be tuned looking at the posts with an
odd number only; the even half stays held out, and its figure is the one to quote.
The figures are pure functions of the rows (``score``); the command only prints them.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import click

from collectors.pipeline import Enricher
from collectors.types import RawPost
from config.settings import Settings

REPO = Path(__file__).resolve().parent.parent
POSTS = REPO / "benchmarks" / "routing" / "posts.csv"
COLUMNS = ("id", "language", "origin", "text", "team", "why")


@dataclass(frozen=True)
class Routed:
    id: str
    language: str
    text: str
    expected: str
    team: str
    rule: str


@dataclass
class Report:
    teams: list[str]
    total: int = 0
    right: int = 0
    by_language: Counter[str] = field(default_factory=Counter)
    right_by_language: Counter[str] = field(default_factory=Counter)
    by_half: Counter[str] = field(default_factory=Counter)  # "tuning" (odd ids), "held out" (even ids)
    right_by_half: Counter[str] = field(default_factory=Counter)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)  # (expected, routed)
    rule_total: Counter[str] = field(default_factory=Counter)
    rule_right: Counter[str] = field(default_factory=Counter)
    rule_team: dict[str, str] = field(default_factory=dict)
    wrong: list[Routed] = field(default_factory=list)


def read_posts(path: Path, teams: list[str]) -> list[dict[str, str]]:
    """The labelled posts; a missing column, an unknown team or a repeated id is a clear error."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise click.ClickException(f"{path}: missing column(s) {', '.join(missing)}")
        rows = list(reader)
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        if row["team"] not in teams:
            raise click.ClickException(f"{path} record {line}: team {row['team']!r} is not one of {', '.join(teams)}")
        if row["id"] in seen:
            raise click.ClickException(f"{path} record {line}: id {row['id']} is repeated")
        seen.add(row["id"])
    return rows


def route_posts(settings: Settings, rows: list[dict[str, str]]) -> list[Routed]:
    enricher = Enricher(settings)
    at = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    routed: list[Routed] = []
    for row in rows:
        raw = RawPost(external_id=row["id"], network="eval", text=row["text"], created_at=at)
        decided = enricher.enrich(raw, at.replace(tzinfo=None)).route
        routed.append(Routed(row["id"], row["language"], row["text"], row["team"], decided.team, decided.rule_id))
    return routed


def half(post_id: str) -> str:
    """Posts with an odd number are the half rules may be tuned on; the even half is held out."""
    digits = "".join(c for c in post_id if c.isdigit())
    return "tuning" if digits and int(digits) % 2 else "held out"


def score(routed: list[Routed], teams: list[str], rule_teams: dict[str, str]) -> Report:
    report = Report(teams=teams, rule_team=rule_teams)
    for item in routed:
        hit = item.team == item.expected
        report.total += 1
        report.right += hit
        report.by_language[item.language] += 1
        report.right_by_language[item.language] += hit
        report.by_half[half(item.id)] += 1
        report.right_by_half[half(item.id)] += hit
        report.confusion[(item.expected, item.team)] += 1
        report.rule_total[item.rule] += 1
        report.rule_right[item.rule] += hit
        if not hit:
            report.wrong.append(item)
    return report


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:6.1%}" if whole else "     -"


def print_report(report: Report, path: Path, show: int) -> None:
    teams = report.teams
    click.echo(f"routing on {path.name}: {report.total} posts "
               f"({', '.join(f'{k} {v}' for k, v in sorted(report.by_language.items()))})")
    click.echo(f"  accuracy {_pct(report.right, report.total)} ({report.right} of {report.total}); "
               + "; ".join(f"{lang} {_pct(report.right_by_language[lang], n).strip()}"
                           for lang, n in sorted(report.by_language.items())))
    click.echo("  " + "; ".join(f"{name} half ({'odd' if name == 'tuning' else 'even'} ids) "
                                f"{_pct(report.right_by_half[name], report.by_half[name]).strip()}"
                                for name in ("tuning", "held out") if report.by_half[name]))
    width = max(len(t) for t in teams) + 2
    click.echo(f"  {'team':<{width}} {'posts':>5} {'routed':>6} {'recall':>7} {'precision':>9}")
    for team in teams:
        expected = sum(n for (e, _), n in report.confusion.items() if e == team)
        routed = sum(n for (_, r), n in report.confusion.items() if r == team)
        right = report.confusion[(team, team)]
        click.echo(f"  {team:<{width}} {expected:>5} {routed:>6} {_pct(right, expected):>7} {_pct(right, routed):>9}")
    click.echo("  confusion (rows: the label; columns: where the rules sent it)")
    click.echo(f"  {'':<{width}}" + "".join(f"{t[:16]:>18}" for t in teams))
    for label in teams:
        click.echo(f"  {label:<{width}}" + "".join(f"{report.confusion[(label, t)]:>18}" for t in teams))
    click.echo(f"  {'rule':<22} {'team':<18} {'posts':>5} {'precision':>9}")
    for rule, team in report.rule_team.items():
        n = report.rule_total[rule]
        click.echo(f"  {rule:<22} {team:<18} {n:>5} {_pct(report.rule_right[rule], n):>9}")
    for item in report.wrong[:show]:
        click.echo(f"  WRONG {item.id} label {item.expected}, sent to {item.team} by {item.rule}: {item.text[:110]!r}")


def run_routing(settings: Settings, path: Path, show: int) -> Report:
    teams = list(settings.team_keys)
    rows = read_posts(path, teams)
    report = score(route_posts(settings, rows), teams, {rule.id: rule.team for rule in settings.rules})
    print_report(report, path, show)
    return report
