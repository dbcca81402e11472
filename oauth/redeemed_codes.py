"""Which token family each redeemed authorization code started, so that a second use can revoke it.

RFC 6749 §4.1.2: a code used twice is refused and the tokens issued for it SHOULD be revoked, since one of the two
users is not the client. django-oauth-toolkit deletes a code's grant when it is redeemed; this remembers, in the
``shared`` cache under a digest of the code, the refresh-token family the exchange started, for as long as a family
without a refresh can live. Revoking the family (``RefreshToken.revoke_family``) deletes its access tokens, which
puts them on the revocation list (``oauth.revocation``).
"""

import hashlib
import uuid

from django.core.cache import caches
from oauth2_provider.settings import oauth2_settings

KEY_PREFIX = "redeemed-code:"


def _key(code: str) -> str:
    return KEY_PREFIX + hashlib.sha256(code.encode()).hexdigest()


def remember(code: str, *, token_family: uuid.UUID) -> None:
    caches["shared"].set(_key(code), str(token_family), timeout=oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS)


def token_family(code: str) -> uuid.UUID | None:
    """The family the first redemption of ``code`` started, or ``None`` for a code never redeemed."""
    family = caches["shared"].get(_key(code))
    return uuid.UUID(family) if family else None
