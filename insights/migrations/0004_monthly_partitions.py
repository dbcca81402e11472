"""Partition the queries and events tables by month on PostgreSQL, and leave the events table the indexes its
reads need (docs/data.md). SQLite keeps plain tables: there, only the three per-filter indexes of session_id,
client_id and user_id go.

On PostgreSQL each table is rebuilt: the plain table is renamed aside, a partitioned table of the same columns
takes its name (with its own identity sequence, continuing the old one's values), gets a partition for this month,
the ``PARTITION_MONTHS_AHEAD`` next ones and every earlier month its rows have, and a DEFAULT partition (for rows
of later months); the rows are copied
with their ids, the identifiers table (``insights.identifiers``) is filled from them, the plain table is dropped,
and the primary key ``(id, timestamp)``, the foreign key (under its old name) and the indexes are made on the
partitioned table, which makes them on each partition. Everything runs in the migration's transaction: a failure
leaves the plain tables as they were. Going back rebuilds plain tables the same way.
"""

import datetime

from django.db import migrations, models

from insights import identifiers, partitions
from project.conf import ubi_settings

TABLES = (("event", "event_id"), ("query", "query_id"))
# Indexes of the partitioned tables only, which Django's state does not list: hash indexes for the event filters
# that match few rows each, and the query_id lookup of queries, whose unique constraint the identifiers table
# holds instead (insights.identifiers).
PARTITIONED_INDEXES = {
    "event": [f'"ubi_event_{column}_hash" ON "insights_event" USING hash ({column})'
              for column in ("session_id", "client_id", "user_id")],
    "query": ['"ubi_query_org_query" ON "insights_query" (organization_id, query_id)'],
}


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, id_field in TABLES:
        rebuild(schema_editor, apps.get_model("insights", model_name), id_field, partitioned=True)
    partitions.forget()


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, id_field in TABLES:
        rebuild(schema_editor, apps.get_model("insights", model_name), id_field, partitioned=False)
    partitions.forget()


def rebuild(schema_editor, model, id_field: str, *, partitioned: bool) -> None:
    table = model._meta.db_table
    aside = f"{table}_aside"
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'", [table]
        )
        (foreign_key,) = cursor.fetchone()
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (sequence,) = cursor.fetchone()
        execute = cursor.execute
        execute(f"ALTER SEQUENCE {sequence} RENAME TO \"{aside}_id_seq\"")
        execute(f'ALTER TABLE "{table}" RENAME TO "{aside}"')
        execute(
            f'CREATE TABLE "{table}" (LIKE "{aside}" INCLUDING DEFAULTS INCLUDING IDENTITY)'
            + (' PARTITION BY RANGE ("timestamp")' if partitioned else "")
        )
        execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), last_value, is_called) FROM \"{aside}_id_seq\"",
            [table],
        )
        if partitioned:
            execute(
                f"SELECT DISTINCT date_trunc('month', \"timestamp\" AT TIME ZONE 'UTC') FROM \"{aside}\""
            )
            now = datetime.datetime.now(datetime.timezone.utc)
            ahead = [partitions.month_start(now, months) for months in range(ubi_settings.PARTITION_MONTHS_AHEAD + 1)]
            # A month past those (a client's clock far ahead) is left to the DEFAULT partition.
            months = {month.replace(tzinfo=datetime.timezone.utc) for (month,) in cursor.fetchall()}
            months = {month for month in months if month <= ahead[-1]} | set(ahead)
            for start in sorted(months):
                execute(
                    f'CREATE TABLE "{partitions.partition_name(table, start)}" PARTITION OF "{table}" '
                    f"FOR VALUES FROM ('{start.isoformat()}') TO ('{partitions.month_start(start, 1).isoformat()}')"
                )
            execute(f'CREATE TABLE "{partitions.default_partition_name(table)}" PARTITION OF "{table}" DEFAULT')
        execute(f'INSERT INTO "{table}" SELECT * FROM "{aside}"')
        if partitioned:
            for statement in identifiers.create_sql(table, id_field):
                execute(statement)
        else:
            for statement in identifiers.drop_sql(table):
                execute(statement)
        execute(f'DROP TABLE "{aside}"')
        key = '(id, "timestamp")' if partitioned else "(id)"
        execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_pkey" PRIMARY KEY {key}')
        execute(
            f'ALTER TABLE "{table}" ADD CONSTRAINT "{foreign_key}" FOREIGN KEY (organization_id) '
            f'REFERENCES "accounts_organization" (id) DEFERRABLE INITIALLY DEFERRED'
        )
    for index in model._meta.indexes:
        schema_editor.add_index(model, index)
    if partitioned:
        for index in PARTITIONED_INDEXES[model._meta.model_name]:
            schema_editor.execute(f"CREATE INDEX {index}")
    else:
        for constraint in model._meta.constraints:
            schema_editor.add_constraint(model, constraint)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_sign_in_policy_and_totp"),
        ("insights", "0003_query_plural"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="event", name="ubi_event_org_session_time"),
        migrations.RemoveIndex(model_name="event", name="ubi_event_org_client_time"),
        migrations.RemoveIndex(model_name="event", name="ubi_event_org_user_time"),
        migrations.RunPython(partition, unpartition),
    ]
