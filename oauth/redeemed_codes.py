"""Which token family each redeemed authorization code started, so that a second use can revoke it.

RFC 6749 §4.1.2: a code used twice is refused and the tokens issued for it SHOULD be revoked, since one of the two
users is not the client. django-oauth-toolkit deletes a code's grant when it is redeemed; this remembers, in the
``RedeemedCode`` table under a digest of the code, the refresh-token family the exchange started, for as long as a
family without a refresh can live: a cache could forget it while the family still lives. Revoking the family
(``RefreshToken.revoke_family``) deletes its access tokens, which puts them on the revocation list
(``oauth.revocation``). Rows of codes whose families have expired are deleted at each exchange.
"""

import hashlib
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from oauth2_provider.settings import oauth2_settings

from oauth.models import RedeemedCode


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def remember(code: str, *, token_family: uuid.UUID) -> None:
    """Called in the transaction that redeems ``code``: the memory commits with the exchange, or not at all."""
    expires = timezone.now() + timedelta(seconds=oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS)
    RedeemedCode.objects.create(digest=_digest(code), token_family=token_family, expires=expires)
    transaction.on_commit(_forget_expired)


def token_family(code: str) -> uuid.UUID | None:
    """The family the first redemption of ``code`` started, or ``None`` for a code never redeemed."""
    return (
        RedeemedCode.objects.filter(digest=_digest(code), expires__gt=timezone.now())
        .values_list("token_family", flat=True)
        .first()
    )


def _forget_expired() -> None:
    RedeemedCode.objects.filter(expires__lte=timezone.now()).delete()
