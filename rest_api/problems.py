"""RFC 9457 problem details: the one shape of every error under ``/api/``.

``HTTP_STATUSES`` is the HTTP status of each class of the error hierarchy (``project.errors``), the twin of
``grpc_api.status.CODES``; a class not in it is answered as its nearest ancestor that is. Every body carries
``instance``, the path of the request that failed (RFC 9457 §3.1.5), the extension member ``code``: the
``DomainError.code`` of the error, or of the class the status stands for, and the extension member ``requestId``:
the request's id (``observability.calls``), also in its ``X-Request-ID`` header and its log line.

``exception_handler`` is DRF's ``EXCEPTION_HANDLER``; ``handler400``/``403``/``404``/``500`` are Django's error
views for everything DRF does not see (unknown URLs, crashes). Both go through ``problem_response``.
"""

import logging
import sys

import orjson
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from rest_framework import exceptions as drf_exceptions

from observability import calls
from project import errors

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"

# (type, title) per status, in the words of reference/rest-api.txt.
STATUS_TYPES = {
    400: ("https://tools.ietf.org/html/rfc7231#section-6.5.1", "Bad Request."),
    401: ("https://tools.ietf.org/html/rfc7235#section-3.1", "Unauthorized."),
    403: ("https://tools.ietf.org/html/rfc7231#section-6.5.3", "Forbidden."),
    404: ("https://tools.ietf.org/html/rfc7231#section-6.5.4", "Not Found."),
    405: ("https://tools.ietf.org/html/rfc7231#section-6.5.5", "Method Not Allowed."),
    406: ("https://tools.ietf.org/html/rfc7231#section-6.5.6", "Not Acceptable."),
    408: ("https://tools.ietf.org/html/rfc7231#section-6.5.7", "Request Timeout."),
    409: ("https://tools.ietf.org/html/rfc7231#section-6.5.8", "Conflict."),
    413: ("https://tools.ietf.org/html/rfc7231#section-6.5.11", "Payload Too Large."),
    415: ("https://tools.ietf.org/html/rfc7231#section-6.5.13", "Unsupported Media Type."),
    429: ("https://tools.ietf.org/html/rfc6585#section-4", "Too Many Requests."),
    500: ("https://tools.ietf.org/html/rfc7231#section-6.6.1", "Internal Server Error."),
    503: ("https://tools.ietf.org/html/rfc7231#section-6.6.4", "Service Unavailable."),
    504: ("https://tools.ietf.org/html/rfc7231#section-6.6.5", "Gateway Timeout."),
}
VALIDATION_TITLE = "One or more validation errors occurred."

HTTP_STATUSES = {
    errors.InvalidInput: 400,
    errors.Unauthenticated: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
    errors.TimedOut: 504,
    errors.DomainError: 500,
}
# The code of an error that is not a DomainError (DRF's, Django's), by its status: the code of the class answered
# with that status, else DRF's own code (``default_code``: "method_not_allowed", "unsupported_media_type", ...).
STATUS_CODES = {status: cls.code for cls, status in HTTP_STATUSES.items()}


def http_status(exc: errors.DomainError) -> int:
    """The status ``exc`` is answered with: its class's, or its nearest ancestor's, in ``HTTP_STATUSES``."""
    return next(HTTP_STATUSES[cls] for cls in type(exc).__mro__ if cls in HTTP_STATUSES)


def problem_response(
    request, status, *, code=None, title=None, detail=None, errors=None, headers=None, extensions=None
) -> HttpResponse:
    """The problem details of ``status`` for ``request``; ``instance`` is its path. ``extensions``: more members
    (RFC 9457 §3.2), after the standard ones."""
    type_, default_title = STATUS_TYPES.get(status, ("about:blank", "Error."))
    body = {"type": type_, "title": title or default_title, "status": status}
    if detail and detail != body["title"]:
        body["detail"] = detail
    body["instance"] = request.path
    body["code"] = code or STATUS_CODES.get(status, "error")
    if (call := calls.current()) is not None:
        body["requestId"] = call.request_id
    if errors is not None:
        body["errors"] = errors
    body.update(extensions or {})
    response = HttpResponse(orjson.dumps(body), status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def flatten_errors(detail, prefix="") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"[3].action_name": [...]}``; ``non_field_errors`` become ``""``."""
    if isinstance(detail, dict):
        flat = {}
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "") else str(key)
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            flat.update(flatten_errors(value, path))
        return flat
    if isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        flat = {}
        for index, item in enumerate(detail):
            flat.update(flatten_errors(item, f"{prefix}[{index}]"))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix: [str(message) for message in messages]} if messages else {}


def domain_error_response(request, exc: errors.DomainError) -> HttpResponse:
    headers = {}
    if isinstance(exc, errors.Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    if exc.retry_after:
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, errors.InvalidInput):
        return problem_response(
            request, http_status(exc), code=exc.code, title=exc.title, errors=exc.errors, headers=headers
        )
    return problem_response(request, http_status(exc), code=exc.code, detail=exc.detail, headers=headers)


def exception_handler(exc, context):
    """DRF ``EXCEPTION_HANDLER``. Returns ``None`` for the unknown, which Django then answers as a 500."""
    request = context["request"]
    if (domain_error := errors.as_domain_error(exc)) is not None:
        return domain_error_response(request, domain_error)
    if isinstance(exc, Http404):
        return problem_response(request, 404)
    if isinstance(exc, DjangoPermissionDenied):
        return problem_response(request, 403)
    if isinstance(exc, drf_exceptions.ValidationError):
        return problem_response(request, 400, title=VALIDATION_TITLE, errors=flatten_errors(exc.detail))
    if isinstance(exc, drf_exceptions.APIException):
        headers = {}
        if isinstance(exc, (drf_exceptions.NotAuthenticated, drf_exceptions.AuthenticationFailed)):
            exc.status_code = 401
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
        detail = exc.detail if isinstance(exc.detail, str) else None
        if isinstance(exc, drf_exceptions.ParseError):
            return problem_response(request, 400, title=VALIDATION_TITLE, errors={"": [str(exc.detail)]})
        code = STATUS_CODES.get(exc.status_code, exc.default_code)
        return problem_response(request, exc.status_code, code=code, detail=detail, headers=headers)
    return None


# Django's own error views, wired in project/urls.py. The signatures are Django's.
def handler400(request, exception=None):
    return problem_response(request, 400)


def handler403(request, exception=None):
    return problem_response(request, 403)


def handler404(request, exception=None):
    return problem_response(request, 404)


def handler500(request):
    # Django calls it while handling the exception: one that means something to the caller (the database out of
    # reach, in a middleware or a view outside DRF) is answered as such, not as our fault.
    if (domain_error := errors.as_domain_error(sys.exception())) is not None:
        return domain_error_response(request, domain_error)
    return problem_response(request, 500)
