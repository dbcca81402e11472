"""Tracked UBI 1.3.0 queries and events, one row each, every row carrying its organisation.

Each field the UBI schema names has its own column, so lists filter and sort on indexes; whatever else a caller
sent is kept in ``extra`` and given back unchanged. ``timestamp`` is the UTC instant the lists sort and filter on;
``timestamp_as_sent`` is the string the caller sent, which is what reads give back.

Every index starts with the organisation: every read filters by it, and it is the distribution column of a
sharded (Citus) deployment. On PostgreSQL both tables are partitioned by month of ``timestamp``
(``insights.partitions``), and the uniqueness of their identifiers is kept by ``insights.identifiers``.
"""

from django.db import models

from accounts.models import Organization


class TrackedDocument(models.Model):
    """What queries and events share: the tenant, the time, the unnamed fields and the retry fingerprint."""

    # The UBI fields stored in a column of the same name; the document is rebuilt from these, the timestamp
    # and ``extra``.
    DOCUMENT_FIELDS: tuple[str, ...] = ()
    # The field that names a document within its organisation, given by the client or generated.
    ID_FIELD = ""

    # Indexes lead with the organisation, which makes its own FK index redundant.
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", db_index=False)
    timestamp = models.DateTimeField(help_text="UTC. For a query tracked without one: when it was received.")
    timestamp_as_sent = models.TextField(null=True, help_text="The UBI timestamp exactly as sent; null if absent.")
    extra = models.JSONField(default=dict, blank=True, help_text="Fields the UBI schema does not name.")
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the document as tracked, to tell retries.")

    class Meta:
        abstract = True

    @classmethod
    def row_from_document(cls, *, organization_id, document: dict, timestamp, fingerprint: str) -> dict:
        """The new row of a validated UBI document (identifier already filled in), as ``{attname: value}`` for
        ``insights.bulk.insert``: every concrete field but the auto key."""
        row = dict.fromkeys(cls.DOCUMENT_FIELDS)
        extra = {}
        for key, value in document.items():
            if key in row and value is not None:
                row[key] = value
            elif key != "timestamp":
                extra[key] = value  # a null named field too: its column stays NULL, and it reads back as null
        row.update(
            organization_id=organization_id,
            timestamp=timestamp,
            timestamp_as_sent=document.get("timestamp"),
            extra=extra,
            fingerprint=fingerprint,
        )
        return row

    def to_document(self) -> dict:
        """The UBI document as tracked: absent fields stay absent, null ones null, unnamed ones come back
        unchanged."""
        document = {name: value for name in self.DOCUMENT_FIELDS if (value := getattr(self, name)) is not None}
        if self.timestamp_as_sent is not None:
            document["timestamp"] = self.timestamp_as_sent
        document.update(self.extra)
        return document


class Query(TrackedDocument):
    """A search as a user made it (UBI ``query.request.schema.json``)."""

    ID_FIELD = "query_id"

    DOCUMENT_FIELDS = (
        "query_id",
        "application",
        "client_id",
        "user_query",
        "query_attributes",
        "object_id_field",
        "query_response_id",
        "query_response_hit_ids",
    )

    query_id = models.CharField(max_length=100)
    application = models.CharField(max_length=100, null=True)
    client_id = models.CharField(max_length=100, null=True)
    # No length limit in the schema, so no B-tree index either: PostgreSQL refuses index entries over ~2.7 kB.
    user_query = models.TextField()
    query_attributes = models.JSONField(null=True)
    object_id_field = models.CharField(max_length=100, null=True)
    query_response_id = models.TextField(null=True)
    query_response_hit_ids = models.JSONField(null=True)

    class Meta:
        verbose_name_plural = "queries"
        constraints = [
            models.UniqueConstraint(fields=["organization", "query_id"], name="ubi_query_unique_query_id"),
        ]
        indexes = [
            models.Index(fields=["organization", "timestamp"], name="ubi_query_org_time"),
            models.Index(fields=["organization", "application", "timestamp"], name="ubi_query_org_app_time"),
            models.Index(fields=["organization", "client_id", "timestamp"], name="ubi_query_org_client_time"),
        ]

    def __str__(self):
        return self.query_id


class Event(TrackedDocument):
    """Something a user did, typically after a query (UBI ``event.schema.json``).

    ``event_id`` is not a UBI field: the caller may choose it to make retries safe; otherwise it is a UUID.
    """

    ID_FIELD = "event_id"

    DOCUMENT_FIELDS = (
        "event_id",
        "application",
        "action_name",
        "query_id",
        "session_id",
        "client_id",
        "user_id",
        "message_type",
        "message",
        "user_query",
        "event_attributes",
    )

    event_id = models.CharField(max_length=100)
    application = models.CharField(max_length=100, null=True)
    action_name = models.CharField(max_length=100)
    query_id = models.CharField(max_length=100, null=True)
    session_id = models.CharField(max_length=100, null=True)
    client_id = models.CharField(max_length=100, null=True)
    user_id = models.CharField(max_length=100, null=True)
    message_type = models.CharField(max_length=100, null=True)
    message = models.CharField(max_length=1024, null=True)
    user_query = models.TextField(null=True)
    event_attributes = models.JSONField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "event_id"], name="ubi_event_unique_event_id"),
        ]
        # Every index is paid for by every tracked event (docs/data.md, "Indexes"). The lists' newest-first pages
        # and time ranges walk the first; the application and action filters, of few values each, the next two,
        # which grow at their right end as the first does (cheap to insert into); a query's events (the lists'
        # filter and analytics' joins) the last. On PostgreSQL, one GIN index of session_id, client_id and user_id
        # (insights/migrations/0005) serves those filters, which match few rows each.
        indexes = [
            models.Index(fields=["organization", "timestamp"], name="ubi_event_org_time"),
            models.Index(fields=["organization", "application", "timestamp"], name="ubi_event_org_app_time"),
            models.Index(fields=["organization", "action_name", "timestamp"], name="ubi_event_org_action_time"),
            models.Index(fields=["organization", "query_id", "timestamp"], name="ubi_event_org_query_time"),
        ]

    def __str__(self):
        return self.event_id


class Suppression(models.Model):
    """A person whose further tracking the organisation refused when it erased their data (``lifecycle.erasure``):
    ingestion stores none of their documents (``insights.suppressions``). The value is kept as a digest only."""

    KINDS = ("user_id", "client_id", "session_id")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=[(kind, kind) for kind in KINDS])
    digest = models.CharField(max_length=64, help_text="SHA-256 of the organisation, the kind and the value (hex).")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "digest"], name="ubi_suppression_unique"),
        ]

    def __str__(self):
        return f"{self.kind} sha256:{self.digest[:16]}"


class Maintenance(models.Model):
    """The maintenance switch an administrator flips at run time (admin, ``manage.py maintenance``): one row.

    It is in the database because that is what every server process, on every machine, already shares; read
    through ``insights.maintenance``. No row means off.
    """

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    on = models.BooleanField(default=False, help_text="While on, tracking answers 503 / UNAVAILABLE; reads go on.")
    changed = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "maintenance mode"

    def __str__(self):
        return f"Maintenance mode {'on' if self.on else 'off'}"
