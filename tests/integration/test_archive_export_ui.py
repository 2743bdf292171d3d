"""Exports on the /archive page through Dash's real endpoint and the guarded download route:
compliance exports a selection into a new folder (records sealed first, the export recorded with
its manifest's SHA-256), downloads its zip; other roles and crafted names get nothing."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from collectors.types import RawPost
from config.settings import Settings
from models.archive_tables import ArchivePending, ArchiveRecord
from models.db import Database
from models.tables import AuditEvent
from tests.kit import store_posts
from tests.web import ACCOUNTS, dash_post, make_accounts, plain_strings, sign_in

STATE = ("archive-export-since", "archive-export-until", "archive-export-hold", "archive-export-author",
         "archive-export-item", "archive-export-formats", "archive-export-restricted")


def _client(web: Any, who: str) -> Any:
    client = web.server.test_client()
    assert sign_in(client, who).status_code == 302
    return client


def _export(client: Any, web: Any, **values: Any) -> Any:
    key = next(k for k in web.callback_map if k.startswith("archive-export-result.children"))
    values.setdefault("formats", ["jsonl", "eml", "csv"])
    state = [{"id": f, "property": "value", "value": values.get(f.removeprefix("archive-export-"))} for f in STATE]
    return dash_post(client, key, [{"id": "archive-export-run", "property": "n_clicks", "value": 1}], state)



def test_compliance_exports_and_downloads(web: Any, db: Database, settings: Settings, tmp_path: Path) -> None:
    make_accounts(db, settings)
    store_posts(db, settings, [RawPost(f"e{i}", "x", f"@AureliaBank export me {i}", datetime.now(UTC), None,
                                       f"@u{i}", "U", 1) for i in range(3)])
    web.server.config["VIGIE_EXPORT_ROOT"] = str(tmp_path / "exports")
    try:
        client = _client(web, "compliance")
        response = _export(client, web)
        assert response.status_code == 200, response.data[:300]
        texts = plain_strings(response.get_json()["response"]["archive-export-result"]["children"])
        assert any("records exported to" in t for t in texts), texts
        manifest_line = next(t for t in texts if t.startswith("Manifest SHA-256: "))
        folders = [p for p in (tmp_path / "exports").iterdir() if p.is_dir()]
        assert len(folders) == 1
        name = folders[0].name
        assert (tmp_path / "exports" / f"{name}.zip").is_file()
        with db.read() as s:
            waiting = list(s.scalars(select(ArchiveRecord.subject).join(
                ArchivePending, ArchivePending.record_id == ArchiveRecord.id)))
            assert waiting and all(w.startswith("export:") for w in waiting), waiting  # all but its own: sealed first
            event = s.scalars(select(AuditEvent).where(AuditEvent.action == "archive.export")).one()
            assert event.actor == "compliance" and event.after["manifest_sha256"] in manifest_line
        download = client.get(f"/archive/exports/{name}.zip")
        assert download.status_code == 200 and download.mimetype == "application/zip"
        names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
        assert any(n.endswith(".jsonl") for n in names) and any("manifest" in n for n in names), names
        for crafted in ("20260101T000000Z-99999", "nosuch", f"{name}.zip", f"{name}x"):
            assert client.get(f"/archive/exports/{crafted}.zip").status_code == 404, crafted
        for crafted in ("../secret", "..%2F..%2Fsecret", f"{name}/x"):  # not this route: a page
            assert client.get(f"/archive/exports/{crafted}.zip").mimetype == "text/html", crafted
        for who, (role, _teams) in ACCOUNTS.items():
            if role == "compliance":
                continue
            other = _client(web, who)
            assert other.get(f"/archive/exports/{name}.zip").status_code == 403, who
            assert _export(other, web).status_code == 403, who
        assert web.server.test_client().get(f"/archive/exports/{name}.zip").status_code == 401
        refused = _export(client, web, formats=[])
        assert "choose at least one format" in plain_strings(refused.get_json()["response"])
    finally:
        web.server.config.pop("VIGIE_EXPORT_ROOT", None)
