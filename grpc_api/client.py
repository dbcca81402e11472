"""A Python client of the gRPC API whose calls fetch and refresh their own bearer token.

The Python twin of the reference's C# ``OAuth2TokenService`` and ``OAuth2CallCredentials``::

    tokens = ClientCredentialsTokens("https://ubi.example.com/oauth2/token", client_id, client_secret)
    with connect("ubi.example.com:50051", tokens) as channel:  # tls=False for a plaintext server on localhost
        stub = UserBehaviorInsightsServiceStub(channel)
        stub.TrackQuery(TrackQueryRequest(query=Query(user_query="toner")))

It needs only ``grpcio``, ``requests`` and the generated code in ``grpc_api/generated``; nothing of Django.
"""

import threading
import time
from collections.abc import Callable

import grpc
import requests


class ClientCredentialsTokens:
    """Access tokens from the OAuth 2.0 client-credentials grant, fetched on first use and reused.

    A token is fetched again once it is within ``refresh_margin`` seconds of expiring, so a call never leaves with
    a token about to die. Thread-safe: concurrent calls share one fetch. ``clock`` is a seam for tests.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = None,
        refresh_margin: float = 30,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._token_url = token_url
        self._form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        if scope:
            self._form["scope"] = scope
        self._refresh_margin = refresh_margin
        self._session = session or requests.Session()
        self._clock = clock
        self._lock = threading.Lock()
        self._access_token: str | None = None
        self._refresh_at = 0.0

    def access_token(self) -> str:
        """A live access token. Raises ``requests.HTTPError`` when the token endpoint refuses the credentials."""
        with self._lock:
            if self._access_token is None or self._clock() >= self._refresh_at:
                self._fetch()
            return self._access_token

    def _fetch(self) -> None:
        asked_at = self._clock()
        response = self._session.post(self._token_url, data=self._form, timeout=30)
        response.raise_for_status()
        body = response.json()
        self._access_token = body["access_token"]
        self._refresh_at = asked_at + float(body["expires_in"]) - self._refresh_margin


class OAuth2CallCredentials(grpc.AuthMetadataPlugin):
    """Call credentials that add ``authorization: Bearer <token>`` to every call, from ``tokens``."""

    def __init__(self, tokens: ClientCredentialsTokens):
        self._tokens = tokens

    def __call__(self, context, callback):
        try:
            token = self._tokens.access_token()
        except Exception as error:  # the call then fails UNAVAILABLE with this error's text
            callback((), error)
            return
        callback((("authorization", f"Bearer {token}"),), None)


def connect(
    target: str, tokens: ClientCredentialsTokens, *, tls: bool = True, root_certificates: bytes | None = None
) -> grpc.Channel:
    """A channel to ``target`` whose calls carry a token from ``tokens``.

    TLS by default; ``root_certificates`` (PEM) replaces the system's trusted roots, e.g. for a self-signed
    certificate. ``tls=False`` reaches a plaintext server on this machine (``localhost:50051``): gRPC sends call
    credentials without TLS over local connections only.
    """
    call_credentials = grpc.metadata_call_credentials(OAuth2CallCredentials(tokens), name="oauth2-client-credentials")
    if tls:
        transport = grpc.ssl_channel_credentials(root_certificates=root_certificates)
    else:
        transport = grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
    return grpc.secure_channel(target, grpc.composite_channel_credentials(transport, call_credentials))
