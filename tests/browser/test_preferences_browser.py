"""The shell in French, in real Chromium against a real `vigie serve`: a French browser gets the
sign-in page in French (``<html lang="fr">``), and a person who picks Français on /preferences gets
the navigation bar in French after the page reloads (their account's choice, whatever the browser)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from models.users import get_user
from tests.chrome import chromium, prepare_site, wait_until
from tests.support import VIGIE, free_port, wait_for_http
from tests.web import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("preferences")
    env, db, settings = prepare_site(tmp)
    port = free_port()
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen([VIGIE, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/login")
        yield {"base": f"http://127.0.0.1:{port}", "db": db, "settings": settings}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        db.engine.dispose()


def _lang(browser: WebDriver) -> str:
    return str(browser.execute_script("return document.documentElement.lang;"))


def _sign_in(browser: WebDriver, base: str, name: str) -> None:
    browser.get(f"{base}/login")
    browser.find_element(By.ID, "login-name").send_keys(name)
    browser.find_element(By.ID, "login-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-submit").click()
    wait_until(lambda: browser.find_element(By.ID, "vigie-user").text == name, what=f"{name} signed in")


def test_a_french_browser_gets_the_sign_in_page_in_french(site: dict[str, Any],
                                                          tmp_path_factory: pytest.TempPathFactory) -> None:
    browser = chromium(tmp_path_factory.mktemp("chromium-fr"), language="fr")
    try:
        browser.get(f"{site['base']}/login")
        assert _lang(browser) == "fr"
        assert browser.title == "Se connecter · Vigie"
        labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "label.form-label")]
        assert labels == ["Nom d’utilisateur", "Mot de passe"]
        assert browser.find_element(By.ID, "login-submit").text == "Se connecter"
        browser.find_element(By.ID, "login-name").send_keys("agent")
        browser.find_element(By.ID, "login-password").send_keys("not the password")
        browser.find_element(By.ID, "login-submit").click()
        error = wait_until(lambda: browser.find_element(By.ID, "login-error").text, what="the failure")
        assert error.startswith("Échec de la connexion") and _lang(browser) == "fr"
    finally:
        browser.quit()


def test_choosing_french_turns_the_bar_french(site: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> None:
    browser = chromium(tmp_path_factory.mktemp("chromium-en"), language="en-GB")
    try:
        _sign_in(browser, site["base"], "lead")
        assert browser.find_element(By.ID, "vigie-logout").text == "Sign out" and _lang(browser) == "en"
        browser.find_element(By.ID, "vigie-preferences").click()  # the name in the bar leads to one's preferences
        wait_until(lambda: browser.find_element(By.ID, "preferences-heading").text == "Your preferences",
                   what="the preferences page")
        assert browser.title == "Preferences · Vigie"
        french = browser.find_element(By.CSS_SELECTOR, "#preferences-language input[value='fr']")
        label = browser.find_element(By.CSS_SELECTOR, f"label[for='{french.get_attribute('id')}']")
        assert label.text == "Français"
        label.click()
        browser.find_element(By.ID, "preferences-save").click()
        wait_until(lambda: browser.find_element(By.ID, "vigie-logout").text == "Se déconnecter", timeout=15,
                   what="the bar in French after the reload")
        saved = "Vos préférences sont enregistrées."
        wait_until(lambda: browser.find_element(By.ID, "preferences-saved").text == saved, what="the saved notice")
        assert _lang(browser) == "fr"
        assert "chef d’équipe" in browser.find_element(By.CSS_SELECTOR, ".vigie-navbar").text
        assert browser.find_element(By.ID, "preferences-heading").text == "Vos préférences"
        with site["db"].read() as s:
            user = get_user(s, "lead")
            assert user is not None and (user.language, user.timezone) == ("fr", None)
    finally:
        browser.quit()
