"""The call being served, HTTP request or gRPC call: its request id and who makes it, for its log records and its
problem details.

``begin`` at the call's start (the HTTP middleware, gRPC's outermost interceptor), ``end`` at its end: worker
threads serve call after call, and nothing of one may outlive it. The request id is the caller's
(``X-Request-ID`` / ``x-request-id``) when it is a sane value, else a new one (``request_id_from``).
"""

import re
import secrets
from contextvars import ContextVar, Token
from dataclasses import dataclass

# Bounded and of safe characters: it is echoed in a header and written in every log line of the call.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@dataclass(slots=True)
class Call:
    request_id: str
    principal_kind: str | None = None
    principal_id: str | None = None
    _token: Token | None = None


_current: ContextVar[Call | None] = ContextVar("observed_call", default=None)


def request_id_from(given: str | None) -> str:
    """``given`` when it is 1 to 128 letters, digits or ``._:-``; else a new one: 32 random hex digits."""
    if given and _SANE_REQUEST_ID.fullmatch(given):
        return given
    return secrets.token_hex(16)


def begin(request_id: str) -> Call:
    call = Call(request_id)
    call._token = _current.set(call)
    return call


def end(call: Call) -> None:
    _current.reset(call._token)


def current() -> Call | None:
    """The call being served in this context, ``None`` outside one (a command, a start-up)."""
    return _current.get()


def identify(kind: str, principal_id: str) -> None:
    """Record who makes the current call (a principal's ``kind`` and ``id``), once authenticated."""
    call = _current.get()
    if call is not None:
        call.principal_kind, call.principal_id = kind, principal_id
