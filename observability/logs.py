"""Log records as one JSON object a line (``LOG_FORMAT=json``), or as text (``LOG_FORMAT=text``), each with the
request id of the call it belongs to (``observability.calls``).

A line has ``timestamp`` (ISO 8601, UTC, milliseconds), ``level``, ``logger``, ``message``, ``pid``, and, inside a
call, ``request_id``; the one line of each HTTP request and gRPC call (logger ``observability.access``) adds
``protocol``, ``method``, ``route``, ``status``, ``duration_ms`` and, when authenticated, ``principal_kind`` and
``principal_id``. An exception's traceback is ``exception``. Nothing else of the request is written: no header, no
body, no query string, so no token, secret or password can reach the logs through these lines.
"""

import io
import logging
import os
import time

import orjson

from observability import calls

ACCESS_LOGGER = "observability.access"
# The fields an access line carries besides the standard ones (``extra=`` of its record), in their order.
ACCESS_FIELDS = ("protocol", "method", "route", "status", "duration_ms", "principal_kind", "principal_id")

_access = logging.getLogger(ACCESS_LOGGER)


def log_access(call: calls.Call, *, protocol: str, method: str, status, seconds: float, route: str | None = None):
    """The access line of a finished HTTP request (``route``: its URL pattern) or gRPC call (``method``: the RPC).

    The record is made and handled directly rather than through ``Logger.info``, which would walk the stack for the
    caller's file and line, a cost on every request that says nothing here (it is always this function).
    """
    if not _access.isEnabledFor(logging.INFO):
        return
    message = f"{method} {route} {status}" if route else f"{method} {status}"
    fields = {
        "request_id": call.request_id,
        "protocol": protocol,
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "principal_kind": call.principal_kind,
        "principal_id": call.principal_id,
    }
    _access.handle(_access.makeRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, message, None, None, extra=fields))


class LineHandler(logging.StreamHandler):
    """Writes each record as one line, by one ``write`` system call on the stream's file descriptor, holding no lock.

    ``StreamHandler`` writes under its lock, held through the system call; the call gives up the GIL, and while the
    writing thread waits to take it back, every other thread of the process that logs waits for the lock: with the
    access line of every request, the threads of a gunicorn worker queued there (docs/performance.md, "The cost of
    metrics and logs"). A whole line in one call needs no lock: the kernel keeps a line of up to 4096 bytes whole in
    a pipe, and a file's writes apart under its position lock. A longer line (a traceback) may meet another's in a
    pipe, as the lines of a deployment's several processes always could. A stream without a file descriptor (a test's
    capture) is written as ``StreamHandler`` writes it.
    """

    def createLock(self):
        self.lock = None

    def emit(self, record):
        try:
            line = self.format(record) + self.terminator
            try:
                descriptor = self.stream.fileno()
            except (AttributeError, io.UnsupportedOperation):
                self.stream.write(line)
                self.stream.flush()
                return
            data = line.encode("utf-8", "backslashreplace")
            while data:
                data = data[os.write(descriptor, data):]
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


class CallFilter(logging.Filter):
    """Gives each record the ``request_id`` of the call being served (``"-"`` outside one), for both formats."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            call = calls.current()
            record.request_id = call.request_id if call is not None else "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line (orjson: the line of every request is written on the request's thread)."""

    def format(self, record):
        entry = {
            "timestamp": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        request_id = getattr(record, "request_id", "-")
        if request_id != "-":
            entry["request_id"] = request_id
        for name in ACCESS_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


# The second of the last record and its text: records come many a second, and formatting a date is most of a
# timestamp's cost. One tuple, replaced whole, so threads never see half of it.
_last_second = (0, "1970-01-01T00:00:00")


def _timestamp(created: float) -> str:
    global _last_second
    second = int(created)
    if _last_second[0] != second:
        _last_second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{_last_second[1]}.{int((created - second) * 1000):03d}Z"

