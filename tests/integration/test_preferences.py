"""Each person's language and time zone (/preferences), and the shell around every page in French:
the sign-in page by the browser's language, refusals and the navigation bar by the account's."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from config.settings import Settings
from dashboard.components.preferences import BROWSER, FIRM, choices, stored, zones
from models.db import Database
from models.tables import AuditEvent, User
from models.users import create_kiosk_token, set_preferences
from tests.web import ACCOUNTS, dash_post, make_accounts, sign_in, spec_inputs

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
ROUTER = ".._pages_content.children..._pages_store.data.."


def _save_key(web: Any) -> str:
    return next(k for k in web.callback_map if k.startswith("..preferences-alert.children"))


def _save(web: Any, client: Any, language: Any, timezone: Any, extra: list[dict[str, Any]] | None = None) -> Any:
    key = _save_key(web)
    entry = web.callback_map[key]
    values = {"preferences-language.value": language, "preferences-timezone.value": timezone}
    state = spec_inputs(entry["state"], values) + (extra or [])
    return dash_post(client, key, spec_inputs(entry["inputs"], {"preferences-save.n_clicks": 1}), state)


def _prefs(db: Database) -> dict[str, tuple[str | None, str | None]]:
    with db.read() as s:
        return {u.name: (u.language, u.timezone) for u in s.scalars(select(User))}


def _preference_events(db: Database) -> list[tuple[str, Any, Any]]:
    with db.read() as s:
        return [(e.actor, e.before, e.after) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == "user.preferences").order_by(AuditEvent.id))]


def _page(client: Any, path: str, search: str = "") -> str:
    response = dash_post(client, ROUTER, [{"id": "_pages_location", "property": "pathname", "value": path},
                                          {"id": "_pages_location", "property": "search", "value": search}])
    assert response.status_code == 200, (path, response.status_code)
    return json.dumps(response.get_json(), ensure_ascii=False)


def test_the_form_offers_the_stored_choices() -> None:
    assert choices(None, None) == (BROWSER, FIRM)
    assert choices("fr", "Europe/Paris") == ("fr", "Europe/Paris")
    assert choices("de", "Mars/Olympus") == (BROWSER, FIRM)  # nothing the form cannot show
    assert stored(BROWSER, FIRM) == (None, None)
    assert stored("en", "America/New_York") == ("en", "America/New_York")
    assert stored("de", FIRM) is None and stored("fr", "Mars/Olympus") is None and stored(1, 1) is None
    assert "Europe/Paris" in zones() and "UTC" in zones() and not any(z.startswith("posix/") for z in zones())


def test_saving_changes_the_own_account_only_and_audits_it(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    before = _prefs(db)
    client = web.server.test_client()
    assert sign_in(client, "agent").status_code == 302
    page = _page(client, "/preferences")
    assert "preferences-language" in page and "preferences-timezone" in page
    assert f"The firm’s ({settings.reporting.timezone})" in page and "Français" in page

    # The callback takes no account name: a crafted request naming another account is not run at all.
    extra = [{"id": "preferences-user", "property": "value", "value": "admin"}]
    assert _save(web, client, "fr", "Europe/Paris", extra).status_code not in (200, 204)
    assert _prefs(db) == before and _preference_events(db) == []

    response = _save(web, client, "fr", "Europe/Paris")
    assert response.status_code == 200, response.data[:300]
    reload = response.get_json()["response"]["preferences-reload"]["href"]
    assert reload.startswith("/preferences?saved=")  # the page reloads, in its new language
    after = _prefs(db)
    assert after["agent"] == ("fr", "Europe/Paris")
    assert {n: p for n, p in after.items() if n != "agent"} == {n: p for n, p in before.items() if n != "agent"}
    assert _preference_events(db) == [("agent", {"user": "agent", "language": None, "timezone": None},
                                       {"user": "agent", "language": "fr", "timezone": "Europe/Paris"})]

    # Back to the browser's language and the firm's zone: stored as none.
    assert _save(web, client, BROWSER, FIRM).status_code == 200
    assert _prefs(db)["agent"] == (None, None) and len(_preference_events(db)) == 2

    # What the form does not offer is refused, and nothing is written.
    for language, zone in (("de", FIRM), ("fr", "Mars/Olympus"), (None, None), ("fr", ["Europe/Paris"])):
        refused = _save(web, client, language, zone)
        assert refused.status_code == 200 and "Choose a language and a time zone" in refused.get_data(as_text=True)
    assert _prefs(db)["agent"] == (None, None) and len(_preference_events(db)) == 2


def test_nobody_else_may_save(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    before = _prefs(db)
    assert _save(web, web.server.test_client(), "fr", "Europe/Paris").status_code == 401
    kiosk = web.server.test_client()
    with db.write.begin() as s:
        token = create_kiosk_token(s, "prefs-wall")
    assert kiosk.get(f"/wall?kiosk={token}").status_code == 200
    assert _save(web, kiosk, "fr", "Europe/Paris").status_code == 403
    assert kiosk.get("/preferences").status_code == 403
    assert _prefs(db) == before and _preference_events(db) == []


def test_every_person_reaches_the_page_from_their_name(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    for name in ACCOUNTS:
        client = web.server.test_client()
        assert sign_in(client, name).status_code == 302
        assert client.get("/preferences").status_code == 200
        layout = json.dumps(client.get("/_dash-layout").get_json())
        assert '"href": "/preferences"' in layout and '"id": "vigie-preferences"' in layout, name


def test_the_sign_in_page_speaks_the_browsers_language(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    english = web.server.test_client().get("/login").get_data(as_text=True)
    assert '<html lang="en">' in english and ">Sign in</button>" in english and "User name" in english
    client = web.server.test_client()
    page = client.get("/login?expired=1", headers=FRENCH).get_data(as_text=True)
    assert '<html lang="fr">' in page and "<title>Se connecter · Vigie</title>" in page
    assert "Nom d’utilisateur" in page and "Mot de passe" in page and ">Se connecter</button>" in page
    assert "Votre session a pris fin" in page
    assert "Sign in" not in page and "User name" not in page and "Password" not in page
    failed = sign_in(client, "agent", password="wrong")  # the form's own request: the browser's language again
    assert failed.status_code == 401 and "Sign-in failed" in failed.get_data(as_text=True)
    french = client.post("/login", headers=FRENCH, data={"csrf": "forged", "name": "agent", "password": "x"})
    assert french.status_code == 400 and "Le formulaire a expiré" in french.get_data(as_text=True)
    out = client.get("/login?signed_out=1", headers=FRENCH).get_data(as_text=True)
    assert "Déconnexion effectuée." in out


def test_a_french_account_gets_french_refusals_and_bar(web: Any, db: Database, settings: Settings) -> None:
    make_accounts(db, settings)
    with db.write.begin() as s:
        set_preferences(s, "lead", "fr", "Europe/Paris")
    client = web.server.test_client()
    assert sign_in(client, "lead").status_code == 302
    refused = client.get("/audit")  # the account's language, whatever the browser says
    assert refused.status_code == 403
    text = refused.get_data(as_text=True)
    assert '<html lang="fr">' in text and "Votre rôle ne donne pas accès à cette page." in text
    assert "Retour à la vue d’ensemble" in text
    other_team = client.get("/queue/legal")
    assert other_team.status_code == 403 and "Vous ne travaillez pas pour cette équipe." in other_team.get_data(
        as_text=True)
    layout = json.dumps(client.get("/_dash-layout").get_json(), ensure_ascii=False)
    assert "Se déconnecter" in layout and "chef d’équipe" in layout and "Sign out" not in layout
    team = next(t for t in settings.teams if t.key == "customer_service")
    assert f"(chef d’équipe · {team.labels.get('fr', team.english)})" in layout  # the team's French name
    assert '<html lang="fr">' in client.get("/").get_data(as_text=True)
    assert "Votre rôle ne donne pas accès" in _page(client, "/audit")  # the page's own refusal, in the layout
