"""Many new rows in one statement: PostgreSQL's ``COPY`` on PostgreSQL, ``bulk_create`` elsewhere.

``bulk_create`` compiles one INSERT with a placeholder per value, some 15,000 for a batch of 1000 events, each
adapted in Python: the larger part of a batch's time. ``COPY`` streams the rows instead, written by psycopg's C
code. It is still one statement in the caller's transaction, so a batch stays all or nothing, and a duplicate
identifier still raises ``IntegrityError`` (and a lost connection ``OperationalError``), as the INSERT would.

Rows are plain dicts of field values (``attname`` keys), not model instances: building a thousand instances only
to read their values back cost a fifth of a batch. Each value is prepared for the database as ``save()`` would
(``get_db_prep_save``), except text, which Django passes on unchanged anyway (a text value must be a ``str`` or
``None``); so a row must already hold what ``pre_save`` would give, which rules out ``auto_now`` fields. The auto-generated primary key is left to the
database and not read back, since tracked documents are known by their own identifiers.
"""

import operator
import time

from django.db import connections, models, router

# Fields whose value Django sends to the database as it is.
_TEXT_FIELDS = (models.CharField, models.TextField)


def insert(model, rows: list[dict]) -> None:
    """Insert ``rows`` (``{attname: value}`` for every concrete field but the auto key) in one statement."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows])
        return
    fields = [field for field in model._meta.concrete_fields if field is not model._meta.auto_field]
    # Text columns first, so that one C call (itemgetter) takes them from a row; the rest each need preparing.
    text = [field for field in fields if type(field) in _TEXT_FIELDS]
    prepared = [field for field in fields if type(field) not in _TEXT_FIELDS]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in text + prepared)
    statement = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    text_values = operator.itemgetter(*(field.attname for field in text))
    started = time.monotonic()
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # The psycopg cursor under Django's wrapper: Django's has no COPY.
        with cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    (*text_values(row), *[field.get_db_prep_save(row[field.attname], connection) for field in prepared])
                )
    if connection.queries_logged:
        # As Django's debug cursor logs its statements, so that query counts (tests, debug tools) see this one.
        connection.queries_log.append({"sql": statement, "time": f"{time.monotonic() - started:.3f}"})
