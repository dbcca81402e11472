"""Client credentials for the User Behavior Insights platform, the Python twin of the platform documents' C#
``OAuth2TokenService``, ``OAuth2Handler`` (HTTP) and ``OAuth2CallCredentials`` (gRPC).

``OAuth2TokenService`` is the core and needs only the standard library; the adapters need their extra:
``ubi_client.requests_auth.OAuth2Handler`` (``[requests]``), ``ubi_client.httpx_auth.OAuth2Auth`` (``[httpx]``),
``ubi_client.grpc_auth.OAuth2CallCredentials`` and ``connect`` (``[grpc]``).
"""

from ubi_client.tokens import InvalidClientError, OAuth2TokenService, TokenError, TokenRefusedError

__all__ = ["InvalidClientError", "OAuth2TokenService", "TokenError", "TokenRefusedError"]
