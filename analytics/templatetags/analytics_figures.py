"""How the dashboard writes its figures: rates as percentages, counts with thousands separators, moments in UTC."""

import datetime

from django import template

register = template.Library()


@register.filter
def percent(rate) -> str:
    """A rate from 0 to 1 as a percentage with one decimal, ``–`` when there is none."""
    return "–" if rate is None else f"{100 * rate:.1f} %"


@register.filter
def count(number) -> str:
    return f"{number:,}".replace(",", "\u202f")  # a narrow no-break space groups thousands in English and French


@register.filter
def decimal3(number) -> str:
    return "–" if number is None else f"{number:.3f}"


@register.filter
def moment(iso_text: str) -> str:
    """An ISO 8601 moment of the API (``createdAt``) as ``2026-12-06 10:58 UTC``."""
    parsed = datetime.datetime.fromisoformat(iso_text.replace("Z", "+00:00")).astimezone(datetime.UTC)
    return parsed.strftime("%Y-%m-%d %H:%M UTC")
