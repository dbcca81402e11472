"""The ``Rate`` value: how many requests a limit allows per window, as the settings and app clients write it.

``oauth.throttling`` counts requests against rates; this module only reads and checks them, so that settings,
models and management commands can name a rate without depending on how it is counted.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError

from project.conf import ubi_settings

UNITS = {"s": 1, "min": 60, "h": 3600}
_RATE = re.compile(r"^\s*(\d{1,9})\s*/\s*(s|min|h)\s*$")


@dataclass(frozen=True, slots=True)
class Rate:
    requests: int
    seconds: int

    def __str__(self):
        unit = next(unit for unit, seconds in UNITS.items() if seconds == self.seconds)
        return f"{self.requests}/{unit}"


@lru_cache(maxsize=1024)
def parse_rate(text: str) -> Rate:
    """``"1000/s"``, ``"600/min"`` or ``"10000/h"`` as a ``Rate``. Raises ``ValueError`` for anything else."""
    match = _RATE.match(text) if isinstance(text, str) else None
    if match is None or int(match[1]) < 1:
        raise ValueError(f"{text!r} is not a rate: write N/s, N/min or N/h with N from 1 to 999999999.")
    return Rate(requests=int(match[1]), seconds=UNITS[match[2]])


def validate_rate(value: str) -> None:
    """Model-field validator: an empty value means "the default"; anything else must parse."""
    if value:
        try:
            parse_rate(value)
        except ValueError as error:
            raise ValidationError(str(error), code="invalid_rate") from None


def setting_rate(name: str) -> Rate | None:
    """The rate of setting ``name``; ``None`` (the setting is ``None``) turns that limit off."""
    value = getattr(ubi_settings, name)
    return None if value is None else parse_rate(value)
