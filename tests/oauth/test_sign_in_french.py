"""The sign-in pages' refusals in French (``lang=fr``, reference/oauth.txt): each message exactly as
``oauth/locale/fr`` says it, so a message that lost its translation, or a page that lost the language, fails."""

import pytest
import time_machine
from django.utils import timezone

from accounts import services
from project.conf import ubi_settings
from tests.support import factories
from tests.support.browser import Browser
from tests.support.oauth_client import PASSWORD

LOGIN_PATH = "/v2/oauth/login?lang=fr"


@pytest.fixture
def person(org):
    return factories.make_user(org, email="ada@example.com")


@pytest.fixture
def login_page(live_server):
    browser = Browser(live_server.url)
    page = browser.open(LOGIN_PATH)
    assert page.status_code == 200 and "Connexion" in page.text
    return browser, page


def test_a_wrong_password_is_refused_in_french(login_page, person):
    browser, page = login_page
    answer = browser.submit(page, email=person.email, password="not the password")

    assert answer.status_code == 401
    assert "Adresse e-mail, mot de passe ou code incorrect." in answer.text


def test_a_locked_account_is_refused_in_french(login_page, person):
    browser, page = login_page
    for _ in range(ubi_settings.LOGIN_MAX_FAILURES):
        assert browser.submit(page, email=person.email, password="not the password").status_code == 401
    answer = browser.submit(page, email=person.email, password=PASSWORD)

    assert answer.status_code == 429
    assert "Trop de tentatives échouées. Attendez quelques minutes, puis réessayez." in answer.text


def test_a_missing_second_factor_is_asked_for_in_french(login_page, person):
    services.totp_enable(person)
    browser, page = login_page
    second = browser.submit(page, email=person.email, password=PASSWORD)
    assert second.status_code == 200 and "Validation en deux étapes" in second.text
    assert "Saisissez le code à six chiffres" in second.text  # the page's own instructions

    answer = browser.submit(second, code="")

    assert answer.status_code == 200 and "Ce champ est obligatoire." in answer.text


def test_an_address_over_the_rate_limit_is_refused_in_french(live_server, settings, person):
    settings.UBI = {**settings.UBI, "LOGIN_RATE_LIMIT_PER_ADDRESS": "1/min"}
    # Time stands still 5 s into a minute, for the server's threads too: the window cannot roll over.
    with time_machine.travel(timezone.now().replace(second=5, microsecond=0), tick=False):
        browser = Browser(live_server.url)
        page = browser.open(LOGIN_PATH)
        assert browser.submit(page, email=person.email, password="not the password").status_code == 401
        answer = browser.submit(page, email=person.email, password=PASSWORD)

    assert answer.status_code == 429
    assert "Trop de tentatives de connexion depuis votre réseau. Patientez un peu, puis réessayez." in answer.text
