"""Logging, configured in one place for every process: the `vigie` commands (`configure_logging`)
and gunicorn's master and workers (`gunicorn_logconfig`, used by deploy/gunicorn.conf.py), so the
`vigie.*` loggers and gunicorn's error and access logs all write the same lines to stderr.

``VIGIE_LOG_FORMAT=plain`` (the default) writes ``time level logger: message``; ``json`` writes one
JSON object per line with ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and, when
an exception is logged, ``exception`` (its traceback as text), for a log shipper to read.
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

from config.settings import Settings

PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers that say too much at INFO: werkzeug's request lines, alembic's steps, APScheduler's
# "skipped: max instances" (expected), and httpx, which logs every URL (a query may hold a credential).
QUIET: dict[str, str] = {"werkzeug": "WARNING", "alembic": "WARNING", "apscheduler": "ERROR",
                         "httpx": "WARNING", "httpcore": "WARNING"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and exception when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_dict(log_format: str, level: str, gunicorn: bool = False) -> dict[str, Any]:
    """The `logging.config.dictConfig` of a process: one stderr handler with the chosen format on
    the root logger (the `vigie.*` loggers propagate to it), the noisy libraries quieted, and with
    ``gunicorn`` its ``gunicorn.error`` and ``gunicorn.access`` loggers on the same handler."""
    formatter: dict[str, Any] = {"()": JsonFormatter} if log_format == "json" else {"format": PLAIN}
    loggers: dict[str, Any] = {name: {"level": quiet} for name, quiet in QUIET.items()}
    if gunicorn:
        for name in ("gunicorn.error", "gunicorn.access"):
            loggers[name] = {"level": "INFO", "handlers": ["stderr"], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"vigie": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "vigie",
                                "stream": "ext://sys.stderr"}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": loggers,
    }


def configure_logging(settings: Settings) -> None:
    """Every `vigie` command calls this once, at its start."""
    logging.config.dictConfig(logging_dict(settings.ops.log_format, settings.log_level))


def gunicorn_logconfig(settings: Settings) -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: its own logs and Vigie's through the same formatter."""
    return logging_dict(settings.ops.log_format, settings.log_level, gunicorn=True)
