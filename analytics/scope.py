"""What every analytics read covers: one organisation, a time range ``[start, end)``, optionally one application.

``clean_scope`` reads the ``from``, ``to`` and ``application`` parameters the REST lists already take, with their
errors keyed by the parameter, so a metric, a judgment list and a list of queries read the same filters alike.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from insights import validation

SCOPE_PARAMETERS = ("from", "to", "application")


@dataclass(frozen=True)
class Scope:
    organization_id: uuid.UUID
    start: datetime | None  # inclusive, from the "from" parameter
    end: datetime | None  # exclusive, from "to"
    application: str | None


def clean_scope(organization_id, filters: dict, errors: validation.Errors) -> Scope:
    """The scope that ``filters["from"]``, ``["to"]`` and ``["application"]`` describe (``None`` or ``""``: no
    bound, every application). Adds errors keyed ``from``, ``to``, ``application``; other keys are the caller's."""
    start = _moment(filters, "from", errors)
    end = _moment(filters, "to", errors)
    if start is not None and end is not None and end <= start:
        errors.add("to", "to must be later than from.")
    return Scope(organization_id, start, end, _application(filters, errors))


def _moment(filters: dict, name: str, errors: validation.Errors) -> datetime | None:
    value = filters.get(name)
    if value is None or value == "":
        return None
    try:
        return validation.parse_timestamp(value)
    except ValueError as error:
        errors.add(name, f"{name}: {error}")
        return None


def _application(filters: dict, errors: validation.Errors) -> str | None:
    value = filters.get("application")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or validation.storage_problem(value):
        # A value no row can hold; PostgreSQL would even refuse to compare with a NUL.
        errors.add("application", "application must be a string without U+0000 or unpaired surrogates.")
        return None
    return value
