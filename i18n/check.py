"""What the catalogue lacks, and strings shown to people that skip it. Used by the catalogue test
(tests/unit/test_catalogue.py) and by translators: ``python -m i18n.check`` prints every string
of the code that French does not translate yet, as ``.po`` entries to fill in (stdout), and every
literal that looks shown to people but is not inside ``_()`` (stderr, as ``file:line``).

A literal "looks shown to people" when it reads as words (a capitalised word, or two words with a
space) and sits where text goes: not a docstring, a logging call, a raised exception's message
(those are for developers and logs), a dict key, a comparison, or a keyword argument that never
holds text (``id``, ``className``, ``href``…). A line that must stay as it is says why with a
comment: ``# untranslated: a brand name``.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.extract import extract_from_dir

from i18n import LANGUAGES, read_catalogue

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("dashboard", "models", "collectors", "config", "vigie", "i18n")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "_in": (2,)}
TRANSLATORS = {"_", "gettext", "ngettext", "N_", "_in"}
# Keyword arguments that never hold text shown to people.
NOT_TEXT = {"id", "className", "class_name", "color", "href", "style", "type", "name", "key", "size", "method",
            "action", "target", "rel", "value", "field", "colId", "path", "path_template", "module", "mode",
            "format", "fmt", "sep", "encoding", "language", "locale", "dateTime", "align", "pattern",
            "inputMode", "autoComplete", "autocomplete", "src", "role", "kind", "event", "column"}
# Shown as they are in every language.
SAME_EVERYWHERE = {"Vigie", "Mastodon", "Bluesky", "Reddit", "RSS", "CSV", "PDF", "JSON", "JSONL", "ZIP",
                   "OK", "SLA", "URL", "X", "ID", "UTC", "Ozone"}
WORDS = re.compile(r"[A-Za-zÀ-ÿ]{2,}[^\n]*\s[A-Za-zÀ-ÿ]{2,}|\b[A-Z][a-zà-ÿ]{2,}")
MARK = "# untranslated:"
# Where strings are shown to people (pages, the sign-in page, refusals, notifications, the summary PDF):
# the literal check covers these files and folders. Machine-facing routes (webhooks' JSON answers,
# /metrics' help, /healthz) stay English.
SHOWN = ("dashboard/pages", "dashboard/components", "dashboard/app.py", "dashboard/auth/login.py",
         "dashboard/auth/guard.py", "dashboard/auth/oidc.py", "models/notifications.py", "collectors/jobs/notify.py",
         "collectors/jobs/daily_summary.py", "models/summary_export.py", "models/alert_words.py")


def shown_files() -> list[Path]:
    files: list[Path] = []
    for entry in SHOWN:
        path = ROOT / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


@dataclass(frozen=True)
class Message:
    msgid: str | tuple[str, ...]
    where: str


def extracted() -> list[Message]:
    """Every string of the code inside ``_()``, ``ngettext()`` or ``N_()``."""
    found: list[Message] = []
    for package in PACKAGES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
                ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS):
            if message:
                found.append(Message(message, f"{package}/{filename}:{lineno}"))
    return found


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{[^{}]*\}", text))


def catalogue_problems(language: str) -> list[str]:
    """What ``language``'s catalogue lacks or gets wrong: a string of the code not translated, a
    translation whose ``{placeholders}`` differ from the English, an entry no code uses."""
    catalogue = read_catalogue(language)
    problems: list[str] = []
    used: set[str] = set()
    for message in extracted():
        key = message.msgid[0] if isinstance(message.msgid, tuple) else message.msgid
        used.add(key)
        entry = catalogue.get(key)
        strings = entry.string if entry is not None else None
        if not strings or (isinstance(strings, tuple) and not all(strings)):
            problems.append(f"{message.where}: not translated into {language}: {key!r}")
            continue
        english = set().union(*map(_placeholders, message.msgid)) if isinstance(message.msgid, tuple) else \
            _placeholders(key)
        for translated in (strings if isinstance(strings, (tuple, list)) else (strings,)):
            if _placeholders(str(translated)) - english:
                problems.append(f"{message.where}: the {language} of {key!r} names other placeholders: {translated!r}")
    for entry in catalogue:
        if entry.id and (entry.id[0] if isinstance(entry.id, tuple) else entry.id) not in used:
            problems.append(f"catalogue {language}: {entry.id!r} is used by no code (remove it)")
    return problems


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _text_of(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return None


def _skipped_by_parent(node: ast.AST, parents: dict[int, ast.AST]) -> bool:
    child, parent = node, parents.get(id(node))
    while parent is not None:
        if isinstance(parent, ast.Call):
            name = _call_name(parent)
            if name in TRANSLATORS or name in {"debug", "info", "warning", "error", "exception", "critical", "log"}:
                return True
        if isinstance(parent, ast.keyword) and parent.arg in NOT_TEXT:
            return True
        if isinstance(parent, (ast.Raise, ast.Assert, ast.Compare, ast.Subscript)):
            return True
        if isinstance(parent, ast.Dict):
            if any(child is k for k in parent.keys):
                return True
            key = next((k for k, v in zip(parent.keys, parent.values, strict=True) if v is child), None)
            if isinstance(key, ast.Constant) and key.value in NOT_TEXT | {"function"}:
                return True
        if isinstance(parent, (ast.stmt,)):
            return False
        child, parent = parent, parents.get(id(parent))
    return False


def untranslated_literals(path: Path) -> Iterator[str]:
    """``file:line: text`` for each literal of ``path`` that looks shown to people and skips ``_()``."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    for node in ast.walk(tree):
        text = _text_of(node)
        if text is None or id(node) in docstrings or isinstance(parents.get(id(node)), ast.JoinedStr):
            continue
        if text.strip() in SAME_EVERYWHERE or not WORDS.search(text):
            continue
        start: int = getattr(node, "lineno", 1)
        end: int = getattr(node, "end_lineno", start) or start
        if any(MARK in lines[n - 1] for n in range(start, end + 1)):
            continue
        if _skipped_by_parent(node, parents):
            continue
        yield f"{path.relative_to(ROOT)}:{start}: {text[:70]!r}"


def main() -> int:
    language = sys.argv[1] if len(sys.argv) > 1 else LANGUAGES[1]
    for path in shown_files():
        for line in untranslated_literals(path):
            print(line, file=sys.stderr)
    catalogue = read_catalogue(language)
    seen: set[str] = set()
    for message in extracted():
        key = message.msgid[0] if isinstance(message.msgid, tuple) else message.msgid
        if key in seen or catalogue.get(key) is not None:
            continue
        seen.add(key)
        print(f"#: {message.where}")
        if isinstance(message.msgid, tuple):
            print(f"msgid {_po(message.msgid[0])}\nmsgid_plural {_po(message.msgid[1])}")
            print('msgstr[0] ""\nmsgstr[1] ""\n')
        else:
            print(f"msgid {_po(key)}\nmsgstr \"\"\n")
    return 0


def _po(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


if __name__ == "__main__":
    raise SystemExit(main())
