"""How a gRPC server process learns that it is to stop: SIGTERM or SIGINT, read from a socket.

A Python signal handler runs in the main thread between two bytecodes of whatever that thread is doing, so it must
not take a lock. One that set a ``threading.Event`` deadlocked the server for good when a second SIGTERM (a
supervisor's and ``serve.sh``'s, say) arrived while the first handler's ``set()`` held the event's lock. And the
kernel may give a process's signal to any of its threads, gRPC's own included, while Python runs the handler in the
main thread only: a main thread blocked on a lock is not woken to run it.

``signal.set_wakeup_fd`` has neither problem: the interpreter's C-level handler writes the signal's number to a
socket, from whichever thread took the signal and however many arrive, and the main thread waits on that socket as
on any other file (``multiprocessing.connection.wait``), beside the sentinels of the processes it supervises.
"""

import os
import signal
import socket
from multiprocessing.connection import wait

STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})


def receive_stop_signals() -> int:
    """From now on, SIGTERM and SIGINT do nothing but write their number to a socket: the descriptor returned.

    For the rest of the process: one that is stopping, or has stopped, is not to be killed by a supervisor's next
    SIGTERM. Call it from the main thread (``set_wakeup_fd`` insists).
    """
    receiver, sender = socket.socketpair()
    sender.setblocking(False)  # set_wakeup_fd's condition: a signal handler must never block on a full buffer
    for signum in STOP_SIGNALS:
        signal.signal(signum, _written_to_the_socket)
    # Both ends detached from their socket objects, to stay open as long as the process: a signal may come at any
    # time, and one written to a closed socket is an error printed instead.
    signal.set_wakeup_fd(sender.detach(), warn_on_full_buffer=False)
    return receiver.detach()


def wait_for_stop(receiver: int, *sentinels) -> bool:
    """Block until a stop signal reaches ``receiver`` (True) or one of ``sentinels`` is ready (False).

    The socket also receives the number of any other signal that has a Python handler; those do not stop. Either
    way the process is stopping from then on, and ignores stop signals: a handler would be needless, and the
    interpreter puts back the default one (death by SIGTERM) while it exits, but never over an ignored signal.
    """
    try:
        while True:
            if receiver not in wait([receiver, *sentinels]):
                return False
            if STOP_SIGNALS.intersection(os.read(receiver, 64)):
                return True
    finally:
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)


def _written_to_the_socket(signum, frame) -> None:
    """A Python-level handler, so that the C-level one writes ``signum`` to the wakeup socket; nothing else to do."""
