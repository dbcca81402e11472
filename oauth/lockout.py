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


def _keys(email: str) -> tuple[str, str]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"sign-in-failures:{digest}", f"sign-in-locked:{digest}"


def _cache():
    return caches["shared"]


def check_not_locked(email: str) -> None:
    """Raise ``TooManyAttempts`` (with the seconds left) while ``email`` is in its cooling-off period."""
    _failures, locked = _keys(email)
    locked_until = _cache().get(locked)
    if locked_until is not None and locked_until > time.time():
        raise TooManyAttempts(retry_after=locked_until - time.time())


def record_failure(email: str) -> None:
    """Count one failure; the one that reaches the limit starts the cooling-off period."""
    failures, locked = _keys(email)
    cache = _cache()
    # The window starts at the first failure of a run; add() leaves a running count (and its expiry) alone.
    cache.add(failures, 0, timeout=ubi_settings.LOGIN_FAILURE_WINDOW_SECONDS)
    try:
        count = cache.incr(failures)
    except ValueError:  # the window expired between add() and incr()
        cache.set(failures, count := 1, timeout=ubi_settings.LOGIN_FAILURE_WINDOW_SECONDS)
    if count >= ubi_settings.LOGIN_MAX_FAILURES:
        lockout = ubi_settings.LOGIN_LOCKOUT_SECONDS
        cache.set(locked, time.time() + lockout, timeout=lockout)
        cache.delete(failures)


def record_success(email: str) -> None:
    """A complete sign-in ends the run of failures: only consecutive ones count."""
    failures, _locked = _keys(email)
    _cache().delete(failures)
