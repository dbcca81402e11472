"""How a gRPC server process takes SIGTERM and SIGINT (``grpc_api/shutdown.py``), in this process's main thread."""

import os
import signal
import socket
import threading

import pytest

from grpc_api.shutdown import STOP_SIGNALS, receive_stop_signals, wait_for_stop
from tests.support.threads import ThreadWithOutcome


@pytest.fixture
def stop_receiver():
    """``receive_stop_signals()`` for one test; the test runner's own handlers are back afterwards."""
    handlers = {signum: signal.getsignal(signum) for signum in (*STOP_SIGNALS, signal.SIGUSR1)}
    receiver = receive_stop_signals()
    yield receiver
    os.close(signal.set_wakeup_fd(-1))
    for signum, handler in handlers.items():
        signal.signal(signum, handler)
    os.close(receiver)


@pytest.fixture
def watchdog():
    """A sentinel that becomes ready after 10 s, so that a test which would block for good fails instead."""
    reader, writer = socket.socketpair()
    timer = threading.Timer(10, writer.send, args=(b"!",))
    timer.start()
    yield reader
    timer.cancel()
    reader.close()
    writer.close()


@pytest.mark.parametrize("signum", sorted(STOP_SIGNALS))
def test_a_stop_signal_wakes_the_waiting_main_thread_and_later_ones_are_ignored(stop_receiver, watchdog, signum):
    signal.raise_signal(signum)
    assert wait_for_stop(stop_receiver, watchdog) is True
    assert {signal.getsignal(stop) for stop in STOP_SIGNALS} == {signal.SIG_IGN}
    signal.raise_signal(signum)  # would end the test run if it were not ignored


def test_a_stop_signal_taken_by_another_thread_still_wakes_the_main_thread(stop_receiver, watchdog):
    # The kernel may give a process's signal to any thread; a handler that set an Event ran only in the main thread,
    # which then slept on.
    def signal_this_thread():
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    other = ThreadWithOutcome(signal_this_thread)
    other.start()
    other.outcome()
    assert wait_for_stop(stop_receiver, watchdog) is True


def test_signals_arriving_in_a_burst_leave_one_stop_to_read(stop_receiver, watchdog):
    for _ in range(1000):
        signal.raise_signal(signal.SIGTERM)
    assert wait_for_stop(stop_receiver, watchdog) is True


def test_another_signal_with_a_python_handler_is_not_a_stop(stop_receiver):
    handled = []
    signal.signal(signal.SIGUSR1, lambda signum, frame: handled.append(signum))
    reader, writer = socket.socketpair()
    with reader, writer:
        signal.raise_signal(signal.SIGUSR1)
        writer.send(b"!")
        assert wait_for_stop(stop_receiver, reader) is False
    assert handled == [signal.SIGUSR1]


def test_a_ready_sentinel_ends_the_wait_without_a_signal(stop_receiver):
    reader, writer = socket.socketpair()
    with reader, writer:
        writer.send(b"!")
        assert wait_for_stop(stop_receiver, reader) is False
    assert {signal.getsignal(stop) for stop in STOP_SIGNALS} == {signal.SIG_IGN}
