"""How the server reads requests without letting one caller hold it: byte limits, stream timeouts, stream slots.

A call holds one of a process's few worker threads (``GRPC_THREADS``) while it runs, and a client-streaming call
runs from its first message to its last, at the client's pace. So:

- every message is at most ``MAX_REQUEST_BYTES`` (REST's limit of a body), and a stream's messages together at
  most ``MAX_STREAM_BYTES``, counted before a message is parsed (``PayloadTooLarge``, OUT_OF_RANGE);
- a stream ends when it sends nothing for ``GRPC_STREAM_IDLE_SECONDS`` or is still open
  ``GRPC_STREAM_MAX_SECONDS`` after its start (``StreamTimeout``, DEADLINE_EXCEEDED: the server's deadline for it
  passed; CANCELLED would tell the client that it gave up, which it did not);
- a principal holds at most ``GRPC_MAX_STREAMS_PER_PRINCIPAL`` streams of a process at once, and never all of its
  threads (``StreamSlots``: ``RateLimited``, RESOURCE_EXHAUSTED with RetryInfo).

Counting is per process, as threads are: with N processes a principal may hold N times as many streams in all,
and a process that dies takes its counts with it.
"""

import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from insights.validation import check_request_size
from oauth.principals import Principal
from project.conf import ubi_settings
from project.errors import PayloadTooLarge, RateLimited, TimedOut

# Seconds a principal refused a stream slot is told to wait: slots free as streams end, which nobody can foretell.
STREAM_SLOT_RETRY_SECONDS = 1
_END = object()  # the client closed its side: the stream's last message was read


class StreamTimeout(TimedOut):
    """A stream idled, or ran, past the server's deadline for it. Only a gRPC stream can (REST reads a body whole
    before any code runs)."""

    code = "stream_timeout"
    title = "The stream took longer than this server allows."


class StreamReader:
    """The messages of one client stream, parsed by ``parse``, read within the stream's limits.

    grpc's synchronous server gives no timeout for the next message of a stream: its request iterator blocks until
    one comes or the call ends. So the raw messages are read on a thread of the stream's own into a queue, and the
    call's worker thread waits on the queue with a timeout. The reading thread counts the bytes and stops reading
    past a limit, so the queue never holds more than ``MAX_STREAM_BYTES``; it ends with the call, since grpc ends
    the request iterator of a call once it is answered. It starts with the first message asked for: a call refused
    before it reads (a principal without the role) reads nothing. Only the worker thread parses, so a message
    costs the stream one queue hand-over, and a stream one thread start, beyond what reading it costs anyway.
    """

    def __init__(self, requests: Iterator[bytes], parse: Callable[[bytes], object]):
        self._requests = requests
        self._parse = parse
        self._received: queue.SimpleQueue = queue.SimpleQueue()
        self._deadline: float | None = None  # time.monotonic() when the stream has run too long

    def __iter__(self):
        return self

    def __next__(self):
        if self._deadline is None:
            self._deadline = time.monotonic() + ubi_settings.GRPC_STREAM_MAX_SECONDS
            threading.Thread(target=self._read, name="grpc-stream-reader", daemon=True).start()
        idle = ubi_settings.GRPC_STREAM_IDLE_SECONDS
        left = self._deadline - time.monotonic()
        if left <= 0:  # checked first: a stream that never pauses runs too long all the same
            raise self._ran_too_long()
        try:
            item = self._received.get(timeout=min(idle, left))
        except queue.Empty:
            error = self._ran_too_long() if left <= idle else StreamTimeout(f"The stream sent no message for {idle} seconds.")
            raise error from None
        if item is _END:
            self._received.put(_END)  # and again for any later call, as an exhausted iterator does
            raise StopIteration
        if isinstance(item, BaseException):
            raise item
        return self._parse(item)

    @staticmethod
    def _ran_too_long() -> StreamTimeout:
        return StreamTimeout(f"The stream ran past {ubi_settings.GRPC_STREAM_MAX_SECONDS} seconds.")

    def _read(self) -> None:
        """Queue each raw message, then ``_END``; or the error that ended the reading (a limit passed, the call
        cancelled), after which nothing more is read."""
        limit = ubi_settings.MAX_STREAM_BYTES
        total = 0
        try:
            for data in self._requests:
                check_request_size(len(data))
                total += len(data)
                if total > limit:
                    raise PayloadTooLarge(f"A stream is larger than {limit} bytes.")
                self._received.put(data)
        except BaseException as error:  # handed to the worker thread, which raises it as its own
            self._received.put(error)
        else:
            self._received.put(_END)


class StreamSlots:
    """The streams each principal has open in one server, at most ``limit`` each (None: no limit)."""

    def __init__(self, limit: int | None):
        self.limit = limit
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    @classmethod
    def for_threads(cls, threads: int) -> "StreamSlots":
        """``GRPC_MAX_STREAMS_PER_PRINCIPAL``, but never every one of ``threads`` (at least one stream, though)."""
        limit = ubi_settings.GRPC_MAX_STREAMS_PER_PRINCIPAL
        return cls(None if limit is None else max(1, min(limit, threads - 1)))

    @contextmanager
    def held(self, principal: Principal):
        """One of ``principal``'s slots while the block runs; ``RateLimited`` when it holds all of them."""
        if self.limit is None:
            yield
            return
        key = principal.pk
        with self._lock:
            if self._open[key] >= self.limit:
                raise RateLimited(
                    retry_after=STREAM_SLOT_RETRY_SECONDS,
                    detail=f"At most {self.limit} streams of one caller at once: retry when one has ended.",
                )
            self._open[key] += 1
        try:
            yield
        finally:
            with self._lock:
                self._open[key] -= 1
                if not self._open[key]:
                    del self._open[key]
