"""create_app(): the only place that creates the Dash object.

Pages live in `dashboard/pages/`, one file each (layout + callbacks). Settings and
the database are attached to the Flask server once; callbacks reach them through
`dashboard.context.current()`. Dash registers page callbacks globally, so one
process serves one app (as gunicorn workers and `vigie serve` do).
"""

from __future__ import annotations

from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import Flask

from config.settings import Settings
from dashboard.context import AppContext
from dashboard.hooks import register_hooks
from models.db import Database

HERE = Path(__file__).resolve().parent


def _navbar(settings: Settings) -> dbc.Navbar:
    team_links = [dbc.NavItem(dbc.NavLink(t.label, href=f"/queue/{t.key}", id=f"nav-{t.key}")) for t in settings.teams]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("Vigie", href="/"),
                dbc.Nav(
                    team_links + [dbc.NavItem(dbc.NavLink("Sources", href="/sources", id="nav-sources")),
                                  dbc.NavItem(dbc.NavLink("Wall", href="/wall", id="nav-wall"))],
                    navbar=True,
                    className="me-auto",
                ),
                dbc.InputGroup(
                    [
                        dbc.InputGroupText("Acting as"),
                        dbc.Input(
                            id="actor-name",
                            type="text",
                            placeholder="your name",
                            value="operator",
                            maxLength=60,
                            persistence=True,
                            persistence_type="local",
                            debounce=True,
                        ),
                    ],
                    size="sm",
                    style={"maxWidth": "260px"},
                ),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-3 vigie-navbar",
    )


def create_app(settings: Settings, db: Database) -> dash.Dash:
    server = Flask("vigie")
    server.extensions["vigie"] = AppContext(settings=settings, db=db)
    register_hooks(server)  # POST /hooks/<source>: signed webhook deliveries (no login: the signature is the auth)
    app = dash.Dash(
        "vigie",
        server=server,  # type: ignore[arg-type]  # a Flask app is accepted (Dash docs)
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        title="Vigie",
        suppress_callback_exceptions=True,
        update_title=None,  # type: ignore[arg-type]  # None disables the "Updating…" title
        serve_locally=True,
    )
    app.layout = html.Div(
        [
            dcc.Location(id="url"),
            _navbar(settings),
            dbc.Container(dash.page_container, fluid=True),
        ]
    )
    return app
