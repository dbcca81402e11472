"""Many new rows in one statement: PostgreSQL's ``COPY`` on PostgreSQL, ``bulk_create`` elsewhere.

``bulk_create`` compiles one INSERT with a placeholder per value, some 15,000 for a batch of 1000 events, each
adapted in Python: the larger part of a batch's time. ``COPY`` streams the rows instead, written by psycopg's C
code. It is still one statement in the caller's transaction, so a batch stays all or nothing, and a duplicate
identifier still raises ``IntegrityError`` (and a lost connection ``OperationalError``), as the INSERT would.

Rows are prepared by each field as ``save()`` would (``pre_save``, then ``get_db_prep_save``); the auto-generated
primary key is left to the database and not read back, since tracked documents are known by their own identifiers.
"""

import time

from django.db import connections, router


def insert(model, rows: list) -> None:
    """Insert ``rows`` (unsaved instances of ``model``) in one statement; none for no rows."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(rows)
        return
    fields = [field for field in model._meta.concrete_fields if field is not model._meta.auto_field]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    statement = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    started = time.monotonic()
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # The psycopg cursor under Django's wrapper: Django's has no COPY.
        with cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    [field.get_db_prep_save(field.pre_save(row, True), connection) for field in fields]
                )
    if connection.queries_logged:
        # As Django's debug cursor logs its statements, so that query counts (tests, debug tools) see this one.
        connection.queries_log.append({"sql": statement, "time": f"{time.monotonic() - started:.3f}"})
