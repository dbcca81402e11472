"""The HTTP side of ``observability``: each request's id, its metrics and its log line."""

import time

from django.utils.functional import SimpleLazyObject, empty

from observability import calls, metrics
from observability.logs import log_access


class ObservabilityMiddleware:
    """Takes the request id from ``X-Request-ID`` (or makes one) for the request's log records and problem
    details, returns it in ``X-Request-ID``, then counts the request in ``ubi_http_requests_total`` and its
    latency by URL pattern, and writes its access line.

    Near the top of ``MIDDLEWARE``: it times, and sees the response of, everything after it, errors included
    (Django has made those responses before they reach it).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        call = calls.begin(calls.request_id_from(request.META.get("HTTP_X_REQUEST_ID")))
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = call.request_id
            seconds = time.perf_counter() - started
            match = request.resolver_match
            route = match.route if match is not None else metrics.UNMATCHED_ROUTE
            metrics.observe_http(request.method, route, response.status_code, seconds)
            call.principal_kind, call.principal_id = _principal(request)
            log_access(call, protocol="http", method=request.method, route=route, status=response.status_code,
                       seconds=seconds)
            return response
        finally:
            calls.end(call)


def _principal(request) -> tuple[str | None, str | None]:
    """Who made the request, as far as it was looked at: the API's principal (DRF's ``request.user``), or the
    person of a session that the request's view read. A session nobody read is not loaded for the log."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        user = None if user._wrapped is empty else user._wrapped
    if user is None or not user.is_authenticated:
        return None, None
    kind = getattr(user, "kind", None)
    if kind is not None:
        return kind, user.id
    return "user", str(user.pk)
