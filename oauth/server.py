"""oauthlib's server with the grants of SPEC.md "OAuth 2.0" and PKCE as reference/oauth.txt has it.

django-oauth-toolkit builds it from ``OAUTH2_PROVIDER["OAUTH2_SERVER_CLASS"]``. The differences from
``oauthlib.oauth2.Server``: ``S256`` is the only PKCE method and the default when ``code_challenge_method`` is
absent (oauthlib would assume ``plain``); a wrong ``code_verifier`` is ``pkce_mismatch``; a ``redirect_uri`` that is
not even absolute is ``invalid_redirect_uri`` like any other unregistered one; there is no implicit grant and no
device grant.
"""

from oauthlib.oauth2 import Server as OAuthlibServer
from oauthlib.oauth2.rfc6749 import grant_types
from oauthlib.oauth2.rfc6749.errors import InvalidRedirectURIError
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256

from oauth.errors import InvalidRedirectUri, PkceMismatch

S256 = "S256"


class AuthorizationCodeGrant(grant_types.AuthorizationCodeGrant):
    _code_challenge_methods = {S256: code_challenge_method_s256}

    def validate_authorization_request(self, request):
        if request.code_challenge is not None and request.code_challenge_method is None:
            request.code_challenge_method = S256
        try:
            return super().validate_authorization_request(request)
        except InvalidRedirectURIError:
            raise InvalidRedirectUri() from None

    def validate_code_challenge(self, challenge, challenge_method, verifier):
        if not super().validate_code_challenge(challenge, challenge_method, verifier):
            raise PkceMismatch()
        return True


class Server(OAuthlibServer):
    GRANT_TYPES = ("authorization_code", "password", "client_credentials", "refresh_token")

    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **kwargs)
        self.auth_grant = AuthorizationCodeGrant(request_validator)
        self._response_types = {"code": self.auth_grant}
        self._grant_types = {
            name: self.auth_grant if name == "authorization_code" else self._grant_types[name]
            for name in self.GRANT_TYPES
        }
