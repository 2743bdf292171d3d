"""What callbacks need from the running app: settings and database, set once by create_app()."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from config.settings import Settings
from models.db import Database


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    db: Database


def current() -> AppContext:
    ctx = current_app.extensions["vigie"]
    assert isinstance(ctx, AppContext)
    return ctx
