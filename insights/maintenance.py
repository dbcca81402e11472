"""Maintenance mode: while on, tracking is refused with 503 / UNAVAILABLE and a Retry-After; reads go on.

It is on when the ``MAINTENANCE_MODE`` setting says so (for a deployment's whole life), or while an administrator
has flipped the switch at run time, in the admin or with ``manage.py maintenance on``. The switch is one database
row (``insights.models.Maintenance``), so every server process on every machine sees it, Redis or not. Each process
reads it at most once per ``RECHECK_SECONDS``: tracking pays one small query a second, not one per call, and a flip
reaches every process within that second.
"""

import time

from insights.models import Maintenance
from project.conf import ubi_settings
from project.errors import Unavailable

RECHECK_SECONDS = 1.0

# (switch on, time.monotonic() when read). Threads may race to refresh it: both read the same row.
_last_read = (False, float("-inf"))


def refuse_writes() -> None:
    """Raise ``Unavailable`` with ``MAINTENANCE_RETRY_AFTER_SECONDS`` while maintenance mode is on."""
    if is_on():
        raise Unavailable(retry_after=ubi_settings.MAINTENANCE_RETRY_AFTER_SECONDS)


def is_on() -> bool:
    return ubi_settings.MAINTENANCE_MODE or switch_is_on()


def switch_is_on() -> bool:
    """The run-time switch, as this process last read it (at most ``RECHECK_SECONDS`` ago)."""
    global _last_read
    on, read_at = _last_read
    now = time.monotonic()
    if now - read_at >= RECHECK_SECONDS:
        on = Maintenance.objects.filter(pk=Maintenance.SINGLETON_ID, on=True).exists()
        _last_read = (on, now)
    return on


def switch(*, on: bool) -> None:
    """Flip the run-time switch for every process; this one sees it at once, the others within a second."""
    global _last_read
    Maintenance.objects.update_or_create(pk=Maintenance.SINGLETON_ID, defaults={"on": on})
    _last_read = (on, time.monotonic())

