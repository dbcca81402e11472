"""oauthlib's server with the grants of SPEC.md "OAuth 2.0" and PKCE as reference/oauth.txt has it.

django-oauth-toolkit builds it from ``OAUTH2_PROVIDER["OAUTH2_SERVER_CLASS"]``. The differences from
``oauthlib.oauth2.Server``: ``S256`` is the only PKCE method and the default when ``code_challenge_method`` is
absent (oauthlib would assume ``plain``); a wrong ``code_verifier`` is ``pkce_mismatch``; a ``redirect_uri`` that is
not even absolute is ``invalid_redirect_uri`` like any other unregistered one; there is no implicit grant and no
device grant. An authorization request with the ``openid`` scope, from a client with an ID-token algorithm, is
OpenID Connect's authorization-code flow: the same grant (so the same PKCE rules), plus an ID token at the token
endpoint (oauthlib's dispatchers choose, django-oauth-toolkit's validator signs it).
"""

from oauthlib.oauth2 import Server as OAuthlibServer
from oauthlib.oauth2.rfc6749 import grant_types
from oauthlib.openid.connect.core.grant_types import AuthorizationCodeGrant as OpenIDGrant
from oauthlib.openid.connect.core.grant_types.dispatchers import (
    AuthorizationCodeGrantDispatcher,
    AuthorizationTokenGrantDispatcher,
)
from oauthlib.oauth2.rfc6749.errors import InvalidRedirectURIError
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256

from oauth.oauth_errors import InvalidRedirectUri, PkceMismatch

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


class OpenIDAuthorizationCodeGrant(OpenIDGrant):
    """oauthlib's OpenID Connect code grant around ours instead of its plain RFC 6749 one."""

    def __init__(self, request_validator=None, **kwargs):
        self.proxy_target = AuthorizationCodeGrant(request_validator=request_validator, **kwargs)
        self.custom_validators.post_auth.append(self.openid_authorization_validator)
        self.register_token_modifier(self.add_id_token)


class Server(OAuthlibServer):
    GRANT_TYPES = ("authorization_code", "password", "client_credentials", "refresh_token")

    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **kwargs)
        self.auth_grant = AuthorizationCodeGrant(request_validator)
        openid_grant = OpenIDAuthorizationCodeGrant(request_validator)
        self._response_types = {
            "code": AuthorizationCodeGrantDispatcher(default_grant=self.auth_grant, oidc_grant=openid_grant)
        }
        code_exchange = AuthorizationTokenGrantDispatcher(
            request_validator, default_grant=self.auth_grant, oidc_grant=openid_grant
        )
        self._grant_types = {
            name: code_exchange if name == "authorization_code" else self._grant_types[name]
            for name in self.GRANT_TYPES
        }
