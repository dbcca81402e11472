"""The parameters of a read, each checked once for every read that takes it: the lists, the pagination and the
analytics. Values arrive as the strings of a query string (or integers, from gRPC, a shell or a JSON body);
``None`` or ``""`` means the default. A bad value adds an error keyed by the parameter's name to ``errors`` and
gives the default, so every problem of a request is reported at once.
"""

import re
from datetime import datetime

from insights import validation
from insights.validation import Errors

_DIGITS = re.compile(r"[0-9]{1,18}")


def clean_integer(filters: dict, name: str, *, default: int, maximum: int | None, errors: Errors) -> int:
    """``filters[name]`` as an integer from 1 to ``maximum`` (no upper bound when ``None``)."""
    value = filters.get(name)
    if value is None or value == "":
        return default
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    if number is None or number < 1 or (maximum is not None and number > maximum):
        bounds = "of at least 1" if maximum is None else f"from 1 to {maximum}"
        errors.add(name, f"{name} must be an integer {bounds}.")
        return default
    return number


def clean_flag(filters: dict, name: str, errors: Errors) -> bool:
    """``filters[name]``, ``true`` or ``false`` (or a boolean); false by default."""
    value = filters.get(name)
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if value not in ("true", "false"):
        errors.add(name, f"{name} must be true or false.")
        return False
    return value == "true"


def clean_choice(filters: dict, name: str, *, choices: tuple[str, ...], errors: Errors) -> str:
    """``filters[name]``, one of ``choices``; the first choice is the default."""
    value = filters.get(name)
    if value is None or value == "":
        return choices[0]
    if value not in choices:
        errors.add(name, f"{name} must be one of {', '.join(choices)}.")
        return choices[0]
    return value


def clean_text(filters: dict, name: str, errors: Errors) -> str | None:
    """``filters[name]``, a value to match a column exactly; ``None`` when absent."""
    value = filters.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or validation.storage_problem(value):
        # A value no row can hold; PostgreSQL would even refuse to compare with a NUL.
        errors.add(name, f"{name} must be a string without U+0000 or unpaired surrogates.")
        return None
    return value


def clean_moment(filters: dict, name: str, errors: Errors) -> datetime | None:
    """``filters[name]``, an ISO 8601 timestamp (``insights.validation.parse_timestamp``); ``None`` when absent."""
    value = filters.get(name)
    if value is None or value == "":
        return None
    try:
        return validation.parse_timestamp(value)
    except ValueError as error:
        errors.add(name, f"{name}: {error}")
        return None
