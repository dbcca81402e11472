"""Consecutive failed sign-ins per account, as every server process sees them.

The runs of attempts live in the database (``SignInAttempts``), so the password grant and the login page, in any
process, count together, and no cache eviction clears a lock. They are keyed by a digest of the normalised email,
whether or not such an account exists: a locked-out answer must not tell an attacker which addresses are real.

An attempt is counted before its password or code is checked (``begin_attempt``), in a transaction that holds the
run's row (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the project's ``IMMEDIATE`` transactions take the one
write lock), so parallel guesses are counted one after another and at most ``LOGIN_MAX_FAILURES`` of a run reach the
check. A check that passes gives its attempt back (``attempt_passed``): only failures count, and a check still in
flight counts as one until it passes. A failure that finds the run full locks the address (``record_failure``); a
complete sign-in ends the run (``record_success``).
"""

import hashlib
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from oauth.models import SignInAttempts
from oauth.oauth_errors import TooManyAttempts
from project.conf import ubi_settings


def _digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def begin_attempt(email: str) -> None:
    """Count one attempt for ``email``. Raises ``TooManyAttempts`` (with the seconds left) while the address is
    locked, or when failures and checks in flight already fill the run (``LOGIN_MAX_FAILURES``)."""
    now = timezone.now()
    window = timedelta(seconds=ubi_settings.LOGIN_FAILURE_WINDOW_SECONDS)
    with transaction.atomic():
        run, created = SignInAttempts.objects.select_for_update().get_or_create(
            digest=_digest(email), defaults={"run_started": now}
        )
        if run.locked_until is not None and run.locked_until > now:
            raise TooManyAttempts(retry_after=(run.locked_until - now).total_seconds())
        if run.locked_until is not None or run.run_started + window <= now:  # a lock ended, or the window did
            run.attempts, run.run_started, run.locked_until = 0, now, None
        if run.attempts >= ubi_settings.LOGIN_MAX_FAILURES:
            # Not counted: never checked. The checks in flight lock the address, or give their attempts back,
            # within a moment.
            raise TooManyAttempts(retry_after=1)
        run.attempts += 1
        run.save()
    if created:
        _forget_finished_runs(now, window)


def attempt_passed(email: str) -> None:
    """The password or code of an attempt was right: it is not a failure."""
    SignInAttempts.objects.filter(digest=_digest(email), attempts__gt=0).update(attempts=F("attempts") - 1)


def record_failure(email: str) -> None:
    """The password or code of an attempt was wrong. With the run full, the address is locked for
    ``LOGIN_LOCKOUT_SECONDS``; its next attempt after that starts a new run."""
    lock = timezone.now() + timedelta(seconds=ubi_settings.LOGIN_LOCKOUT_SECONDS)
    SignInAttempts.objects.filter(
        digest=_digest(email), locked_until__isnull=True, attempts__gte=ubi_settings.LOGIN_MAX_FAILURES
    ).update(locked_until=lock, attempts=0)


def record_success(email: str) -> None:
    """A complete sign-in ends the run of failures: only consecutive ones count."""
    SignInAttempts.objects.filter(digest=_digest(email)).delete()


def _forget_finished_runs(now, window: timedelta) -> None:
    """Runs whose window and lock are both over hold nothing: addresses tried once, by anyone, do not pile up."""
    SignInAttempts.objects.filter(
        Q(locked_until__lte=now) | Q(locked_until__isnull=True, run_started__lte=now - window)
    ).delete()
