"""The project's error hierarchy: services raise these, and each protocol maps them once.

``rest_api/problems.py`` turns them into RFC 9457 problem details for REST (its ``HTTP_STATUSES`` table);
``grpc_api/status.py`` turns them into gRPC statuses (its ``CODES`` table). Each class carries what both need: a
stable ``code``, which both protocols emit (the problem's ``code`` member, ``google.rpc.ErrorInfo.reason``), and a
human ``title``. A subclass is answered as its nearest ancestor in each table.
``as_domain_error`` is where both protocols first look, so the few errors of others that mean something to the
caller (the database out of reach) are answered alike; it sends ``dependency_unreachable`` for each such error
(``observability.metrics`` counts them).
"""

import logging

import redis
from django import db
from django.dispatch import Signal

from project.conf import ubi_settings

logger = logging.getLogger(__name__)

# Sent with ``dependency="database"`` or ``"redis"`` each time one out of reach is answered as ``Unavailable``.
dependency_unreachable = Signal()


class DomainError(Exception):
    code = "error"
    title = "The request could not be processed."
    # Seconds after which the caller may try again, when that is known: both protocols then say so.
    retry_after: int | None = None

    def __init__(self, detail: str | None = None, *, retry_after: int | None = None):
        self.detail = detail or self.title
        if retry_after is not None:
            self.retry_after = max(1, int(retry_after))
        super().__init__(self.detail)


class InvalidInput(DomainError):
    """Validation failed. ``errors`` maps an input name (``""`` for the whole request) to its messages."""

    code = "invalid_input"
    title = "One or more validation errors occurred."

    def __init__(self, errors: dict[str, list[str]], detail: str | None = None):
        self.errors = errors
        super().__init__(detail)


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    title = "The request is larger than this server accepts."


class Unauthenticated(DomainError):
    code = "unauthenticated"
    title = "Your request does not have valid authentication credentials for the operation."


class PermissionDenied(DomainError):
    code = "permission_denied"
    title = "Your request is not authorized to perform the operation."


class NotFound(DomainError):
    code = "not_found"
    title = "Not Found."


class Conflict(DomainError):
    code = "conflict"
    title = "Your request conflicted with another operation."


class RateLimited(DomainError):
    code = "rate_limited"
    title = "You're making too many requests at once. Slow down!"

    def __init__(self, retry_after: int, detail: str | None = None):
        super().__init__(detail, retry_after=retry_after)


class TimedOut(DomainError):
    """The caller took longer than the server allows (a gRPC stream idle or running past its deadline)."""

    code = "timed_out"
    title = "The request took longer than this server allows."


class Unavailable(DomainError):
    """Maintenance, or the database or Redis out of reach."""

    code = "unavailable"
    title = "We're temporarily offline for maintenance. Please try again later."


# What the servers depend on, by the errors its client raises when it is out of reach: its name in metrics, and in
# words.
_UNREACHABLE = (
    ((db.OperationalError, db.InterfaceError), "database", "The database"),
    ((redis.ConnectionError, redis.TimeoutError), "redis", "The shared cache"),
)


def as_domain_error(exc: BaseException | None) -> DomainError | None:
    """``exc`` as the error both protocols answer, or ``None`` for a fault of ours (500 / ``INTERNAL``).

    A database out of reach is no fault of the request's: ``Unavailable``, which tells the caller to come back.
    Django reconnects at the next request (``CONN_HEALTH_CHECKS``), so the service recovers by itself. Redis out of
    reach is answered alike: a bearer check cannot tell a revoked token without it, and redis-py connects again at
    the next command.
    """
    if isinstance(exc, DomainError):
        return exc
    for types, dependency, name in _UNREACHABLE:
        if isinstance(exc, types):
            logger.warning("%s cannot be reached: %s", name, exc)
            dependency_unreachable.send(sender=None, dependency=dependency)
            return Unavailable(
                f"{name} cannot be reached. Please try again later.",
                retry_after=ubi_settings.DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS,
            )
    return None
