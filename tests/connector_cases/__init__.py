"""One `ConnectorCase` per connector, for the shared fault tests (tests/integration/test_source_faults.py).

Each module here defines ``CASE``: how to configure the connector against a local
`ReplayServer`, which path it polls, the replies that make one good poll (including
the routes it needs besides, such as an OAuth token endpoint) and the external ids those
replies hold. Adding a connector's fault coverage is one file here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.replay import ReplayServer, Reply


@dataclass(frozen=True)
class ConnectorCase:
    kind: str
    options: Callable[[str], dict[str, Any]]  # server base URL -> sources.yaml options (url, query…)
    path: str  # the path the poll requests; faults are served there
    good: Callable[[], list[Reply]]  # the replies of one good poll of `path`, in order
    expected_ids: frozenset[str]  # external ids the good replies hold, all stored exactly once
    malformed: Reply  # an unreadable body with the right content type
    setup: Callable[[ReplayServer], None] = lambda server: None  # other routes (token endpoints…)
    secrets: dict[str, str] = field(default_factory=dict)  # secret name -> value
    content_type: str = "application/json"  # what the connector expects


def all_cases() -> list[ConnectorCase]:
    cases: list[ConnectorCase] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        cases.append(module.CASE)
    return cases
