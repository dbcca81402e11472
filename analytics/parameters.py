"""The analytics reads' own parameter: the last rank they count (``maxRank``). The others are every read's
(``insights.parameters``)."""

from insights.parameters import clean_integer
from insights.validation import Errors
from project.conf import ubi_settings

DEFAULT_MAX_RANK = 20


def clean_max_rank(filters: dict, errors: Errors) -> int:
    """``filters["maxRank"]``: the last rank counted, from 1 to ``ANALYTICS_MAX_RANK`` (default 20)."""
    return clean_integer(filters, "maxRank", default=DEFAULT_MAX_RANK, maximum=ubi_settings.ANALYTICS_MAX_RANK,
                         errors=errors)
