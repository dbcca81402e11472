"""Refresh-token rotation, with a grace period for a client that retried or raced.

Each refresh answers a new pair and spends the refresh token it used. The access token issued before stays valid
until it expires: a refresh signs nobody out (another worker of the client may still be using that token).

A spent refresh token presented again is a retry (the answer was lost on the way, or two workers of one client
refreshed at once) or a theft. Within ``REFRESH_TOKEN_REUSE_GRACE_SECONDS`` of its rotation, from the same client,
and while the refresh token that rotation issued (its successor) is neither used nor revoked, it is taken for a
retry: it gets the rotation's answer again, the same access and refresh tokens, so every worker converges on one
pair. Otherwise it is taken for a theft and the whole family is revoked (``oauth.validators``).

Only digests of tokens are stored, so answering the same pair needs the answer kept: encrypted
(``accounts.encryption``, a key derived from ``SECRET_KEY``, so a database dump alone yields nothing) in
``RotatedRefreshToken``, until the grace period ends. The next rotation after that deletes it (once it commits, in a
statement of its own), and so does the rotation of its successor, after which its reuse is a theft.

Two refreshes with one token both pass validation and meet at the claim, an ``UPDATE`` of the token's row where it is
still live: one spends it; the other's ``UPDATE`` waits for that row lock, finds the row spent once the first
commits, and reads the answer the first committed (PostgreSQL's READ COMMITTED reads each statement's rows afresh).
"""

import json
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from oauth2_provider.models import get_refresh_token_model
from oauthlib.oauth2.rfc6749.errors import InvalidGrantError

from accounts.encryption import decrypt, encrypt
from oauth.models import RotatedRefreshToken
from project.conf import ubi_settings

PURPOSE = "refresh-token-rotation"


def claim(refresh_token) -> dict | None:
    """Spend ``refresh_token``, in the transaction that saves the new pair. ``None`` when this request spent it;
    the answer a concurrent rotation committed when that one did; ``InvalidGrantError`` when it is spent and no
    answer is kept."""
    now = timezone.now()
    spent = get_refresh_token_model().objects.filter(pk=refresh_token.pk, revoked__isnull=True)
    if spent.update(revoked=now, updated=now):
        transaction.on_commit(lambda: _forget(refresh_token, now=now), robust=True)
        return None
    answer = kept_answer(refresh_token)
    if answer is None:
        raise InvalidGrantError(description="The refresh token has already been used.")
    return answer


def keep(refresh_token, *, successor, answer: dict) -> None:
    """Keep ``answer``, what the rotation of ``refresh_token`` gave, for the grace period."""
    grace = ubi_settings.REFRESH_TOKEN_REUSE_GRACE_SECONDS
    if grace > 0:
        RotatedRefreshToken.objects.create(
            refresh_token=refresh_token,
            successor=successor,
            answer=encrypt(json.dumps(answer), purpose=PURPOSE),
            expires=timezone.now() + timedelta(seconds=grace),
        )


def kept_answer(refresh_token) -> dict | None:
    """What the rotation of ``refresh_token`` answered, while its grace period lasts and its successor lives."""
    stored = (
        RotatedRefreshToken.objects.filter(
            refresh_token=refresh_token, expires__gt=timezone.now(), successor__revoked__isnull=True
        )
        .values_list("answer", flat=True)
        .first()
    )
    clear = decrypt(stored, purpose=PURPOSE) if stored else None
    return json.loads(clear) if clear else None


def _forget(refresh_token, *, now) -> None:
    """Once a rotation commits: the answers past their grace period, and the one whose successor it spent."""
    RotatedRefreshToken.objects.filter(Q(expires__lte=now) | Q(successor=refresh_token)).delete()
