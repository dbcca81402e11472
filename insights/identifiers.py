"""The uniqueness of ``(organization, event_id)`` and ``(organization, query_id)`` over partitioned tables.

PostgreSQL keeps a unique index of a partitioned table only if it holds the partition key (``timestamp``), which
would let a document reuse an identifier with another timestamp. So beside each partitioned table an unpartitioned
one, ``<table>_identifier``, holds every row's organisation, identifier, timestamp and fingerprint under a primary
key on the first two. Statement-level triggers of the partitioned table keep it in step: after an ``INSERT`` or
``COPY`` one ``INSERT ... SELECT`` from the statement's transition table writes the new rows' identifiers, so a
reused one raises the unique violation (``IntegrityError``) within the very statement that inserted it, as the
unique constraint of a plain table does; deletes, updates and ``TRUNCATE`` follow likewise. Inserting into a
partition directly, rather than into the partitioned table, bypasses them: nothing does.

The fingerprint is there so that a retry is told from a conflict by reading this table alone
(``stored_fingerprints``): the partitioned table needs no index on the identifier.
"""

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from insights import partitions


def stored_fingerprints(model, id_field: str, organization_id, identifiers) -> dict[str, str]:
    """``{identifier: fingerprint}`` of those of ``identifiers`` already stored in ``model``'s table for the
    organisation."""
    if not partitions.is_partitioned(model):
        return dict(
            model.objects.filter(
                organization_id=organization_id, **{f"{id_field}__in": set(identifiers)}
            ).values_list(id_field, "fingerprint")
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "{id_field}", fingerprint FROM "{model._meta.db_table}_identifier" '
            f'WHERE organization_id = %s AND "{id_field}" = ANY(%s)',
            [organization_id, list(set(identifiers))],
        )
        return dict(cursor.fetchall())


def matching(model, id_field: str, identifier: str) -> Q:
    """The rows of ``model`` whose ``id_field`` is ``identifier``, for a filter the partitioned table has no index
    for: there, the identifiers table gives their timestamps, which the ``(organization, timestamp)`` index finds."""
    found = Q(**{id_field: identifier})
    if not partitions.is_partitioned(model):
        return found
    timestamps = RawSQL(
        f'SELECT "timestamp" FROM "{model._meta.db_table}_identifier" WHERE "{id_field}" = %s', [identifier]
    )
    return found & Q(timestamp__in=timestamps)


def create_sql(table: str, id_field: str) -> list[str]:
    """The statements that make ``table``'s identifiers table, fill it from ``table``, and add its triggers."""
    identifier = f"{table}_identifier"
    columns = f'organization_id, "{id_field}", "timestamp", fingerprint'
    same_row = f'identifier.organization_id = gone.organization_id AND identifier."{id_field}" = gone."{id_field}"'
    return [
        f'CREATE TABLE "{identifier}" AS SELECT {columns} FROM "{table}" WITH NO DATA',
        f'ALTER TABLE "{identifier}" ALTER "timestamp" SET NOT NULL, ALTER fingerprint SET NOT NULL',
        f'INSERT INTO "{identifier}" ({columns}) SELECT {columns} FROM "{table}"',
        f'ALTER TABLE "{identifier}" ADD CONSTRAINT "{identifier}_pkey" PRIMARY KEY (organization_id, "{id_field}")',
        f"""CREATE FUNCTION "{identifier}_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO "{identifier}" ({columns}) SELECT {columns} FROM inserted;
    RETURN NULL;
END $$""",
        f"""CREATE FUNCTION "{identifier}_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM "{identifier}" AS identifier USING deleted AS gone WHERE {same_row};
    RETURN NULL;
END $$""",
        f"""CREATE FUNCTION "{identifier}_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM "{identifier}" AS identifier USING deleted AS gone WHERE {same_row};
    INSERT INTO "{identifier}" ({columns}) SELECT {columns} FROM inserted;
    RETURN NULL;
END $$""",
        f"""CREATE FUNCTION "{identifier}_truncate"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE "{identifier}";
    RETURN NULL;
END $$""",
        f'CREATE TRIGGER "{identifier}_insert" AFTER INSERT ON "{table}" REFERENCING NEW TABLE AS inserted '
        f'FOR EACH STATEMENT EXECUTE FUNCTION "{identifier}_insert"()',
        f'CREATE TRIGGER "{identifier}_delete" AFTER DELETE ON "{table}" REFERENCING OLD TABLE AS deleted '
        f'FOR EACH STATEMENT EXECUTE FUNCTION "{identifier}_delete"()',
        f'CREATE TRIGGER "{identifier}_update" AFTER UPDATE ON "{table}" '
        f"REFERENCING OLD TABLE AS deleted NEW TABLE AS inserted "
        f'FOR EACH STATEMENT EXECUTE FUNCTION "{identifier}_update"()',
        f'CREATE TRIGGER "{identifier}_truncate" AFTER TRUNCATE ON "{table}" '
        f'FOR EACH STATEMENT EXECUTE FUNCTION "{identifier}_truncate"()',
    ]


def drop_sql(table: str) -> list[str]:
    """The statements that remove ``table``'s identifiers table and its trigger functions (and so the triggers)."""
    identifier = f"{table}_identifier"
    return [f'DROP TABLE "{identifier}"'] + [
        f'DROP FUNCTION "{identifier}_{action}"() CASCADE' for action in ("insert", "delete", "update", "truncate")
    ]
