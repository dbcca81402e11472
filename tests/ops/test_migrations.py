"""Data migrations, run forwards from the state before them on the test database."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from insights import partitions
from tests.support import factories

BEFORE = [("accounts", "0006_audit_events")]
AFTER = [("accounts", "0008_existing_clients_keep_the_password_grant")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_clients_registered_before_the_opt_in_keep_the_password_grant_they_had():
    """An upgrade does not lock scripts out: a client that had the password grant keeps it; one that excluded it
    (``require_authorization_code_flow``) and a machine client do not get it."""
    apps = migrate(BEFORE)
    Organization, AppClient = apps.get_model("accounts", "Organization"), apps.get_model("accounts", "AppClient")
    org = Organization.objects.create(name="Upgraded")

    def client(name, grant, require_code=False):
        return AppClient.objects.create(
            organization=org, name=name, client_id=name, client_type="public", authorization_grant_type=grant,
            require_authorization_code_flow=require_code, redirect_uris="https://app.example/callback",
        )

    client("people", "authorization-code")
    client("strict", "authorization-code", require_code=True)
    client("scripts", "password")
    client("machine", "client-credentials")
    try:
        apps = migrate(AFTER)
        allowed = dict(apps.get_model("accounts", "AppClient").objects.values_list("client_id", "allow_password_grant"))
        assert allowed == {"people": True, "strict": False, "scripts": True, "machine": False}
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


BEFORE_PARTITIONS = [("insights", "0003_query_plural")]


def tracked_rows(apps) -> dict[str, list[tuple]]:
    return {
        name: sorted(apps.get_model("insights", name).objects.values_list("id", identifier, "timestamp", "fingerprint"))
        for name, identifier in (("Event", "event_id"), ("Query", "query_id"))
    }


@pytest.mark.django_db(transaction=True)
def test_the_monthly_partitions_migration_keeps_every_row_both_ways():
    """insights 0004 on a database with rows of several months (and one far ahead, for the DEFAULT partition):
    every row keeps its id, identifier and time; new ids follow the old ones; identifiers stay unique; and back."""
    org = factories.make_org("Upgraded")
    apps = migrate(BEFORE_PARTITIONS)
    Event, Query = apps.get_model("insights", "Event"), apps.get_model("insights", "Query")
    moments = [datetime.datetime(2025, month, 15, 12, tzinfo=datetime.UTC) for month in (1, 2, 7)]
    moments.append(datetime.datetime(2999, 1, 1, tzinfo=datetime.UTC))
    Event.objects.bulk_create(
        Event(organization_id=org.id, event_id=f"e{i}", action_name="click", timestamp=moment,
              fingerprint=f"{i:02d}" * 32)
        for i, moment in enumerate(moments * 3)
    )
    Query.objects.bulk_create(
        Query(organization_id=org.id, query_id=f"q{i}", user_query="toner", timestamp=moment, fingerprint="f" * 64)
        for i, moment in enumerate(moments)
    )
    before = tracked_rows(apps)
    try:
        apps = migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
        assert tracked_rows(apps) == before
        Event = apps.get_model("insights", "Event")
        if connection.vendor == "postgresql":
            assert partitions.is_partitioned(Event)
            names = {name for name, _start, _end in partitions.partitions(Event)}
            assert {"insights_event_p2025_01", "insights_event_p2025_02", "insights_event_p2025_07"} <= names
            assert "insights_event_p2999_01" not in names  # its row is in the DEFAULT partition
        newer = Event.objects.create(organization_id=org.id, event_id="new", action_name="click",
                                     timestamp=moments[0], fingerprint="n" * 64)
        assert newer.id > max(row[0] for row in before["Event"])
        with pytest.raises(IntegrityError), transaction.atomic():
            Event.objects.create(organization_id=org.id, event_id="e1", action_name="click",
                                 timestamp=moments[2], fingerprint="x" * 64)

        apps = migrate(BEFORE_PARTITIONS)
        after_new = [row for row in tracked_rows(apps)["Event"] if row[1] != "new"]
        assert after_new == before["Event"]
        assert not partitions.is_partitioned(apps.get_model("insights", "Event"))
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
