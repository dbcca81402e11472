"""Single sign-on at an organisation's own OpenID Connect provider: the relying-party side, done by Authlib.

The login page (or an authorization request with ``login_hint``) calls ``authorize_redirect``: Authlib reads the
provider's discovery document and sends the browser to its authorization endpoint with the authorization-code flow,
PKCE (``S256``), a ``nonce`` and a ``state``, remembered in the session. The provider sends the browser back to
``accounts.sso_providers.callback_url()``; ``complete`` has Authlib check ``state``, exchange the code (with the verifier and
the client secret) and verify the ID token against the provider's JWKS: signature, ``iss`` (the configured issuer),
``aud`` (our client id), ``nonce`` and ``exp``. The claims it lacks of ``email``, ``email_verified`` and ``name`` are
read from the provider's UserInfo endpoint, whose answer must be about the same ``sub``. Its ``sub`` and verified
address then name the account (``accounts.sso_providers``).

The provider's discovery document is read once an hour per provider (``provider_metadata``, in the ``default``
cache), and its endpoints are checked like the issuer (``accounts.sso_network``); every request to the provider
goes through ``GuardedSession``, which checks the address again and follows no redirect.

This module is the glue only: which provider, what to remember, which account. The protocol is Authlib's.
"""

import logging
from dataclasses import dataclass

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
from authlib.integrations.requests_client import OAuth2Session
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from joserfc.errors import JoseError

from accounts import sso_providers
from accounts.models import SsoProvider, User
from accounts.sso_network import check_provider_url
from accounts.sso_providers import SsoRefused

logger = logging.getLogger(__name__)

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
# How long a provider's discovery document is used before it is read again.
METADATA_CACHE_SECONDS = 60 * 60
# The discovery document's URLs the platform or the browser is sent to; each must pass the issuer's checks.
METADATA_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint")
# What Authlib is given of the document: its other members (any name the provider likes) would become Authlib's
# own arguments.
METADATA_KEYS = (
    "issuer", *METADATA_ENDPOINTS, "id_token_signing_alg_values_supported", "code_challenge_methods_supported",
    "token_endpoint_auth_methods_supported",
)
# OpenID Connect Core §5.4: the claims a provider may give at its UserInfo endpoint only, not in the ID token.
USERINFO_CLAIMS = ("email", "email_verified", "name")
# OpenID Connect Core §2: a sub is at most 255 ASCII characters.
MAX_SUBJECT_LENGTH = 255


@dataclass(frozen=True)
class PendingSignIn:
    """A round trip under way: the provider it went to, and where the sign-in resumes once it comes back."""

    provider: SsoProvider
    next_url: str


def discovery_url(provider: SsoProvider) -> str:
    return provider.issuer.rstrip("/") + "/.well-known/openid-configuration"


class ForbiddenAddress(requests.RequestException):
    """A request to the provider that ``accounts.sso_network`` does not allow; it is never sent."""


class GuardedSession(OAuth2Session):
    """Authlib's HTTP client with every request checked first: the discovery document, the JWKS and the code
    exchange go only to addresses the platform may reach, resolved at the time, and redirects are not followed (a
    redirect could lead anywhere)."""

    def request(self, method, url, withhold_token=False, auth=None, **kwargs):
        try:
            check_provider_url(url, name="The identity provider's URL", must_resolve=True)
        except ValidationError as error:
            raise ForbiddenAddress(error.messages[0]) from error
        kwargs["allow_redirects"] = False
        return super().request(method, url, withhold_token=withhold_token, auth=auth, **kwargs)


class SsoApp(DjangoOAuth2App):
    client_cls = GuardedSession


def provider_metadata(provider: SsoProvider) -> dict:
    """The provider's discovery document, read at most once per ``METADATA_CACHE_SECONDS``. Keyed by the provider's
    last change, so a new issuer is read at once. Raises ``requests.RequestException`` or ``ValueError``."""
    key = f"oauth.sso.metadata:{provider.pk}:{provider.updated.timestamp()}"
    metadata = cache.get(key)
    if metadata is None:
        metadata = _fetch_metadata(provider)
        cache.set(key, metadata, METADATA_CACHE_SECONDS)
    return metadata


def _fetch_metadata(provider: SsoProvider) -> dict:
    """OpenID Connect Discovery 1.0 §4: the document at the issuer, for that issuer exactly (§4.3), with endpoints
    that pass the issuer's checks."""
    with GuardedSession(default_timeout=HTTP_TIMEOUT_SECONDS) as session:
        response = session.get(discovery_url(provider), withhold_token=True)
    response.raise_for_status()
    document = response.json()
    if not isinstance(document, dict) or document.get("issuer") != provider.issuer:
        raise ValueError("The discovery document is not the configured issuer's.")
    for name in METADATA_ENDPOINTS:
        if name in document:
            _check_endpoint(document[name], name=name)
    return {key: document[key] for key in METADATA_KEYS if key in document}


def _check_endpoint(url, *, name: str) -> None:
    if not isinstance(url, str):
        raise ValueError(f"The discovery document's {name} is not a URL.")
    try:
        check_provider_url(url, name=f"The discovery document's {name}", must_resolve=False)
    except ValidationError as error:
        raise ForbiddenAddress(error.messages[0]) from error


