"""What a bearer token proves, and the one function that turns a token into it.

REST (``rest_api.authentication.BearerAuthentication``) and gRPC (``grpc_api.interceptors``) both call
``principal_from_bearer``; services then ask ``require_role``. Verification needs no database query: the JWT's
signature and claims (once per token and process), plus one lookup in the shared cache of the signing keys' and
the revocations' generations (``oauth.keys``, ``oauth.revocation``).
"""

import functools
import time
import uuid
from dataclasses import dataclass

import jwt
from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed

from oauth import keys, revocation
from oauth.keys import ALGORITHM
from oauth.tokens import CLIENT, USER, token_checksum
from project.errors import PermissionDenied, Unauthenticated
from project.rates import Rate, parse_rate

REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "org", "roles", "scope"]
MAX_TOKEN_LENGTH = 4096
# Verified tokens a process remembers (``_verified``): a few per app client and signed-in person.
VERIFIED_TOKENS_REMEMBERED = 4096
_decoder = jwt.PyJWT(options={"require": REQUIRED_CLAIMS})
# What a check reads from the shared cache: whether the signing keys or the revocations changed since last read.
GENERATIONS = [keys.GENERATION_KEY, revocation.GENERATION_KEY]


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # "client", "user", or "key" (a collector's ingest key, collector.keys)
    id: str  # the client_id of a client, the user's id of a user, the row id of an ingest key
    org_id: uuid.UUID
    roles: frozenset[str]
    scope: str
    client_id: str
    token_id: str  # the token's jti
    # The client's or user's own rate limit when it has one (``rate_limit`` claim); else the default applies.
    rate_limit: Rate | None = None
    # The one application whose documents it may track (an ingest key); None: any (insights.services).
    application: str | None = None

    # DRF puts the principal in request.user; these keep its permission classes and throttles working.
    is_authenticated = True
    is_anonymous = False

    @property
    def pk(self):
        return f"{self.kind}:{self.id}"

    def has_role(self, role: str) -> bool:
        return role in self.roles


def principal_from_bearer(token: str) -> Principal:
    """Verify an access token and return its principal. Raises ``Unauthenticated`` for anything but a live token."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise Unauthenticated("Missing or malformed bearer token.")
    principal, expires_at, kid = _verified(token)
    if expires_at <= time.time():  # a remembered token expires like any other
        raise Unauthenticated("The access token has expired.")
    generations = caches["shared"].get_many(GENERATIONS)  # one round trip for both
    if not keys.verifies(kid, generations.get(keys.GENERATION_KEY)):  # a remembered token of a key retired since
        raise Unauthenticated("The token was not signed by a key of this server.")
    if revocation.is_revoked(token_checksum(token), generations.get(revocation.GENERATION_KEY)):
        raise Unauthenticated("The access token has been revoked.")
    return principal


@functools.lru_cache(maxsize=VERIFIED_TOKENS_REMEMBERED)
def _verified(token: str) -> tuple[Principal, float, str]:
    """The principal of a token whose signature and claims verify, when it expires, and its key's ``kid``.

    Checking the ES256 signature is most of the cost of authenticating a call, and a client sends the same token
    for an hour: each process remembers the tokens it verified. Only a token that verified is remembered (errors
    are not cached), keyed by the whole token, so nothing unverified is ever taken from here; expiry, revocation
    and the key's retirement are still checked on every call.
    """
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = keys.verification_keys().get(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthenticated("The token was not signed by a key of this server.")
        claims = _decoder.decode(
            token, key, algorithms=[ALGORITHM], audience=settings.OAUTH_AUDIENCE, issuer=settings.OAUTH_ISSUER
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("The access token has expired.") from None
    except jwt.InvalidTokenError:
        raise Unauthenticated("The access token is invalid.") from None
    return _principal_from_claims(claims), float(claims["exp"]), kid


def _forget_verified(*, setting, **kwargs):
    """Tokens verified against other keys, another issuer or audience are verified again (tests change them)."""
    if setting in {"JWT_PRIVATE_KEY", "JWT_PRIVATE_KEY_FILE", "OAUTH_ISSUER", "OAUTH_AUDIENCE"}:
        _verified.cache_clear()


setting_changed.connect(_forget_verified)


def _principal_from_claims(claims: dict) -> Principal:
    try:
        kind = claims.get("sub_type", CLIENT)
        if kind not in (CLIENT, USER) or not isinstance(claims["roles"], list):
            raise ValueError(kind)
        return Principal(
            kind=kind,
            id=str(claims["sub"]),
            org_id=uuid.UUID(str(claims["org"])),
            roles=frozenset(str(role) for role in claims["roles"]),
            scope=str(claims["scope"]),
            client_id=str(claims["client_id"]),
            token_id=str(claims["jti"]),
            rate_limit=parse_rate(claims["rate_limit"]) if "rate_limit" in claims else None,
        )
    except (TypeError, ValueError):
        raise Unauthenticated("The access token is invalid.") from None


def require_role(principal: Principal, role: str) -> None:
    """Services call this first: 403 / PERMISSION_DENIED for a principal without ``role``."""
    if not principal.has_role(role):
        raise PermissionDenied(f"This operation needs the role {role!r}.")
