"""``GET /archive/exports/<name>.zip``: an export made on the /archive page, as the zip written
beside its folder. Compliance only (the guard's `ROUTE_POLICY`, checked again here); the name must
be one the page makes (a UTC timestamp), so no path outside the exports folder can be asked for;
each download is an audit event (and so an archive record)."""

from __future__ import annotations

import re

from flask import Flask, Response, abort, send_file

from dashboard.auth.guard import current_principal
from dashboard.auth.login import audit
from dashboard.components.archive_exports import EXPORT_ROLES, export_root

NAME = re.compile(r"^\d{8}T\d{6}Z(-\d{1,4})?$")


def download(name: str) -> Response:
    principal = current_principal()
    if principal is None or principal.role not in EXPORT_ROLES:
        abort(403)
    if not NAME.fullmatch(name):
        abort(404)
    path = (export_root() / f"{name}.zip").resolve()
    if not path.is_file():
        abort(404)
    audit(principal.name, "archive.export.download", {"export": name})
    return send_file(path, mimetype="application/zip", as_attachment=True, download_name=f"vigie-archive-{name}.zip")


def register_archive_download(server: Flask) -> None:
    server.add_url_rule("/archive/exports/<name>.zip", "vigie_archive_export_zip", download)
