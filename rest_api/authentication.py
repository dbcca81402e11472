"""DRF authentication by bearer token, through the one token-to-principal function (``oauth.principals``)."""

from rest_framework.authentication import BaseAuthentication, get_authorization_header

from oauth.principals import principal_from_bearer
from project.errors import Unauthenticated


class BearerAuthentication(BaseAuthentication):
    """``Authorization: Bearer <jwt>``. Returns ``(principal, token)``; ``None`` when no bearer header is sent.

    A missing header falls through to the ``IsAuthenticated`` permission, which answers 401 because
    ``authenticate_header`` is set.
    """

    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise Unauthenticated("Malformed Authorization header: expected 'Bearer <token>'.")
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise Unauthenticated("Malformed bearer token.") from None
        return principal_from_bearer(token), token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