def oidc_client(provider: SsoProvider) -> DjangoOAuth2App:
    """Authlib's client for ``provider``: its discovery document, PKCE and ID-token checks are configured here,
    once. Raises ``requests.RequestException`` or ``ValueError`` when the discovery document cannot be had."""
    return SsoApp(
        DjangoIntegration(FRAMEWORK_NAME),
        name=FRAMEWORK_NAME,
        client_id=provider.client_id,
        client_secret=sso_providers.client_secret(provider),
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic",
            "default_timeout": HTTP_TIMEOUT_SECONDS,
        },
        **provider_metadata(provider),
    )


def authorize_redirect(request, provider: SsoProvider, *, next_url: str, login_hint: str = ""):
    """Send the browser to ``provider``; once it comes back (``complete``), the sign-in resumes at ``next_url``.
    Raises ``SsoRefused`` when the provider cannot be reached."""
    params = {"login_hint": login_hint} if login_hint else {}
    lang = getattr(request, "LANGUAGE_CODE", "")
    if lang:
        params["ui_locales"] = lang
    try:
        client = oidc_client(provider)
        # authorize_redirect's two steps, so that the state is known here.
        authorization = client.create_authorization_url(sso_providers.callback_url(), **params)
    except (AuthlibBaseError, requests.RequestException, RuntimeError, ValueError, KeyError) as error:
        # The reason is for the operators (an address refused by accounts.sso_network, say), not for the page.
        logger.warning("Single sign-on at %s cannot start: %s", provider.issuer, error)
        raise SsoRefused("The identity provider cannot be reached. Try again later.") from error
    client.save_authorize_data(request, redirect_uri=sso_providers.callback_url(), **authorization)
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
    # The organisation comes along: an account the provider provisions is created in it (accounts.sso_providers).
    provider = SsoProvider.objects.filter(pk=entry.get("provider")).select_related("organization").first()
    return PendingSignIn(provider=provider, next_url=entry.get("next", "")) if provider is not None else None


def complete(request, provider: SsoProvider) -> User:
    """The provider's answer at ``accounts.sso_providers.callback_url()``: the account its verified ID token names.

    Raises ``SsoRefused`` for an error from the provider, a state or code that does not match, a failed code
    exchange, an ID token that is missing, badly signed, for another audience or issuer, with another nonce, or
    expired, a UserInfo answer that cannot be read or is about someone else, and for an identity the organisation
    does not let in.
    """
    try:
        client = oidc_client(provider)
        token = client.authorize_access_token(
            request, claims_options=_claims_options(provider), leeway=LEEWAY_SECONDS
        )
        id_token_claims = token.get("userinfo")
        if not id_token_claims:  # Authlib verifies an ID token only when there is one: no ID token, no sign-in
            raise SsoRefused("The identity provider sent no ID token.")
        claims = _with_userinfo(client, token, id_token_claims)
    except (AuthlibBaseError, JoseError, requests.RequestException, RuntimeError, ValueError, KeyError) as error:
        raise SsoRefused("The identity provider's answer could not be verified. Sign in again.") from error
    return user_for_claims(provider, claims)


def _with_userinfo(client: DjangoOAuth2App, token: dict, id_token_claims: dict) -> dict:
    """The ID token's claims, completed with those of ``USERINFO_CLAIMS`` it lacks from the provider's UserInfo
    endpoint (OpenID Connect Core §5.3), when its discovery document names one: §5.4 lets a provider give them
    there only. A claim the ID token has is taken from it. The request goes through ``GuardedSession`` like every
    other, to the endpoint ``_fetch_metadata`` checked.

    Raises ``SsoRefused`` when the answer is about another ``sub`` than the ID token's (§5.3.4), and
    ``requests.RequestException`` or ``ValueError`` when it cannot be had or read.
    """
    missing = [name for name in USERINFO_CLAIMS if name not in id_token_claims]
    if not missing or "userinfo_endpoint" not in client.load_server_metadata():
        return dict(id_token_claims)
    userinfo = client.userinfo(token=token)
    if userinfo.get("sub") != id_token_claims.get("sub"):
        raise SsoRefused("The identity provider's UserInfo answer is about someone else. Sign in again.")
    return {**{name: userinfo[name] for name in missing if name in userinfo}, **id_token_claims}


def user_for_claims(provider: SsoProvider, claims: dict) -> User:
    """The account named by verified claims: their ``sub``, and their ``email`` when the provider vouches for it.

    ``email_verified`` must be JSON ``true``; a provider configured not to require it (one that never sends it) may
    leave it out, but never say anything else. Raises ``SsoRefused``.
    """
    email, subject = claims.get("email"), claims.get("sub")
    if not isinstance(email, str) or "@" not in email or not _email_verified(provider, claims):
        raise SsoRefused("The identity provider did not give a verified email address.")
    if not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT_LENGTH:
        raise SsoRefused("The identity provider did not say who this is.")
    name = claims.get("name")
    return sso_providers.sso_user_for_claims(
        provider, subject=subject, email=email, full_name=name if isinstance(name, str) else ""
    )


def _email_verified(provider: SsoProvider, claims: dict) -> bool:
    if "email_verified" not in claims:
        return not provider.require_email_verified
    return claims["email_verified"] is True


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

