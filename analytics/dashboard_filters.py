"""The dashboard's filter form: a range of whole days and an application, turned into the selectors' filters.

People think in days and mean the last one included, so the form takes dates, ``to`` inclusive; the selectors take
the API's ``from``/``to`` parameters, ISO 8601 moments with ``to`` exclusive (analytics/scope.py). With no range
given the dashboard shows the last ``DEFAULT_DAYS`` days up to today (UTC).
"""

import datetime

from django import forms
from django.utils import timezone

DEFAULT_DAYS = 30
# The ranges offered as one-click links, in days up to today.
PRESET_DAYS = (7, 30, 90, 365)
# The searches-over-time bucket for a range: hours while a day has a few points, weeks once days are too many.
HOURLY_UP_TO_DAYS = 3
DAILY_UP_TO_DAYS = 92
# Each field's name in the query string: the API's parameter names.
PARAMETERS = {"start": "from", "end": "to", "application": "application"}


class DashboardFilters(forms.Form):
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    application = forms.CharField(label="Application", required=False, max_length=100)

    def __init__(self, data, **kwargs):
        """Bound to the query string (``from``, ``to``, ``application``), the default range filling what is absent."""
        defaults = {**last_days(DEFAULT_DAYS), "application": ""}
        super().__init__({name: data.get(name) or default for name, default in defaults.items()}, **kwargs)

    def add_prefix(self, field_name):
        """A field's name in the query string (``from`` is a Python keyword, no field's attribute name)."""
        return PARAMETERS.get(field_name, field_name)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", "The last day comes before the first.")
        return cleaned

    def selector_filters(self) -> dict:
        """The selectors' ``filters``: ``from`` at the first day's midnight, ``to`` at the midnight after the last."""
        start, end = self.cleaned_data["start"], self.cleaned_data["end"] + datetime.timedelta(days=1)
        return {
            "from": f"{start.isoformat()}T00:00:00Z",
            "to": f"{end.isoformat()}T00:00:00Z",
            "application": self.cleaned_data["application"],
        }

    def bucket(self) -> str:
        days = (self.cleaned_data["end"] - self.cleaned_data["start"]).days + 1
        if days <= HOURLY_UP_TO_DAYS:
            return "hour"
        return "day" if days <= DAILY_UP_TO_DAYS else "week"

    def query_string(self) -> dict:
        """The range and application in the API's names, for links that keep them (the organisation selector)."""
        return {
            "from": self.cleaned_data["start"].isoformat(),
            "to": self.cleaned_data["end"].isoformat(),
            "application": self.cleaned_data["application"],
        }


def last_days(days: int) -> dict:
    """The range of the last ``days`` days up to today (UTC) as the query string's ``from`` and ``to``."""
    today = timezone.now().astimezone(datetime.UTC).date()
    return {"from": (today - datetime.timedelta(days=days - 1)).isoformat(), "to": today.isoformat()}


def presets() -> list[dict]:
    """The one-click ranges: ``{"days", "from", "to"}`` for each of ``PRESET_DAYS``."""
    return [{"days": days, **last_days(days)} for days in PRESET_DAYS]
