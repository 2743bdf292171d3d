"""CSV cells a spreadsheet never runs as formulas (standard library only: the audit export, the
archive export and the archive export's offline check all use it).
"""

from __future__ import annotations

from typing import Any

# Characters that make a spreadsheet read a cell as a formula (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The text of one CSV cell, never read as a formula by a spreadsheet.

    Following OWASP's CSV injection guidance, a cell whose first character is ``=``, ``+``,
    ``-``, ``@``, tab or carriage return gets a leading single quote (``'=1+1``), which Excel,
    LibreOffice and Google Sheets show as text. The same is done when those characters come
    after leading whitespace (``"  =1+1"``): LibreOffice's "trim spaces" import option and
    Google Sheets' import strip it and would then evaluate the formula; the cost, a quote
    before a rare legitimate value, is small beside a formula run on an auditor's machine.
    Quotes and separators inside a cell are the csv module's job (it quotes the cell).
    ``None`` is an empty cell; anything else is ``str(value)``.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


def unneutralised(cell: str) -> str:
    """The text `safe_cell` was given, from the cell it wrote (its leading quote taken off)."""
    if cell.startswith("'") and (cell[1:].startswith(FORMULA_STARTS) or cell[1:].lstrip().startswith(FORMULA_STARTS)):
        return cell[1:]
    return cell
