"""Threads whose outcome reaches the test: an assertion or an error inside one fails the test that started it.

pytest only warns about an exception raised in a thread other than the test's own (and ``pytest.ini`` makes that
warning an error), and a value a thread returns is lost: here each thread keeps its return value or the exception
it ended with, and ``outcome()`` gives it back, raised, in the thread that asks.
"""

import threading
from collections.abc import Callable


class ThreadWithOutcome(threading.Thread):
    """``function(*args)`` in a daemon thread; ``outcome()`` joins it and returns its value or raises its exception."""

    def __init__(self, function: Callable, *args):
        super().__init__(daemon=True, name=getattr(function, "__name__", "thread"))
        self._function, self._args = function, args
        self._value = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            self._value = self._function(*self._args)
        except BaseException as error:  # noqa: BLE001 (raised again by outcome(), in the test's thread)
            self._error = error

    def outcome(self, timeout: float = 60):
        self.join(timeout)
        if self.is_alive():
            raise AssertionError(f"the thread {self.name} was still running after {timeout} s")
        if self._error is not None:
            raise self._error
        return self._value


def run_together(*calls: Callable, timeout: float = 60) -> list:
    """Each of ``calls`` (no arguments) in its own thread, all started before any is joined; their return values in
    order, or the first exception one of them raised, once every thread has ended."""
    threads = [ThreadWithOutcome(call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return [thread.outcome(0) for thread in threads]
