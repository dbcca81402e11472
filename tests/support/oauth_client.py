"""What an OAuth client of the people-facing flows does, in plain HTTP, for the tests that check each rule."""

import base64
import hashlib
import secrets
import threading
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import requests

from accounts import totp
from tests.support.browser import Browser

REDIRECT_URI = "https://app.example/callback"
PASSWORD = "correct horse battery"  # factories.make_user's


def post_token(live_server, **body) -> requests.Response:
    """``POST /v2/auth/token`` with a JSON body, as reference/oauth.txt's curl examples send it."""
    return requests.post(f"{live_server.url}/v2/auth/token", json=body, timeout=30)


def password_grant(live_server, client, email, password=PASSWORD, **extra) -> requests.Response:
    return post_token(
        live_server, username=email, password=password, grant_type="password", client_id=client.client_id, **extra
    )


def refresh(live_server, client, refresh_token) -> requests.Response:
    return post_token(live_server, refresh_token=refresh_token, grant_type="refresh_token", client_id=client.client_id)


def me_status(live_server, access_token) -> int:
    """The status of ``GET /api/v1/me`` with ``access_token``: 200 while it lives, 401 once revoked."""
    headers = {"Authorization": f"Bearer {access_token}"}
    return requests.get(f"{live_server.url}/api/v1/me", headers=headers, timeout=30).status_code


def error_of(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_path(client_id, *, code_challenge, state="xyz", lang="en", redirect_uri=REDIRECT_URI, **extra) -> str:
    params = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
        "state": state,
        "lang": lang,
        **extra,
    }
    return "/v2/oauth/authorize?" + urlencode({name: value for name, value in params.items() if value is not None})


def current_code(user) -> str:
    """The one-time code the user's authenticator app shows now."""
    user.refresh_from_db()
    return pyotp.TOTP(totp.decrypt(user.totp_secret)).now()


def sign_in(browser: Browser, path: str, *, email: str, password: str, user=None, approve=True):
    """Go through the login page, the second-factor page when ``user`` has one, and the consent screen.

    Returns the last response: the redirect to the client's ``redirect_uri``.
    """
    page = browser.open(path)
    page = browser.submit(page, email=email, password=password)
    if user is not None and user.has_totp:
        page = browser.submit(page, code=current_code(user))
    answer = {"allow": "on"} if approve else {}
    return browser.submit(page, **answer)


def redirect_params(response) -> dict[str, str]:
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI), location
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def authorization_code(live_server, client, user, *, password=PASSWORD, code_challenge) -> str:
    """A fresh code for ``user`` through the browser flow."""
    response = sign_in(
        Browser(live_server.url),
        authorize_path(client.client_id, code_challenge=code_challenge),
        email=user.email,
        password=password,
        user=user,
    )
    return redirect_params(response)["code"]


def meet_inside(monkeypatch, owner, name: str, *, parties: int = 2) -> None:
    """Hold each call of ``owner.name`` (a server-side step) until ``parties`` calls are inside it, then let them all
    go on: a race test then proves both requests reached the critical section together. A call that waits alone
    for 30 s breaks the barrier, and its request fails."""
    together = threading.Barrier(parties, timeout=30)
    step = getattr(owner, name)

    def held(*args, **kwargs):
        together.wait()
        return step(*args, **kwargs)

    monkeypatch.setattr(owner, name, held)
