"""Tracked rows at chosen moments, for the data lifecycle's tests (retention, erasure, offboarding)."""

import uuid
from datetime import datetime

from accounts.models import Organization
from insights import services
from insights.command_principal import command_principal
from insights.models import Event, Query
from insights.validation import format_timestamp
from tests.support.ubi_documents import make_event, make_query


def writer(organization: Organization):
    return command_principal(str(organization.pk), roles=("insights:write",), command="tests")


def track_query(organization: Organization, at: datetime, **fields) -> str:
    query = make_query(timestamp=format_timestamp(at), **fields)
    return services.track_query(writer(organization), query=query)


def track_event(organization: Organization, at: datetime, **fields) -> str:
    event = make_event(timestamp=format_timestamp(at), event_id=str(uuid.uuid4()), **fields)
    return services.track_event(writer(organization), event=event)


def query_ids(organization: Organization) -> set[str]:
    return set(Query.objects.filter(organization=organization).values_list("query_id", flat=True))


def event_ids(organization: Organization) -> set[str]:
    return set(Event.objects.filter(organization=organization).values_list("event_id", flat=True))
