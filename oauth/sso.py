"""Single sign-on at an organisation's own OpenID Connect provider: the relying-party side, done by Authlib.

The login page (or an authorization request with ``login_hint``) calls ``authorize_redirect``: Authlib reads the
provider's discovery document and sends the browser to its authorization endpoint with the authorization-code flow,
PKCE (``S256``), a ``nonce`` and a ``state``, remembered in the session. The provider sends the browser back to
``accounts.sso.callback_url()``; ``complete`` has Authlib check ``state``, exchange the code (with the verifier and
the client secret) and verify the ID token against the provider's JWKS: signature, ``iss`` (the configured issuer),
``aud`` (our client id), ``nonce`` and ``exp``. The verified address then names the account (``accounts.sso``).

This module is the glue only: which provider, what to remember, which account. The protocol is Authlib's.
"""

from dataclasses import dataclass

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
from django.http import HttpResponseRedirect
from joserfc.errors import JoseError

from accounts import sso
from accounts.models import SsoProvider, User

# Authlib keeps its per-request data (state, nonce, code verifier) in the session under this name; ours (which
# provider, where to resume) sits beside it, keyed by the same state.
FRAMEWORK_NAME = "sso"
PENDING_SESSION_KEY = "oauth.sso_pending"
SCOPE = "openid email profile"
MAX_PENDING = 5
# A provider that does not answer within this many seconds fails the sign-in instead of holding a worker.
HTTP_TIMEOUT_SECONDS = 10
# Clock difference tolerated on the ID token's exp and iat.
LEEWAY_SECONDS = 60


class SsoFailed(Exception):
    """The round trip did not end in a verified identity; ``message`` is for the sign-in page, never a secret."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PendingSignIn:
    """A round trip under way: the provider it went to, and where the sign-in resumes once it comes back."""

    provider: SsoProvider
    next_url: str


def discovery_url(provider: SsoProvider) -> str:
    return provider.issuer.rstrip("/") + "/.well-known/openid-configuration"


def oidc_client(provider: SsoProvider) -> DjangoOAuth2App:
    """Authlib's client for ``provider``: discovery, PKCE and ID-token checks are configured here, once."""
    return DjangoOAuth2App(
        DjangoIntegration(FRAMEWORK_NAME),
        name=FRAMEWORK_NAME,
        client_id=provider.client_id,
        client_secret=sso.client_secret(provider),
        server_metadata_url=discovery_url(provider),
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic",
            "default_timeout": HTTP_TIMEOUT_SECONDS,
        },
    )


def authorize_redirect(request, provider: SsoProvider, *, next_url: str, login_hint: str = ""):
    """Send the browser to ``provider``; once it comes back (``complete``), the sign-in resumes at ``next_url``."""
    params = {"login_hint": login_hint} if login_hint else {}
    lang = getattr(request, "LANGUAGE_CODE", "")
    if lang:
        params["ui_locales"] = lang
    client = oidc_client(provider)
    try:
        # authorize_redirect's two steps, so that the state is known here.
        authorization = client.create_authorization_url(sso.callback_url(), **params)
    except (AuthlibBaseError, requests.RequestException, RuntimeError, ValueError, KeyError) as error:
        raise SsoFailed("The identity provider cannot be reached. Try again later.") from error
    client.save_authorize_data(request, redirect_uri=sso.callback_url(), **authorization)
    # A few sign-ins may be under way at once (tabs); abandoned ones are forgotten, oldest first.
    pending = dict(list(request.session.get(PENDING_SESSION_KEY, {}).items())[-(MAX_PENDING - 1):])
    pending[authorization["state"]] = {"provider": provider.pk, "next": next_url}
    request.session[PENDING_SESSION_KEY] = pending
    return HttpResponseRedirect(authorization["url"])


def take_pending(request) -> PendingSignIn | None:
    """The round trip that the callback's ``state`` belongs to, forgotten from the session as it is taken (a state
    works once); ``None`` for a state this browser did not start."""
    pending = request.session.get(PENDING_SESSION_KEY, {})
    entry = pending.pop(request.GET.get("state", ""), None)
    request.session[PENDING_SESSION_KEY] = pending
    if not isinstance(entry, dict):
        return None
    # The organisation comes along: an account the provider provisions is created in it (accounts.sso).
    provider = SsoProvider.objects.filter(pk=entry.get("provider")).select_related("organization").first()
    return PendingSignIn(provider=provider, next_url=entry.get("next", "")) if provider is not None else None


def complete(request, provider: SsoProvider) -> User:
    """The provider's answer at ``accounts.sso.callback_url()``: the account its verified ID token names.

    Raises ``SsoFailed`` for an error from the provider, a state or code that does not match, a failed code
    exchange, and an ID token that is missing, badly signed, for another audience or issuer, with another nonce, or
    expired; raises ``accounts.sso.SsoRefused`` for an identity the organisation does not let in.
    """
    try:
        token = oidc_client(provider).authorize_access_token(
            request, claims_options=_claims_options(provider), leeway=LEEWAY_SECONDS
        )
    except (AuthlibBaseError, JoseError, requests.RequestException, RuntimeError, ValueError, KeyError) as error:
        raise SsoFailed("The identity provider's answer could not be verified. Sign in again.") from error
    claims = token.get("userinfo")
    if not claims:  # Authlib verifies an ID token only when there is one: no ID token, no sign-in
        raise SsoFailed("The identity provider sent no ID token.")
    return user_for_claims(provider, claims)


def user_for_claims(provider: SsoProvider, claims: dict) -> User:
    """The account named by verified claims: their ``email``, unless the provider says it is not verified."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or claims.get("email_verified") is False:
        raise sso.SsoRefused("The identity provider did not give a verified email address.")
    name = claims.get("name")
    return sso.sso_user_for_claims(provider, email=email, full_name=name if isinstance(name, str) else "")


def _claims_options(provider: SsoProvider) -> dict:
    """OpenID Connect Core §3.1.3.7: ``iss`` is exactly the issuer configured (not merely the one the discovery
    document names), and ``aud`` contains our client id. Authlib checks ``aud`` only through ``azp`` otherwise, which
    a token for another client that names us as ``azp`` would pass."""
    return {
        "iss": {"essential": True, "values": [provider.issuer]},
        "aud": {"essential": True, "values": [provider.client_id]},
        "sub": {"essential": True},
        "exp": {"essential": True},
    }

