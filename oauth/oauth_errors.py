"""The token endpoint's errors: RFC 6749 §5.2 bodies with the codes and statuses of reference/oauth.txt.

oauthlib raises its own ``OAuth2Error`` subclasses with its own statuses (``invalid_client`` is 401 there), and
many without a description; ``ERRORS`` is the single table that decides what a client of ours receives: each code
the endpoints emit, its status, and the ``error_description`` it carries when the error gives none.
docs/oauth.md lists the same table (tests/test_docs.py checks it).
"""

from typing import NamedTuple

from oauthlib.oauth2 import FatalClientError, OAuth2Error

from project.errors import RateLimited


class ErrorCode(NamedTuple):
    status: int
    description: str


ERRORS = {
    # reference/oauth.txt's table.
    "invalid_client": ErrorCode(400, "Unknown or inactive client_id, or a wrong client secret."),
    "invalid_redirect_uri": ErrorCode(400, "The redirect_uri is not one of the client's registered redirect URIs."),
    "invalid_request": ErrorCode(400, "A required parameter is missing or malformed."),
    "invalid_credentials": ErrorCode(401, "Wrong username, password or one-time code."),
    "too_many_attempts": ErrorCode(429, "Too many failed sign-in attempts: wait before trying again."),
    "password_expired": ErrorCode(401, "The password must be changed before signing in."),
    "otp_required": ErrorCode(401, "This account has a one-time-code second factor: send the code as x-otp-code."),
    "invalid_code": ErrorCode(400, "The authorization code is invalid, expired or already used."),
    "pkce_mismatch": ErrorCode(400, "The code_verifier does not match the code_challenge."),
    # RFC 6749 §5.2 and §4.1.2.1, RFC 8707 §2, and ours, which the reference's table does not name.
    "invalid_grant": ErrorCode(400, "The refresh token is unknown, expired, spent or revoked."),
    "invalid_scope": ErrorCode(400, "The scope asks for a role the client or the user does not have."),
    "invalid_target": ErrorCode(400, "The resource is not a valid resource indicator."),
    "unauthorized_client": ErrorCode(400, "This client may not use this grant type."),
    "unsupported_grant_type": ErrorCode(400, "Unsupported grant_type."),
    "unsupported_response_type": ErrorCode(400, "The only response_type is code."),
    "access_denied": ErrorCode(400, "This client belongs to another organisation."),
    "sso_required": ErrorCode(
        401,
        "This organisation signs in through its identity provider: use the authorization-code flow. "
        "Only service accounts may use the password grant.",
    ),
    "rate_limited": ErrorCode(429, "Too many token requests: wait before trying again."),
}


def error_body(error: str | None, description: str | None) -> dict:
    """An RFC 6749 §5.2 body that always carries an ``error_description``."""
    known = ERRORS.get(error)
    return {
        "error": error or "invalid_request",
        "error_description": description or (known.description if known else "The request was refused."),
    }


class _Listed:
    """An error of ours takes its status and default description from ``ERRORS``."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "error" in cls.__dict__:
            cls.status_code, cls.description = ERRORS[cls.error]


class InvalidRequest(_Listed, OAuth2Error):
    error = "invalid_request"


# reference/oauth.txt's own codes. The sign-in rules (oauth/login.py) raise them for the password grant and the
# login page alike; the validator (oauth/validators.py) raises the rest from oauthlib's hooks.


class InvalidClient(_Listed, FatalClientError):
    """Unknown or inactive ``client_id`` at the authorization endpoint: never redirect to an unchecked URI."""

    error = "invalid_client"


class InvalidRedirectUri(_Listed, FatalClientError):
    error = "invalid_redirect_uri"


class InvalidCredentials(_Listed, OAuth2Error):
    """Same answer for an unknown account, a wrong password and a wrong one-time code: none is guessable."""

    error = "invalid_credentials"


class _RetryLater(_Listed, OAuth2Error):
    """A refusal that ends on its own: ``Retry-After`` says in how many seconds."""

    def __init__(self, retry_after: int, **kwargs):
        self.retry_after = max(1, int(retry_after))
        super().__init__(**kwargs)

    @property
    def headers(self):
        return {**super().headers, "Retry-After": str(self.retry_after)}


class TooManyAttempts(_RetryLater):
    """The failed-sign-in lockout of one account (``oauth.lockout``)."""

    error = "too_many_attempts"


class TokenRateLimited(_RetryLater):
    """The token endpoint's own rate limits (``oauth.throttling``): a code apart from the lockout's, since waiting
    out a rate is not a failed sign-in, and the code of a rate-limited REST or gRPC call."""

    error = RateLimited.code


class PasswordExpired(_Listed, OAuth2Error):
    error = "password_expired"


class OtpRequired(_Listed, OAuth2Error):
    error = "otp_required"


class InvalidCode(_Listed, OAuth2Error):
    error = "invalid_code"


class PkceMismatch(_Listed, OAuth2Error):
    error = "pkce_mismatch"


class AccessDenied(_Listed, OAuth2Error):
    """The user may not authorise this client: it belongs to another organisation."""

    error = "access_denied"


class SsoRequired(_Listed, OAuth2Error):
    """The address belongs to an organisation whose single sign-on is mandatory (reference/oauth.txt, "SSO
    Authentication"): its password is never checked. Not in the reference's table, which predates SSO; 401 like the
    other refusals of a person's credentials."""

    error = "sso_required"
