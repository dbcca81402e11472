"""Access tokens by their ``jti``, for ``DELETE /v2/auth/token/<token_id>``.

A token as a whole is some 700 characters, awkward in a path; its ``jti`` claim is 36. Each access token's ``jti`` is
recorded beside its row when it is issued (``AccessTokenId``), so the row is found by one primary-key lookup.

Whoever presents a token may revoke it (RFC 7009), but a ``jti`` is no secret: it is in the token, which anyone it
was shown to can read, and in logs. So revoking by ``jti`` needs the token's owner: the request authenticates with a
bearer token of the same principal (the same user for a user's token, the same client for a client's), or as the
token's client by its secret (HTTP Basic, RFC 6749 §2.3.1). Any other request is answered as for an unknown token,
and changes nothing.
"""

import base64
import binascii
import uuid
from urllib.parse import unquote_plus

import jwt
from django.contrib.auth.hashers import check_password

from accounts import audit
from accounts.models import AppClient
from oauth import revocation
from oauth.models import AccessTokenId
from oauth.principals import principal_from_bearer
from oauth.tokens import USER
from project.errors import Unauthenticated


def remember(access_token_row, access_token: str) -> None:
    """Record the ``jti`` of ``access_token`` (just signed here) beside its row."""
    claims = jwt.decode(access_token, options={"verify_signature": False})
    AccessTokenId.objects.create(jti=claims["jti"], access_token=access_token_row)


def revoke_by_id(token_id: str, *, authorization: str) -> None:
    """End the token ``token_id`` names: an access or refresh token, or the ``jti`` of an access token whose owner
    the ``authorization`` header authenticates. Anything else is ignored (RFC 7009 §2.2)."""
    jti = _as_jti(token_id)
    if jti is None:
        revocation.revoke_token(token_id)
        return
    row = AccessTokenId.objects.select_related("access_token__application").filter(jti=jti).first()
    if row is not None and _authenticates_owner(authorization, row.access_token):
        with audit.acting(audit.owner_of(row.access_token)):
            revocation.revoke_access(row.access_token)


def _as_jti(token_id: str) -> uuid.UUID | None:
    """A ``jti`` as this server writes them (a UUID's canonical text); never the form of an access or refresh
    token."""
    try:
        jti = uuid.UUID(token_id)
    except ValueError:
        return None
    return jti if str(jti) == token_id.lower() else None


def _authenticates_owner(authorization: str, access_token) -> bool:
    scheme, _, credentials = authorization.partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if scheme == "bearer":
        return _bearer_is_owner(credentials, access_token)
    if scheme == "basic":
        return _client_is_owner(credentials, access_token.application)
    return False


def _bearer_is_owner(bearer: str, access_token) -> bool:
    try:
        principal = principal_from_bearer(bearer)
    except Unauthenticated:
        return False
    if principal.kind == USER:
        return access_token.user_id is not None and principal.id == str(access_token.user_id)
    return access_token.user_id is None and principal.id == access_token.application.client_id


def _client_is_owner(credentials: str, client: AppClient) -> bool:
    """HTTP Basic with the client's id and secret, each form-urlencoded (RFC 6749 §2.3.1)."""
    try:
        client_id, secret = map(unquote_plus, base64.b64decode(credentials, validate=True).decode().split(":", 1))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    return (
        client.client_type == AppClient.CLIENT_CONFIDENTIAL
        and client_id == client.client_id
        and check_password(secret, client.client_secret)
    )
