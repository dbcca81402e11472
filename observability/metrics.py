"""The Prometheus metrics of every server process, and their exposition.

Each is counted in one place: HTTP requests by the middleware (``observability.middleware``), gRPC calls by
``grpc_api.interceptors.ObservedCalls``, events and queries by ``insights.services`` (whatever the protocol), tokens
by ``oauth.validators``, rate-limit refusals by ``oauth.throttling``, and the database or Redis out of reach where
``project.errors.as_domain_error`` answers it (the ``dependency_unreachable`` signal).

Every label value comes from a closed set (a URL pattern, a method name, a status, a grant type, a limit's scope):
never a token, a principal or a raw path, so the number of series stays bounded whatever the callers send.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``scripts/serve.sh`` sets it), prometheus-client keeps each process's values
in files of that directory, and ``exposition`` sums every process's, gunicorn workers and gRPC processes alike: a
scrape of any worker shows the whole deployment. Without it (tests, ``runserver``) the values are the process's own.
"""

import functools

from django.conf import settings
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess

from project.errors import dependency_unreachable

__all__ = ["CONTENT_TYPE_LATEST", "exposition", "forget_process"]

# From a millisecond (a single event's request) to half a minute (a long stream, an export page).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# Any other method is counted as "other": the method is the caller's to write.
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The route of a request no URL pattern matched (an unknown path, a static file).
UNMATCHED_ROUTE = "unmatched"

HTTP_REQUESTS = Counter(
    "ubi_http_requests", "HTTP requests answered, by URL pattern and status.", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "ubi_http_request_duration_seconds",
    "Time from a request's arrival at Django to its response, by URL pattern.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
GRPC_CALLS = Counter("ubi_grpc_calls", "gRPC calls answered, by method and status code.", ["method", "code"])
GRPC_DURATION = Histogram(
    "ubi_grpc_call_duration_seconds", "Time to answer a gRPC call, by method.", ["method"], buckets=LATENCY_BUCKETS
)
EVENTS_TRACKED = Counter("ubi_events_tracked", "UBI events accepted (REST, gRPC and commands together).")
QUERIES_TRACKED = Counter("ubi_queries_tracked", "UBI queries accepted (REST, gRPC and commands together).")
TOKENS_ISSUED = Counter("ubi_tokens_issued", "Access tokens issued, by grant type.", ["grant_type"])
RATE_LIMITED = Counter("ubi_rate_limited", "Requests refused by a rate limit, by the limit's scope.", ["scope"])
DEPENDENCY_ERRORS = Counter(
    "ubi_dependency_errors", "Requests answered unavailable because a dependency was out of reach.", ["dependency"]
)


def observe_http(method: str, route: str, status: int, seconds: float) -> None:
    requests, duration = _http_series(method if method in HTTP_METHODS else "other", route, status)
    requests.inc()
    duration.observe(seconds)


def observe_grpc(method: str, code: str, seconds: float) -> None:
    calls, duration = _grpc_series(method, code)
    calls.inc()
    duration.observe(seconds)


# The series of each set of label values, looked up once: ``labels()`` takes a lock and checks its arguments at
# every call, a cost paid on every request. As many entries as label values, which are bounded (above).
@functools.cache
def _http_series(method: str, route: str, status: int):
    return HTTP_REQUESTS.labels(method, route, str(status)), HTTP_DURATION.labels(method, route)


@functools.cache
def _grpc_series(method: str, code: str):
    return GRPC_CALLS.labels(method, code), GRPC_DURATION.labels(method)


def exposition() -> bytes:
    """The metrics in Prometheus's text format: every process's of the deployment in multiprocess mode."""
    if not settings.PROMETHEUS_MULTIPROC_DIR:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    return generate_latest(registry)


def forget_process(pid: int) -> None:
    """A server process has exited (gunicorn's ``child_exit``, ``grpc_api.server.serve_processes``): its live
    values leave the directory; its counts stay, since counters never go down."""
    if settings.PROMETHEUS_MULTIPROC_DIR:
        multiprocess.mark_process_dead(pid, settings.PROMETHEUS_MULTIPROC_DIR)


def _count_unreachable(sender, *, dependency, **kwargs):
    DEPENDENCY_ERRORS.labels(dependency).inc()


dependency_unreachable.connect(_count_unreachable)
