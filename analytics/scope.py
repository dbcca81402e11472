"""What every analytics read covers: one organisation, a time range ``[start, end)``, optionally one application.

``clean_scope`` reads the ``from``, ``to`` and ``application`` parameters the REST lists already take, with their
errors keyed by the parameter, so a metric, a judgment list and a list of queries read the same filters alike.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from insights import parameters, validation

SCOPE_PARAMETERS = ("from", "to", "application")


@dataclass(frozen=True)
class Scope:
    organization_id: uuid.UUID
    start: datetime | None  # inclusive, from the "from" parameter
    end: datetime | None  # exclusive, from "to"
    application: str | None

    def filtered(self, rows):
        """The rows of a queryset with ``timestamp`` and ``application`` fields that the scope bounds (the
        organisation is the caller's)."""
        if self.start is not None:
            rows = rows.filter(timestamp__gte=self.start)
        if self.end is not None:
            rows = rows.filter(timestamp__lt=self.end)
        if self.application is not None:
            rows = rows.filter(application=self.application)
        return rows


def clean_scope(organization_id, filters: dict, errors: validation.Errors) -> Scope:
    """The scope that ``filters["from"]``, ``["to"]`` and ``["application"]`` describe (``None`` or ``""``: no
    bound, every application). Adds errors keyed ``from``, ``to``, ``application``; other keys are the caller's."""
    start = parameters.clean_moment(filters, "from", errors)
    end = parameters.clean_moment(filters, "to", errors)
    if start is not None and end is not None and end <= start:
        errors.add("to", "to must be later than from.")
    return Scope(organization_id, start, end, parameters.clean_text(filters, "application", errors))
