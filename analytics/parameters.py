"""The analytics reads' own parameters, beside the scope's: each checked here with its error keyed by its name.

Values arrive as the strings of a query string (or integers, from a shell or a JSON body); ``None`` or ``""``
means the default.
"""

import re

from insights.validation import Errors
from project.conf import ubi_settings

DEFAULT_MAX_RANK = 20
_DIGITS = re.compile(r"[0-9]{1,9}")


def clean_max_rank(filters: dict, errors: Errors) -> int:
    """``filters["maxRank"]``: the last rank counted, from 1 to ``ANALYTICS_MAX_RANK`` (default 20)."""
    return clean_integer(filters, "maxRank", default=DEFAULT_MAX_RANK, maximum=ubi_settings.ANALYTICS_MAX_RANK,
                         errors=errors)


def clean_integer(filters: dict, name: str, *, default: int, maximum: int, errors: Errors) -> int:
    """``filters[name]`` as an integer from 1 to ``maximum``; ``default`` when absent or invalid (and then an
    error keyed ``name``)."""
    value = filters.get(name)
    if value is None or value == "":
        return default
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    if number is None or not 1 <= number <= maximum:
        errors.add(name, f"{name} must be an integer from 1 to {maximum}.")
        return default
    return number


def clean_choice(filters: dict, name: str, *, choices: tuple[str, ...], errors: Errors) -> str:
    """``filters[name]``, one of ``choices``; the first choice is the default."""
    value = filters.get(name)
    if value is None or value == "":
        return choices[0]
    if value not in choices:
        errors.add(name, f"{name} must be one of {', '.join(choices)}.")
        return choices[0]
    return value
