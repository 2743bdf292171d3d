"""A gunicorn worker sets Dash up before serving anyone (dashboard/wsgi.py): Dash does it on the first
request, unlocked, and a new worker's threads serving first requests at once raced it (500s)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from models.db import open_database
from models.migrate import upgrade
from tests.kit import vigie_env

REPO = Path(__file__).resolve().parents[2]


def test_the_worker_is_set_up_when_imported(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'v.db'}")
    upgrade(db.engine)
    db.engine.dispose()
    check = ("import dashboard.wsgi as w; "
             "print(w.app._got_first_request['setup_server'], w.app._got_first_request['pages'])")
    done = subprocess.run([sys.executable, "-c", check], env=vigie_env(tmp_path / "v.db", log_level="WARNING"),
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
