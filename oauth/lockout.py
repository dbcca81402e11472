"""Consecutive failed sign-ins per account, as every server process sees them.

The counters live in the ``shared`` cache (Redis in production, a file cache on one machine), so the password grant
and the login page, in any process, count together. They are keyed by a digest of the normalised email, whether or
not such an account exists: a locked-out answer must not tell an attacker which addresses are real.
"""

import hashlib
import time

from django.core.cache import caches

from oauth.errors import TooManyAttempts
from project.conf import ubi_settings


def _keys(email: str) -> tuple[str, str, str]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"sign-in-failures:{digest}", f"sign-in-failures-since:{digest}", f"sign-in-locked:{digest}"


def _cache():
    return caches["shared"]


def check_not_locked(email: str) -> None:
    """Raise ``TooManyAttempts`` (with the seconds left) while ``email`` is in its cooling-off period."""
    *_counters, locked = _keys(email)
    locked_until = _cache().get(locked)
    if locked_until is not None and locked_until > time.time():
        raise TooManyAttempts(retry_after=locked_until - time.time())


def record_failure(email: str) -> None:
    """Count one failure; the one that reaches the limit starts the cooling-off period.

    A run of failures starts with its first one and lasts the window. The times are compared here rather than left
    to the cache's expiry alone, so that every cache backend (and a test moving the clock) agrees on them.
    """
    failures, since, locked = _keys(email)
    cache, window, now = _cache(), ubi_settings.LOGIN_FAILURE_WINDOW_SECONDS, time.time()
    started = cache.get(since)
    if started is None or now - started >= window:
        cache.set_many({since: now, failures: 0}, timeout=window)
    try:
        count = cache.incr(failures)  # atomic on Redis: parallel guesses are all counted
    except ValueError:  # expired between the two calls
        cache.set(failures, count := 1, timeout=window)
    if count >= ubi_settings.LOGIN_MAX_FAILURES:
        lockout = ubi_settings.LOGIN_LOCKOUT_SECONDS
        cache.set(locked, now + lockout, timeout=lockout)
        cache.delete_many([failures, since])


def record_success(email: str) -> None:
    """A complete sign-in ends the run of failures: only consecutive ones count."""
    failures, since, _locked = _keys(email)
    _cache().delete_many([failures, since])
