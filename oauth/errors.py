"""The token endpoint's errors: RFC 6749 §5.2 bodies with the codes and statuses of reference/oauth.txt.

oauthlib raises its own ``OAuth2Error`` subclasses with its own statuses (``invalid_client`` is 401 there);
``ERROR_STATUS`` is the single table that decides what a client of ours receives.
"""

from oauthlib.oauth2 import OAuth2Error

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
}


class InvalidRequest(OAuth2Error):
    error = "invalid_request"
    status_code = 400
