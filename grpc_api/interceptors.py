"""Server interceptors of ``UserBehaviorInsightsService``: each call's request id, metrics and log line, who is
calling, how its request is read, and errors as statuses.

They wrap the behaviour of the service's method handlers, so their work runs on the worker thread of the call
(``intercept_service`` itself runs on the server's one polling thread). Health and reflection pass untouched: they
answer without a token.
"""

import time
from contextvars import ContextVar

import grpc
from google.protobuf.message import DecodeError

from grpc_api.generated import user_behavior_insights_service_pb2
from grpc_api.status import status_for
from grpc_api.streams import StreamReader, StreamSlots
from insights.validation import check_request_size
from oauth import throttling
from oauth.principals import Principal, principal_from_bearer
from observability import calls, metrics
from observability.logs import log_access
from project.errors import InvalidInput

SERVICE_NAME = user_behavior_insights_service_pb2.DESCRIPTOR.services_by_name["UserBehaviorInsightsService"].full_name
_METHOD_PREFIX = f"/{SERVICE_NAME}/"

REQUEST_ID_KEY = "x-request-id"

_principal: ContextVar[Principal] = ContextVar("principal")


def current_principal() -> Principal:
    """The principal of the call being served, as ``AuthInterceptor`` proved it."""
    return _principal.get()


class _BehaviourInterceptor(grpc.ServerInterceptor):
    """Adapts each of the service's handlers (``adapt``): by default, replaces its behaviour by
    ``self.wrap(behaviour)``.

    The service has unary and client-streaming methods only: both answer one response from ``(request, context)``.
    """

    def wrap(self, behaviour):
        raise NotImplementedError("an interceptor says how it wraps a behaviour")

    def adapt(self, handler):
        kind = _behaviour_kind(handler)
        return handler._replace(**{kind: self.wrap(getattr(handler, kind))})

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or not handler_call_details.method.startswith(_METHOD_PREFIX):
            return handler
        return self.adapt(handler)


def _behaviour_kind(handler) -> str:
    return "stream_unary" if handler.request_streaming else "unary_unary"


class AuthInterceptor(_BehaviourInterceptor):
    """``authorization: Bearer <token>`` through ``principal_from_bearer``; ``Unauthenticated`` otherwise. Then the
    principal's rate limit, as REST's ``PrincipalRateThrottle`` applies it: ``RateLimited`` past it."""

    def wrap(self, behaviour):
        def authenticated(request, context):
            principal = principal_from_bearer(bearer_token(context.invocation_metadata()))
            calls.identify(principal.kind, principal.id)
            throttling.limit_principal(principal)
            reset_token = _principal.set(principal)
            try:
                return behaviour(request, context)
            finally:
                # Worker threads serve call after call: no principal may outlive its call.
                _principal.reset(reset_token)

        return authenticated


class ObservedCalls(grpc.ServerInterceptor):
    """The gRPC side of ``observability``: takes the call's request id from the ``x-request-id`` metadata (or makes
    one), returns it in the initial metadata, then counts the call in ``ubi_grpc_calls_total`` by method and status
    code, with its latency, and writes its access line.

    Outermost, so that it sees the status ``ErrorInterceptor`` answers and times everything else.
    """

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or not handler_call_details.method.startswith(_METHOD_PREFIX):
            return handler
        method = handler_call_details.method.removeprefix(_METHOD_PREFIX)
        kind = _behaviour_kind(handler)
        return handler._replace(**{kind: _observed(method, getattr(handler, kind))})


def _observed(method: str, behaviour):
    def observed(request, context):
        started = time.perf_counter()
        metadata = context.invocation_metadata()
        call = calls.begin(calls.request_id_from(next((v for k, v in metadata or () if k == REQUEST_ID_KEY), None)))
        code = grpc.StatusCode.UNKNOWN
        try:
            context.send_initial_metadata(((REQUEST_ID_KEY, call.request_id),))
            response = behaviour(request, context)
            code = context.code() or grpc.StatusCode.OK
            return response
        except BaseException:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        finally:
            seconds = time.perf_counter() - started
            metrics.observe_grpc(method, code.name, seconds)
            log_access(call, protocol="grpc", method=method, status=code.name, seconds=seconds)
            calls.end(call)

    return observed


class ErrorInterceptor(_BehaviourInterceptor):
    """Every exception becomes the status ``grpc_api.status`` maps it to."""

    def wrap(self, behaviour):
        def answered(request, context):
            try:
                return behaviour(request, context)
            except Exception as exc:
                if not context.is_active():
                    # The caller cancelled or its deadline passed: nobody reads the answer, and it is no fault.
                    context.abort(grpc.StatusCode.CANCELLED, "The call ended before it was answered.")
                context.abort_with_status(status_for(exc))

        return answered


class RequestInterceptor(_BehaviourInterceptor):
    """How a request is read, after authentication (an anonymous caller learns only that it is one): each message
    at most ``MAX_REQUEST_BYTES``, then parsed; a stream through a ``StreamReader`` (its limits and timeouts), while
    its principal holds one of the server's ``StreamSlots``.

    Bytes that are not the method's request message are ``INVALID_ARGUMENT``, as malformed JSON is 400 over REST.
    grpc parses a request before any behaviour runs and answers ``INTERNAL`` when it cannot, a status the error
    table keeps for faults of ours. So grpc hands the raw bytes on (no deserializer), and the behaviour parses them.
    """

    def __init__(self, stream_slots: StreamSlots):
        self._stream_slots = stream_slots

    def adapt(self, handler):
        parse = handler.request_deserializer

        def parsed(data: bytes):
            try:
                return parse(data)
            except DecodeError:
                raise InvalidInput({"": ["The request is not a valid protobuf message of this method."]}) from None

        kind = _behaviour_kind(handler)
        behaviour = getattr(handler, kind)
        if handler.request_streaming:

            def with_parsed(requests, context):
                with self._stream_slots.held(current_principal()):
                    return behaviour(StreamReader(requests, parsed), context)

        else:

            def with_parsed(request, context):
                check_request_size(len(request))
                return behaviour(parsed(request), context)

        return handler._replace(request_deserializer=None, **{kind: with_parsed})


def bearer_token(metadata) -> str:
    """The token of the first ``authorization`` metadata, or ``""`` when there is no bearer token."""
    value = next((value for key, value in metadata or () if key == "authorization"), "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def server_interceptors(*, threads: int) -> tuple[grpc.ServerInterceptor, ...]:
    """The interceptors of a server of ``threads`` worker threads. The first is the outermost: errors from
    authentication and reading are mapped too."""
    return (
        ObservedCalls(),
        ErrorInterceptor(),
        AuthInterceptor(),
        RequestInterceptor(StreamSlots.for_threads(threads)),
    )
