"""The token endpoint's errors: RFC 6749 §5.2 bodies with the codes and statuses of reference/oauth.txt.

oauthlib raises its own ``OAuth2Error`` subclasses with its own statuses (``invalid_client`` is 401 there);
``ERROR_STATUS`` is the single table that decides what a client of ours receives.
"""

from oauthlib.oauth2 import FatalClientError, OAuth2Error

ERROR_STATUS = {
    "invalid_client": 400,
    "invalid_redirect_uri": 400,
    "invalid_request": 400,
    "invalid_credentials": 401,
    "too_many_attempts": 429,
    "password_expired": 401,
    "otp_required": 401,
    "invalid_code": 400,
    "pkce_mismatch": 400,
    "invalid_grant": 400,
    "invalid_scope": 400,
    "unauthorized_client": 400,
    "unsupported_grant_type": 400,
    "access_denied": 400,
    "sso_required": 401,
}


class InvalidRequest(OAuth2Error):
    error = "invalid_request"
    status_code = 400


# reference/oauth.txt's own codes. The sign-in rules (oauth/login.py) raise them for the password grant and the
# login page alike; the validator (oauth/validators.py) raises the rest from oauthlib's hooks.


class InvalidClient(FatalClientError):
    """Unknown or inactive ``client_id`` at the authorization endpoint: never redirect to an unchecked URI."""

    error = "invalid_client"
    status_code = 400
    description = "Unknown or inactive client_id."


class InvalidRedirectUri(FatalClientError):
    error = "invalid_redirect_uri"
    status_code = 400
    description = "The redirect_uri is not one of the client's registered redirect URIs."


class InvalidCredentials(OAuth2Error):
    # Same answer for an unknown account, a wrong password and a wrong one-time code: none is guessable.
    error = "invalid_credentials"
    status_code = 401
    description = "Wrong username, password or one-time code."


class TooManyAttempts(OAuth2Error):
    error = "too_many_attempts"
    status_code = 429
    description = "Too many failed sign-in attempts: wait before trying again."

    def __init__(self, retry_after: int, **kwargs):
        self.retry_after = max(1, int(retry_after))
        super().__init__(**kwargs)

    @property
    def headers(self):
        return {**super().headers, "Retry-After": str(self.retry_after)}


class PasswordExpired(OAuth2Error):
    error = "password_expired"
    status_code = 401
    description = "The password must be changed before signing in."


class OtpRequired(OAuth2Error):
    error = "otp_required"
    status_code = 401
    description = "This account has a one-time-code second factor: send the code as x-otp-code."


class InvalidCode(OAuth2Error):
    error = "invalid_code"
    status_code = 400
    description = "The authorization code is invalid, expired or already used."


class PkceMismatch(OAuth2Error):
    error = "pkce_mismatch"
    status_code = 400
    description = "The code_verifier does not match the code_challenge."


class AccessDenied(OAuth2Error):
    """The user may not authorise this client: it belongs to another organisation."""

    error = "access_denied"
    status_code = 400
    description = "This client belongs to another organisation."


class SsoRequired(OAuth2Error):
    """The address belongs to an organisation whose single sign-on is mandatory (reference/oauth.txt, "SSO
    Authentication"): its password is never checked. Not in the reference's table, which predates SSO; 401 like the
    other refusals of a person's credentials."""

    error = "sso_required"
    status_code = 401
    description = (
        "This organisation signs in through its identity provider: use the authorization-code flow. "
        "Only service accounts may use the password grant."
    )
