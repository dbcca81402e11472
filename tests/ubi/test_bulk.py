"""``insights.bulk.insert`` against the real database: COPY on PostgreSQL, bulk_create elsewhere, one INSERT for one
row. Its values reach the database as ``save()`` would send them, whether they take the short way (a ``UUID``,
an aware ``datetime``, which Django's PostgreSQL backend passes on unchanged) or Django's preparation."""

import datetime
import warnings

import pytest

from insights import bulk
from insights.models import Event
from tests.support import factories

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
PLUS_TWO = datetime.timezone(datetime.timedelta(hours=2))
MOMENT = datetime.datetime(2024, 5, 16, 12, 34, 56, 789000, tzinfo=UTC)


def row(event_id: str, *, organization_id, timestamp) -> dict:
    return Event.row_from_document(
        organization_id=organization_id,
        document={"event_id": event_id, "action_name": "click", "event_attributes": {"position": {"ordinal": 1}}},
        timestamp=timestamp,
        fingerprint="f" * 64,
    )


@pytest.mark.parametrize("count", [1, 3], ids=["one row", "a batch"])
def test_values_of_either_kind_are_stored_as_save_would_store_them(count):
    org = factories.make_org()
    kinds = [
        (org.id, MOMENT),  # the short way
        (str(org.id), MOMENT.astimezone(PLUS_TWO)),  # a key as text, another zone: Django's preparation
        (org.id, "2024-05-16T12:34:56.789Z"),  # a date-time as text
    ]
    rows = [row(f"e{n}", organization_id=key, timestamp=moment) for n, (key, moment) in enumerate(kinds[:count])]
    bulk.insert(Event, rows)

    stored = Event.objects.order_by("event_id")
    assert [(event.organization_id, event.timestamp) for event in stored] == [(org.id, MOMENT)] * count
    assert stored[0].event_attributes == {"position": {"ordinal": 1}} and stored[0].extra == {}


def test_a_naive_datetime_is_judged_as_save_judges_it():
    org = factories.make_org()
    naive = MOMENT.replace(tzinfo=None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bulk.insert(Event, [row("a", organization_id=org.id, timestamp=naive), row("b", organization_id=org.id, timestamp=MOMENT)])
    assert any("received a naive datetime" in str(warning.message) for warning in caught)
    assert Event.objects.filter(organization_id=org.id).count() == 2
