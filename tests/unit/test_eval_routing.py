"""`vigie eval routing` (issue 18, item 4): the labelled set, the figures, the command's output."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from config.settings import Settings
from vigie.eval_routing import COLUMNS, POSTS, Routed, read_posts, score

TEAMS = ["customer_service", "legal", "marketing"]


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _row(id_: str, text: str, team: str, language: str = "en") -> dict[str, str]:
    return {"id": id_, "language": language, "origin": "written", "text": text, "team": team, "why": "test"}


def test_shipped_set_has_400_posts_in_both_languages_for_every_team(base_settings: Settings) -> None:
    rows = read_posts(POSTS, list(base_settings.team_keys))
    assert len(rows) >= 400
    by = Counter((r["language"], r["team"]) for r in rows)
    for language in ("en", "fr"):
        for team in TEAMS:
            assert by[(language, team)] >= 40, (language, team)
    assert all(r["text"].strip() and r["why"].strip() and r["origin"].strip() for r in rows)
    assert (POSTS.parent / "GUIDE.md").exists()


def test_score_counts_accuracy_confusion_and_rule_precision() -> None:
    routed = [
        Routed("1", "en", "a", "legal", "legal", "fraud-or-phishing"),
        Routed("2", "en", "b", "legal", "marketing", "default"),
        Routed("3", "fr", "c", "customer_service", "customer_service", "unhappy-customer"),
        Routed("4", "fr", "d", "marketing", "marketing", "default"),
    ]
    report = score(routed, TEAMS, {"fraud-or-phishing": "legal", "default": "marketing",
                                   "unhappy-customer": "customer_service"})
    assert (report.total, report.right) == (4, 3)
    assert report.right_by_language == Counter({"en": 1, "fr": 2})
    assert report.confusion[("legal", "marketing")] == 1
    assert (report.rule_total["default"], report.rule_right["default"]) == (2, 1)
    assert [w.id for w in report.wrong] == ["2"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([_row("a", "x", "sales")], "team 'sales' is not one of"),
        ([_row("a", "x", "legal"), _row("a", "y", "legal")], "id a is repeated"),
    ],
)
def test_bad_rows_are_clear_errors(tmp_path: Path, rows: list[dict[str, str]], message: str) -> None:
    with pytest.raises(click.ClickException, match=message):
        read_posts(_write(tmp_path / "posts.csv", rows), TEAMS)


def test_missing_column_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text("id,text,team\na,x,legal\n", encoding="utf-8")
    with pytest.raises(click.ClickException, match="missing column"):
        read_posts(path, TEAMS)


def test_command_routes_through_the_real_pipeline_and_prints_every_figure(tmp_path: Path) -> None:
    from vigie.cli import main

    posts = _write(tmp_path / "posts.csv", [
        _row("e1", "@AureliaBank I filed a complaint with the CFPB about you", "legal"),
        _row("e2", "@AureliaBank my card got declined again, so annoying", "customer_service"),
        _row("e3", "Free crypto giveaway, click here!", "marketing"),
        _row("f1", "@banqueaurelia je vais porter plainte, mon avocat est prévenu", "legal", "fr"),
        # labelled wrong on purpose: praise goes to marketing
        _row("f2", "Bravo @banqueaurelia, super accueil en agence", "customer_service", "fr"),
    ])
    result = CliRunner().invoke(main.commands["eval"], ["routing", "--posts", str(posts), "--show-wrong", "5"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "routing on posts.csv: 5 posts (en 3, fr 2)" in out
    assert "accuracy  80.0% (4 of 5); en 100.0%; fr 50.0%" in out
    assert "tuning half (odd ids) 100.0%; held out half (even ids) 50.0%" in out  # e1 e3 f1 | e2 f2
    assert re.search(r"legal\s+2\s+2\s+100\.0%\s+100\.0%", out)
    assert re.search(r"regulator-or-legal\s+legal\s+2\s+100\.0%", out)
    assert "WRONG f2 label customer_service, sent to marketing" in out


def test_command_on_the_shipped_set(base_settings: Settings) -> None:
    from vigie.cli import main

    result = CliRunner().invoke(main.commands["eval"], ["routing"])
    assert result.exit_code == 0, result.output
    total = len(read_posts(POSTS, list(base_settings.team_keys)))
    assert f"routing on posts.csv: {total} posts" in result.output
    # A floor under the held-out half (79.1% when the rules were last changed): a change to the
    # lexicons or the rules that routes worse fails here.
    held_out = re.search(r"held out half \(even ids\) ([\d.]+)%", result.output)
    assert held_out is not None and float(held_out.group(1)) >= 75.0, result.output
    for line in ("confusion (rows: the label; columns: where the rules sent it)", "precision"):
        assert line in result.output
