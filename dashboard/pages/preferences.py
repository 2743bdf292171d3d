"""Preferences: each person's language and time zone (the name in the navigation bar links here).

Language: English, French, or the browser's (``users.language`` empty). Time zone: any IANA zone
of the server's tzdata, or the firm's (``users.timezone`` empty: ``reporting.yaml``'s zone, which
follows the firm if it moves). Saved with `models.users.set_preferences` in one write transaction
(which audits it); the callback changes the signed-in person's own account and nobody else's (it
takes no name). The page then reloads, so the whole interface, the navigation bar included,
speaks the new language at once.
"""

from __future__ import annotations

import time
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.auth.guard import current_principal, guarded
from dashboard.auth.policy import SIGNED_IN
from dashboard.components.preferences import BROWSER, FIRM, choices, stored, zones
from dashboard.context import current
from i18n import LANGUAGES, _
from models.users import UserError, set_preferences


def _page_title(**_kw: Any) -> str:
    return _("Preferences") + " · Vigie"  # untranslated: the brand


dash.register_page(__name__, path="/preferences", title=_page_title, name="Preferences", roles=SIGNED_IN)

# Each language is named in its own words, whatever the reader's language.
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "fr": "Français"}  # untranslated: languages' own names


LABELLED_BY_ZONE: dict[str, Any] = {"aria-labelledby": "preferences-timezone-label"}  # the drop-down's group


def _language_options() -> list[dict[str, str]]:
    return [{"label": _("As my browser asks"), "value": BROWSER},
            *({"label": LANGUAGE_NAMES[code], "value": code} for code in LANGUAGES)]


def _zone_options(firm: str) -> list[dict[str, str]]:
    return [{"label": _("The firm’s ({zone})").format(zone=firm), "value": FIRM},
            *({"label": zone, "value": zone} for zone in zones())]


def layout(saved: str | None = None, **_kwargs: Any) -> Any:
    principal = current_principal()
    if principal is None:
        return html.Div()
    language, zone = choices(principal.language, principal.timezone)
    firm = current().settings.reporting.timezone
    notice = dbc.Alert(_("Your preferences are saved."), color="success", id="preferences-saved") if saved else None
    return html.Div(
        [
            html.H1(_("Your preferences"), className="h3", id="preferences-heading"),
            dcc.Location(id="preferences-reload", refresh=True),
            notice,
            html.Fieldset(
                [html.Legend(_("Language"), className="h6"),
                 dbc.RadioItems(id="preferences-language", options=_language_options(), value=language)],
                className="mb-3"),
            dbc.Label(_("Time zone"), html_for="preferences-timezone", id="preferences-timezone-label",
                      className="h6"),
            html.Div(dcc.Dropdown(id="preferences-timezone", options=_zone_options(firm), value=zone,
                                  clearable=False, searchable=True),
                     role="group", **LABELLED_BY_ZONE),
            html.P(_("Times on every page are shown in this zone."), className="small text-muted mt-1"),
            dbc.Button(_("Save"), id="preferences-save", color="primary", className="mt-2"),
            html.Div(id="preferences-alert", className="mt-3", role="status"),
        ],
        style={"maxWidth": "40rem"},
    )


@callback(
    Output("preferences-alert", "children"),
    Output("preferences-reload", "href"),
    Input("preferences-save", "n_clicks"),
    State("preferences-language", "value"),
    State("preferences-timezone", "value"),
    prevent_initial_call=True,
)
@guarded(*SIGNED_IN)
def save(clicks: int | None, language: Any, timezone: Any) -> tuple[Any, Any]:
    """Store the signed-in person's own choice, then reload the page in its language."""
    principal = current_principal()
    if not clicks or principal is None or principal.is_kiosk:
        raise PreventUpdate
    chosen = stored(language, timezone)
    if chosen is None:
        return dbc.Alert(_("Choose a language and a time zone from the lists."), color="danger"), no_update
    try:
        with current().db.write.begin() as session:
            set_preferences(session, principal.name, chosen[0], chosen[1], actor=principal.name)
    except UserError:  # the account was removed meanwhile
        return dbc.Alert(_("Your preferences could not be saved."), color="danger"), no_update
    return no_update, f"/preferences?saved={time.time_ns()}"
