"""Access tokens are signed JWTs that carry everything a server needs to authorise a call without a query.

``signed_access_token`` is django-oauth-toolkit's ``ACCESS_TOKEN_GENERATOR``: oauthlib calls it with the token
request once the client (and, for people, the user) is authenticated and the scopes are settled.
"""

import hashlib
import time
import uuid

import jwt
from django.conf import settings

from oauth.keys import ALGORITHM, signing_key
from oauth.scopes import roles_of

CLIENT = "client"
USER = "user"


def token_checksum(token: str) -> str:
    """The digest django-oauth-toolkit keeps instead of the token (``token_checksum``); also the revocation key."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def access_token_claims(*, client, user, scopes: list[str], expires_in: int) -> dict:
    now = int(time.time())
    org = user.organization_id if user is not None else client.organization_id
    # The principal's own rate limit rides in the token, so that checking it needs no query; without one, the
    # default of the moment applies (oauth/throttling.py). A changed limit applies to the tokens issued after it.
    rate_limit = (user if user is not None else client).rate_limit
    return {
        "iss": settings.OAUTH_ISSUER,
        "sub": str(user.pk) if user is not None else client.client_id,
        "sub_type": USER if user is not None else CLIENT,
        "aud": settings.OAUTH_AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + expires_in,
        "jti": str(uuid.uuid4()),
        "client_id": client.client_id,
        "org": str(org),
        # Scopes are roles here: the granted scope is the caller's roles, narrowed by the request's `scope`.
        "roles": roles_of(scopes),
        "scope": " ".join(sorted(scopes)),
        **({"rate_limit": rate_limit} if rate_limit else {}),
    }


def sign(claims: dict) -> str:
    key = signing_key()
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})


def signed_access_token(request) -> str:
    """oauthlib token generator: ``request`` is the oauthlib request of a grant that has been validated."""
    user = request.user if getattr(request.user, "pk", None) else None
    claims = access_token_claims(
        client=request.client, user=user, scopes=request.scopes or [], expires_in=request.expires_in
    )
    return sign(claims)
