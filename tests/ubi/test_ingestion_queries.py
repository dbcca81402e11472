"""Ingestion does no needless database work: statements counted per request and per batch.

``transaction=True`` makes each request's transaction the outermost one, as in production, so the counts are
the statements a server really sends (no test savepoints around them).
"""

import math
import os
import subprocess
import sys

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from insights.models import Event
from tests.support import factories
from tests.support.paths import PROJECT
from tests.support.statements import read_now_and_then
from tests.support.ubi_documents import make_event, make_query

pytestmark = pytest.mark.django_db(transaction=True)


def statements(captured) -> list[str]:
    """The first word of each statement, in order, but what a process reads now and then."""
    return [query["sql"].split()[0] for query in captured.captured_queries if not read_now_and_then(query["sql"])]


def data_statements(captured) -> list[str]:
    """The first word of each statement that reads or writes rows, in order."""
    return [verb for verb in statements(captured) if verb not in {"BEGIN", "COMMIT", "ROLLBACK"}]


@pytest.fixture
def writer():
    client = factories.make_client(factories.make_org())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.bearer_for(client.client)}")
    # A process reads the revocation table when it sees a new revocation generation (oauth/revocation.py), as on
    # its first bearer check: that read is made here, not in the requests measured.
    assert api.get("/api/v1/me").status_code == 200
    return api


def test_a_single_event_is_one_insert_and_nothing_else(writer):
    # One statement is atomic by itself: no transaction around it.
    with CaptureQueriesContext(connection) as captured:
        response = writer.post("/api/v1/ubi/events", make_event(), format="json")
    assert response.status_code == 201, response.content
    assert statements(captured) == ["INSERT"]


def test_a_client_chosen_event_id_costs_nothing_until_it_is_retried(writer):
    event = make_event(event_id="retry-safe-1")
    with CaptureQueriesContext(connection) as captured:
        assert writer.post("/api/v1/ubi/events", event, format="json").status_code == 201
    assert statements(captured) == ["INSERT"]
    # The retry's insert collides; then, and only then, the stored fingerprint is looked up.
    with CaptureQueriesContext(connection) as captured:
        assert writer.post("/api/v1/ubi/events", event, format="json").status_code == 201
    assert data_statements(captured) == ["INSERT", "SELECT"]
    assert Event.objects.filter(event_id="retry-safe-1").count() == 1


def test_a_batch_of_1000_is_inserted_in_bulk(writer):
    events = [make_event(action_name=f"click-{i}") for i in range(1000)]
    with CaptureQueriesContext(connection) as captured:
        response = writer.post("/api/v1/ubi/events", events, format="json")
    assert response.status_code == 201, response.content
    # All or nothing: one transaction (BEGIN, or BEGIN IMMEDIATE on SQLite) around every statement.
    verbs = statements(captured)
    assert (verbs[0], verbs[-1], verbs.count("BEGIN"), verbs.count("COMMIT")) == ("BEGIN", "COMMIT", 1, 1)
    if connection.vendor == "postgresql":
        # One COPY streams the whole batch (insights.bulk).
        assert data_statements(captured) == ["COPY"]
    else:
        fields = [field for field in Event._meta.concrete_fields if not field.primary_key]
        rows_per_insert = connection.ops.bulk_batch_size(fields, events)
        # As many rows a statement as the database's parameter limit allows.
        assert data_statements(captured) == ["INSERT"] * math.ceil(len(events) / rows_per_insert)
    assert sorted(Event.objects.values_list("action_name", flat=True)) == sorted(e["action_name"] for e in events)


def printed_by_a_new_process(expression: str, **variables: str | None) -> str:
    """What ``print(expression)`` shows in a new process of the project whose environment has ``variables`` (None:
    unset): settings are read once per process."""
    environment = {name: value for name, value in os.environ.items() if name not in variables}
    environment.update({name: value for name, value in variables.items() if value is not None})
    shown = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", f"print({expression})"],
        cwd=PROJECT, env=environment, capture_output=True, text=True, check=True,
    )
    return shown.stdout.strip()


@pytest.mark.parametrize(("variable", "checked"), [(None, False), ("true", True)])
def test_connections_are_health_checked_only_when_asked(variable, checked):
    # A health check is a SELECT 1 before every request's first statement: a needless round trip per single event,
    # unless an operator asks for it (DB_CONN_HEALTH_CHECKS). test_faults.py shows recovery from a restart without.
    read = "__import__('django.db').db.connection.settings_dict['CONN_HEALTH_CHECKS']"
    assert printed_by_a_new_process(read, DB_CONN_HEALTH_CHECKS=variable) == str(checked)


@pytest.mark.parametrize(
    ("variable", "query", "options"),
    [
        (None, "", {"server_side_binding": True, "prepare_threshold": 5}),
        ("false", "", {"server_side_binding": True, "prepare_threshold": None}),
        (None, "?sslmode=require", {"sslmode": "require", "server_side_binding": True, "prepare_threshold": 5}),
    ],
)
def test_postgresql_statements_are_bound_by_the_server_and_prepared_unless_asked_not_to(variable, query, options):
    read = "__import__('django.conf').conf.settings.DATABASES['default']['OPTIONS']"
    # The URL is read, never connected to; options it gives are kept.
    shown = printed_by_a_new_process(
        read, DB_PREPARED_STATEMENTS=variable, DATABASE_URL=f"postgres://ubi@db.invalid:5432/ubi{query}"
    )
    assert shown == str(options)


def test_a_query_is_one_insert(writer):
    with CaptureQueriesContext(connection) as captured:
        response = writer.post("/api/v1/ubi/queries", make_query(), format="json")
    assert response.status_code == 201, response.content
    assert statements(captured) == ["INSERT"]
