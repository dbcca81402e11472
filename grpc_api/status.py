"""The project's errors as gRPC statuses: the gRPC twin of ``rest_api/problems.py``.

``status_for(exc)`` is the one mapping (SPEC, "Errors: one table, two protocols"): ``CODES``, the twin of
``rest_api.problems.HTTP_STATUSES``. Field errors travel as ``google.rpc.BadRequest`` field violations keyed exactly
like the REST ``errors`` object; a rate limit or an unavailable service carries ``google.rpc.RetryInfo`` and
``retry-after`` trailing metadata. Every error status ends its details with a ``google.rpc.ErrorInfo`` whose
``reason`` is the error's ``code`` (the problem details' ``code`` member) in the domain ``"ubi"``. Anything that is not a
``DomainError`` (nor, through ``errors.as_domain_error``, a database out of reach) is a fault of ours: logged,
and answered ``INTERNAL`` with the reference's words and nothing of the exception.
"""

import logging

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from project import errors

logger = logging.getLogger(__name__)

CODES = {
    errors.InvalidInput: code_pb2.INVALID_ARGUMENT,
    # gRPC's own RESOURCE_EXHAUSTED means "slow down" in this API (reference, Errors): more bytes or events than a
    # message or a stream may carry is outside the valid range instead, which no retry fixes.
    errors.PayloadTooLarge: code_pb2.OUT_OF_RANGE,
    errors.TimedOut: code_pb2.DEADLINE_EXCEEDED,
    errors.Unauthenticated: code_pb2.UNAUTHENTICATED,
    errors.PermissionDenied: code_pb2.PERMISSION_DENIED,
    errors.NotFound: code_pb2.NOT_FOUND,
    errors.Conflict: code_pb2.ALREADY_EXISTS,
    errors.RateLimited: code_pb2.RESOURCE_EXHAUSTED,
    errors.Unavailable: code_pb2.UNAVAILABLE,
}
INTERNAL_MESSAGE = "We've got some problem with our service. Please try again later."
ERROR_DOMAIN = "ubi"


def status_for(exc: Exception) -> grpc.Status:
    """The status to answer ``exc`` with."""
    domain_error = errors.as_domain_error(exc)
    code = next((CODES[cls] for cls in type(domain_error).__mro__ if cls in CODES), None)
    if code is None:
        logger.error("Unhandled exception in a gRPC call", exc_info=exc)
        return rpc_status.to_status(status_pb2.Status(code=code_pb2.INTERNAL, message=INTERNAL_MESSAGE))
    status = rpc_status.to_status(
        status_pb2.Status(code=code, message=domain_error.detail, details=_details(domain_error))
    )
    if domain_error.retry_after:
        # RetryInfo is for clients that read rich details; the plain header is for those that read metadata.
        status = status._replace(
            trailing_metadata=(*status.trailing_metadata, ("retry-after", str(domain_error.retry_after)))
        )
    return status


def _details(exc: errors.DomainError) -> list[any_pb2.Any]:
    details = []
    if isinstance(exc, errors.InvalidInput):
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=field, description=message)
                    for field, messages in exc.errors.items()
                    for message in messages
                ]
            )
        )
    elif exc.retry_after:
        details.append(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=exc.retry_after)))
    details.append(error_details_pb2.ErrorInfo(reason=exc.code, domain=ERROR_DOMAIN))
    return [_packed(detail) for detail in details]


def _packed(detail) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(detail)
    return packed
