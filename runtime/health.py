"""Is this server process ready for work: the checks behind HTTP's ``/readyz`` and gRPC's health service.

Ready means the database answers, every cache answers, no migration is left to apply, and the process is not
draining. A server process starts draining when it is told to stop (SIGTERM): from then on it finishes the calls it
has but says it is not ready, so that whatever routes calls to it (a load balancer, Kubernetes) sends no more.

The migration check loads every migration module, so it runs until it passes once and then never again in this
process: migrations are applied before a new version serves, and a process never sees them undone.
"""

import logging
import signal
import threading

from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

logger = logging.getLogger(__name__)

DATABASE, CACHE, MIGRATIONS, DRAINING = "database", "cache", "migrations", "draining"
CHECKS = (DATABASE, CACHE, MIGRATIONS, DRAINING)
# Read by the cache check; never written, so a missing key is the one answer a healthy cache gives.
CACHE_PROBE_KEY = "readiness-probe"

_migrations_applied = False
# A plain attribute, set from a signal handler: a handler must take no lock (grpc_api/shutdown.py says why).
_draining = False


def start_draining() -> None:
    """From now on this process is not ready: it is stopping."""
    global _draining
    _draining = True


def is_draining() -> bool:
    return _draining


def drain_on(signum: int) -> None:
    """Make ``signum`` start draining, then do what its current handler did (gunicorn's worker: stop gracefully).

    For a process that already handles ``signum``; call it from the main thread, after that handler is installed.
    The signal keeps not interrupting system calls, as gunicorn sets it for SIGTERM.
    """
    previous = signal.getsignal(signum)

    def draining_then_previous(number, frame):
        start_draining()
        if callable(previous):
            previous(number, frame)

    signal.signal(signum, draining_then_previous)
    signal.siginterrupt(signum, False)


def failing_checks() -> dict[str, str]:
    """Each check that fails, with why (an error's class name, or what is wrong), in ``CHECKS`` order; empty when
    the process is ready. Costs a database round trip and one per cache (plus the migration graph until it has passed
    once)."""
    failures = {}
    for name, check in ((DATABASE, _database), (CACHE, _caches), (MIGRATIONS, _migrations), (DRAINING, _not_draining)):
        if name == MIGRATIONS and DATABASE in failures:
            continue  # it would only fail again, for the same reason
        try:
            problem = check()
        except Exception as error:  # noqa: BLE001 (any failure of a check is an answer, not a crash)
            # The answer names the error's class only: a probe is public, and the message says where the
            # database or the cache lives. The log says what happened.
            logger.warning("Readiness check %s failed: %s: %s", name, type(error).__name__, error)
            problem = type(error).__name__
        if problem:
            failures[name] = problem
    return failures


def _database() -> str | None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return None


def _caches() -> str | None:
    for alias in caches:
        caches[alias].get(CACHE_PROBE_KEY)
    return None


def _migrations() -> str | None:
    global _migrations_applied
    if _migrations_applied:
        return None
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        return f"{len(plan)} migration(s) not applied, the first {plan[0][0].app_label}.{plan[0][0].name}"
    _migrations_applied = True
    return None


def _not_draining() -> str | None:
    return "the process is stopping" if _draining else None


class Monitor:
    """Runs ``failing_checks`` and calls ``report(failures)``: once in ``start()``, then every ``interval`` seconds
    in a thread of its own until ``stop()``. Each run closes the database connections it opened, so that one the
    database dropped is not reused."""

    def __init__(self, interval: float, report):
        self.interval, self.report = interval, report
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="readiness", daemon=True)

    def start(self) -> None:
        self._check()
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            self._check()

    def _check(self) -> None:
        failures = failing_checks()
        connections.close_all()  # this thread's own connections
        if not self._stopped.is_set():
            self.report(failures)
