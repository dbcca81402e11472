"""``OAuth2TokenService``: access tokens from the OAuth 2.0 client-credentials grant, fetched once and reused.

A token is renewed ``renew_before`` seconds (30) before it expires, on the first call that needs it. When a renewal
fails while the current token is still valid, that token is kept (renewal is tried again ``RETRY_INTERVAL`` seconds
later, or at expiry); once it has expired, the failure is raised. Failures are ``TokenError``: ``retryable`` says
whether asking again later may succeed. A refused ``client_id``/``client_secret`` is ``InvalidClientError``, which is
not retryable: a wrong or revoked secret stays wrong.
"""

import json
import logging
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

logger = logging.getLogger("ubi_client")

RENEW_BEFORE = 30.0
# How long a still-valid token is used after a failed renewal before the next attempt.
RETRY_INTERVAL = 5.0
# Statuses that say "later", not "no": the request itself may be fine.
_TRANSIENT_STATUSES = {408, 425, 429}


class TokenError(Exception):
    """The token endpoint gave no token. ``retryable``: whether the same request may succeed later; ``error`` is
    the OAuth error code of the answer (``"invalid_client"``, ...) and ``status`` its HTTP status, when there was
    one."""

    retryable = True

    def __init__(self, message: str, *, error: str | None = None, status: int | None = None):
        super().__init__(message)
        self.error = error
        self.status = status


class TokenRefusedError(TokenError):
    """The token endpoint refused the request (an OAuth error): the same request gets the same answer."""

    retryable = False


class InvalidClientError(TokenRefusedError):
    """The token endpoint refused the ``client_id``/``client_secret`` (``invalid_client``): unknown or inactive
    client, or a wrong or revoked secret."""


class OAuth2TokenService:
    """Access tokens of one app client, for every request of a process. Thread-safe: callers that need a new token
    at the same time wait for one request to the token endpoint.

    ``ssl_context`` verifies an HTTPS token endpoint (default: the system's trusted roots); ``opener`` replaces the
    ``urllib`` opener altogether; ``clock`` (seconds, monotonic) is a seam for tests.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = None,
        renew_before: float = RENEW_BEFORE,
        timeout: float = 30,
        ssl_context: ssl.SSLContext | None = None,
        opener: urllib.request.OpenerDirector | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not (token_url and client_id and client_secret):
            raise ValueError("token_url, client_id and client_secret are all required")
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        if scope:
            form["scope"] = scope
        self.token_url = token_url
        self.client_id = client_id
        self._form = urllib.parse.urlencode(form).encode()
        self._renew_before = renew_before
        self._timeout = timeout
        self._opener = opener or urllib.request.build_opener(urllib.request.HTTPSHandler(context=ssl_context))
        self._clock = clock
        self._lock = threading.Lock()
        self._access_token: str | None = None
        self._expires_at = 0.0
        self._renew_at = 0.0

    def access_token(self) -> str:
        """A valid access token: the current one, or a new one when it is due for renewal. Raises ``TokenError``."""
        with self._lock:
            now = self._clock()
            if self._access_token is None or now >= self._renew_at:
                self._renew(now)
            return self._access_token

    def _renew(self, now: float) -> None:
        try:
            token, lifetime = self._request_token()
        except TokenError as error:
            if self._access_token is None or now >= self._expires_at:
                self._access_token = None
                raise
            logger.warning("Renewing the access token failed, the current one is kept %.0f s more: %s",
                           self._expires_at - now, error)
            self._renew_at = min(now + RETRY_INTERVAL, self._expires_at)
            return
        self._access_token = token
        self._expires_at = now + lifetime
        self._renew_at = self._expires_at - self._renew_before

    def _request_token(self) -> tuple[str, float]:
        """One client-credentials request: the access token and its lifetime in seconds."""
        request = urllib.request.Request(
            self.token_url, data=self._form, method="POST",
            headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                body = json.load(response)
            return body["access_token"], float(body["expires_in"])
        except urllib.error.HTTPError as answer:
            with answer:
                raise self._refusal(answer.code, answer.read()) from None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise TokenError(f"No token from {self.token_url}: {error!r}") from error

    def _refusal(self, status: int, content: bytes) -> TokenError:
        """The error an unsuccessful answer of the token endpoint stands for."""
        try:
            body = json.loads(content)
        except ValueError:
            body = {}
        error = body.get("error") if isinstance(body, dict) else None
        description = body.get("error_description") if isinstance(body, dict) else None
        said = f"{status} {error or ''}: {description or ''}".strip(" :")
        if error == "invalid_client" or status == 401:
            return InvalidClientError(
                f"The token endpoint refused client_id {self.client_id!r} and its secret ({said})",
                error=error, status=status,
            )
        if error and 400 <= status < 500 and status not in _TRANSIENT_STATUSES:
            return TokenRefusedError(f"The token endpoint refused the request ({said})", error=error, status=status)
        return TokenError(f"The token endpoint answered {said}", error=error, status=status)
