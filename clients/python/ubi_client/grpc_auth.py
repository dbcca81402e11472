"""gRPC call credentials from an ``OAuth2TokenService``, the twin of the platform documents' C#
``OAuth2CallCredentials``::

    tokens = OAuth2TokenService("https://ubi.example.com/oauth2/token", client_id, client_secret)
    with connect("ubi.example.com:443", tokens) as channel:  # tls=False for a plaintext server on localhost
        stub = UserBehaviorInsightsServiceStub(channel)
        stub.TrackQuery(TrackQueryRequest(query=Query(user_query="toner")))

A refused ``client_id``/``client_secret`` fails the call ``UNAUTHENTICATED``, with the token endpoint's reason; an
unreachable token endpoint fails it ``UNAVAILABLE`` (try again later).
"""

import grpc

from ubi_client.tokens import OAuth2TokenService, TokenRefusedError


class OAuth2CallCredentials(grpc.AuthMetadataPlugin):
    """Adds ``authorization: Bearer <token>`` to every call.

    gRPC fails a call ``UNAVAILABLE`` whenever a plugin reports an error, which is right for a token endpoint out of
    reach but wrong for a refusal. A refused request is sent without a token instead, so the server answers
    ``UNAUTHENTICATED``; ``connect``'s channels go further and fail such a call before it leaves, with the reason.
    """

    def __init__(self, tokens: OAuth2TokenService):
        self.tokens = tokens

    def __call__(self, context, callback):
        try:
            token = self.tokens.access_token()
        except TokenRefusedError:
            callback((), None)
            return
        except Exception as error:
            callback((), error)
            return
        callback((("authorization", f"Bearer {token}"),), None)


class CredentialsRefused(grpc.RpcError):
    """A call failed ``UNAUTHENTICATED`` on this side: the token endpoint refused the credentials."""

    def __init__(self, refusal: TokenRefusedError):
        super().__init__(str(refusal))
        self.refusal = refusal

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAUTHENTICATED

    def details(self) -> str:
        return str(self.refusal)

    def initial_metadata(self) -> tuple:
        return ()

    def trailing_metadata(self) -> tuple:
        return ()


class RefusedCredentialsInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Fails a call ``CredentialsRefused`` before it is sent when the token endpoint refuses the credentials.
    Other failures to get a token are left to the call credentials."""

    def __init__(self, tokens: OAuth2TokenService):
        self.tokens = tokens

    def _call(self, continuation, client_call_details, request_or_iterator):
        try:
            self.tokens.access_token()
        except TokenRefusedError as refusal:
            raise CredentialsRefused(refusal) from refusal
        except Exception:  # noqa: S110 - reported by the call credentials, as UNAVAILABLE
            pass
        return continuation(client_call_details, request_or_iterator)

    intercept_unary_unary = intercept_unary_stream = _call
    intercept_stream_unary = intercept_stream_stream = _call


def connect(
    target: str, tokens: OAuth2TokenService, *, tls: bool = True, root_certificates: bytes | None = None
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
    channel = grpc.secure_channel(target, grpc.composite_channel_credentials(transport, call_credentials))
    return grpc.intercept_channel(channel, RefusedCredentialsInterceptor(tokens))
