"""create_app(): the only place that creates the Dash object.

Pages live in `dashboard/pages/`, one file each (layout, roles, nav entry, callbacks). Settings and
the database are attached to the Flask server once; callbacks reach them through
`dashboard.context.current()`. Dash registers page callbacks globally, so one
process serves one app (as gunicorn workers and `vigie serve` do).
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import Flask

from config.settings import Settings
from dashboard.archive_download import register_archive_download
from dashboard.auth.guard import current_principal
from dashboard.auth.guard import install as install_guard
from dashboard.auth.login import csrf_token, register_login
from dashboard.auth.policy import Principal, role_label
from dashboard.components.nav import nav_entry, nav_links
from dashboard.context import AppContext
from dashboard.exports import register_exports, register_summary_exports
from dashboard.hooks import register_hooks
from dashboard.ops import register_ops
from dashboard.own_writes import install as install_own_writes
from dashboard.reader import install as install_reader
from dashboard.security import install as install_security
from i18n import _
from models.db import Database

HERE = Path(__file__).resolve().parent
log = logging.getLogger("vigie.web")


def _nav_links(settings: Settings, principal: Principal) -> list[Any]:
    """The bar's links: the pages this principal may open that declare a nav entry (dashboard/components/nav.py)."""
    teams = [(t.key, t.label) for t in settings.teams]
    return [dbc.NavItem(dbc.NavLink(link.label, href=link.href, id=link.ident))
            for link in nav_links(dash.page_registry.values(), principal, teams)]


def _who(settings: Settings, principal: Principal) -> Any:
    """The signed-in person's name (a link to their preferences), role and teams, in the reader's language."""
    labels = {t.key: t.label for t in settings.teams}
    teams = ", ".join(labels.get(key, key) for key in principal.teams)
    about = f"{role_label(principal.role)} · {teams}" if teams else role_label(principal.role)
    return html.Span([html.A(html.B(principal.name, id="vigie-user"), href="/preferences", id="vigie-preferences",
                             className="link-light", title=_("Your preferences: language and time zone")),
                      f" ({about})"],
                     className="text-light small me-3")


def _navbar(settings: Settings, principal: Principal | None) -> Any:
    if principal is None or principal.is_kiosk:
        return html.Div(id="vigie-user")  # a wall screen: no navigation
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("Vigie", href="/"),
                dbc.Nav(_nav_links(settings, principal), navbar=True, className="me-auto"),
                _who(settings, principal),
                html.Form([dcc.Input(type="hidden", name="csrf", value=csrf_token()),
                           html.Button(_("Sign out"), type="submit", className="btn btn-secondary btn-sm",
                                       id="vigie-logout")],
                          action="/logout", method="POST", className="mb-0"),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-3 vigie-navbar",
    )


def settle(app: dash.Dash) -> None:
    """Ready a server process's app before it serves anyone (gunicorn's workers, `vigie serve`):
    one request sets Dash up (callbacks, scripts, page router: done on a first request, without a
    lock, it raced among a new worker's threads), the wall's chart is drawn once, then what was
    built so far (the app, Dash's and plotly's modules: some 170,000 objects) is moved out of
    Python's garbage collector's reach (`gc.freeze`). Each of its full collections walked them all:
    95 ms, falling inside whichever request allocated at the wrong moment (a wall tick with new
    items at 288 ms, 130 of them in the collector). Tests build many apps in one process and do not settle them."""
    app.server.test_client().get("/healthz")
    try:
        _draw_chart_once()
    except Exception:  # a head start only: the first wall screen draws it otherwise
        log.warning("the wall's chart could not be drawn ahead", exc_info=True)
    gc.collect()
    gc.freeze()


def _draw_chart_once() -> None:
    """The wall's chart drawn once with a placeholder day, as Dash sends it: on first use plotly reads
    the description of its validators (a JSON file of several megabytes) and builds one per property,
    ~100 ms that fell in the first wall screen's page load on each worker (`make load`: the slowest
    page loads), and left that many objects outside `gc.freeze`, for every full collection to walk."""
    from dashboard.components.wall_panels import timeline_figure

    hours = [f"2026-01-01T{h:02d}:00:00" for h in range(24)]
    rows = [{"hour": h, "network": net, "count": 2, "positive": 1, "negative": 1}
            for h in hours for net in ("x", "rss")]
    timeline_figure(rows, hours, "UTC").to_plotly_json()


def create_app(settings: Settings, db: Database) -> dash.Dash:
    server = Flask("vigie", static_folder=None)
    server.extensions["vigie"] = AppContext(settings=settings, db=db)
    register_hooks(server)  # POST /hooks/<source>: signed webhook deliveries (no login: the signature is the auth)
    register_login(server)
    register_exports(server)  # /audit/export.csv and .jsonl (compliance, admin)
    register_summary_exports(server)  # /summary/export.pdf and .csv (managers, compliance, admin)
    register_archive_download(server)  # /archive/exports/<name>.zip (compliance)
    register_ops(server)  # /healthz, /readyz (public), /metrics (a scraper's token or an admin)
    if settings.auth.oidc is not None:
        from dashboard.auth.oidc import register_oidc

        register_oidc(server, settings.auth.oidc, settings.auth.public_url)
    app = dash.Dash(
        # Dash names page modules after this: the package the pages live in, so each page is the module
        # ``dashboard.pages.<name>`` whatever was imported before (the name "vigie" would turn into the
        # prefix of a second set of module names once the ``vigie`` package is imported: duplicate pages).
        "dashboard",
        server=server,  # type: ignore[arg-type]  # a Flask app is accepted (Dash docs)
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        title="Vigie",
        suppress_callback_exceptions=True,
        update_title=None,  # type: ignore[arg-type]  # None disables the "Updating…" title
        serve_locally=True,
    )

    def layout() -> Any:  # built per request: the navigation depends on who asks
        return html.Div(
            [
                dcc.Location(id="url"),
                _navbar(settings, current_principal()),
                dbc.Container(dash.page_container, fluid=True),
            ]
        )

    app.layout = layout
    for page in dash.page_registry.values():
        nav_entry(page)  # a nav entry that cannot make a link fails at start, naming its page
    install_security(app, server, settings.auth)  # trusted proxies, request size limit, security headers
    install_own_writes(server)  # before the guard: every request starts its own tracking
    install_guard(app, server)
    install_reader(app, server)  # each request's language and time zone; <html lang>
    return app
