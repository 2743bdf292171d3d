"""The one check of ids from outside (`models.ids`), and the command line's id type built on it."""

from __future__ import annotations

from typing import Any

import click
import pytest
from click.testing import CliRunner

from models.ids import MAX_ID, MAX_RECORD_ID, no_such, parse_cursor, parse_id, parse_ids, shown
from vigie.common import ITEM_ID


@pytest.mark.parametrize(("value", "expected"), [
    (1, 1), (42, 42), ("42", 42), (" 42\n", 42), (MAX_ID, MAX_ID), (str(MAX_ID), MAX_ID),
    (2**31 - 1, 2**31 - 1), (10**30, None), (str(10**30), None), (MAX_ID + 1, None), (str(MAX_ID + 1), None),
    (2**40, None), (2**63 - 1, None), ("0" * 30 + "7", None),
    (-1, None), ("-1", None), (0, None), ("0", None), ("+5", None), ("abc", None), ("12x", None), ("", None),
    ("１２", None), ("1_000", None), (1.5, None), (3.0, None), ("1.5", None), (float("nan"), None),
    (True, None), (False, None), (None, None), ([1], None), ({"id": 1}, None),
])
def test_parse_id(value: Any, expected: int | None) -> None:
    assert parse_id(value) == expected


def test_parse_ids_checks_all_keeps_order_and_each_once() -> None:
    ids, errors = parse_ids([3, "abc", 1, 10**30, 3, -1, 1.5, "2"])
    assert ids == [3, 1, 2]
    assert errors == ["no such item: 'abc'.", "no such item: 100000000000000000000....", "no such item: -1.",
                      "no such item: 1.5."]
    assert no_such("reply", "x" * 500) == "no such reply: 'xxxxxxxxxxxxxxxxxxxx..."
    assert parse_id(2**40, MAX_RECORD_ID) == 2**40 and parse_id(str(MAX_RECORD_ID), MAX_RECORD_ID) == MAX_RECORD_ID
    assert parse_id(MAX_RECORD_ID + 1, MAX_RECORD_ID) is None and parse_id(str(10**30), MAX_RECORD_ID) is None
    assert parse_cursor(0) == 0 and parse_cursor(7) == 7 and parse_cursor(False) is None and parse_cursor(-1) is None


@pytest.mark.parametrize("value", [str(10**30), str(2**31), "-1", "abc", "1.5", "0"])
def test_command_line_ids_are_bounded(value: str) -> None:
    @click.command()
    @click.option("--item", type=ITEM_ID)
    def show(item: int) -> None:
        click.echo(f"item {item}")

    assert CliRunner().invoke(show, ["--item", "7"]).output == "item 7\n"
    result = CliRunner().invoke(show, ["--item", value])
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '--item': no such item: {shown(value)} (an id is a whole number from 1 to" \
        in result.output
