"""Per-organisation analytics configuration.

``AnalyticsSettings`` names the UBI ``action_name`` values that mean an impression and a click: UBI leaves action
names to each site, so one organisation may log ``"view"`` where another logs ``"impression"``. No row means the
defaults, which is what ``action_names`` reads.

``JudgmentList`` and its ``Judgment`` rows are the stored results of a click model (``analytics.click_models``).

``SearchFact``, ``RankHour`` and ``PairDay`` are the rollups: the raw definitions of ``analytics.searches`` and
``analytics.interactions`` materialised per search, per hour and per day, kept up to date by ``analytics.rollups``
(which ``RollupRefresh``, ``RollupGap``, ``StaleRange`` and ``PairDayBacklog`` serve).
"""

import uuid
from typing import NamedTuple

from django.db import models
from django.utils import timezone

from accounts.models import Organization

DEFAULT_IMPRESSION_ACTION = "impression"
DEFAULT_CLICK_ACTION = "click"


class ActionNames(NamedTuple):
    impression: str
    click: str


class AnalyticsSettings(models.Model):
    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="analytics_settings")
    impression_action = models.CharField(
        max_length=100,
        default=DEFAULT_IMPRESSION_ACTION,
        help_text="The action_name of events that show a result at a position (event_attributes.position.ordinal).",
    )
    click_action = models.CharField(
        max_length=100,
        default=DEFAULT_CLICK_ACTION,
        help_text="The action_name of events that click a result at a position (event_attributes.position.ordinal).",
    )

    class Meta:
        verbose_name = verbose_name_plural = "analytics settings"

    def __str__(self):
        return f"Analytics settings of {self.organization}"

    def save(self, *args, **kwargs):
        """Saves, and marks the organisation's rollups stale: the action names decide every count in them. (A
        queryset's ``update`` or ``delete`` would not: change these rows one by one, as the admin does.)"""
        super().save(*args, **kwargs)
        StaleRange.objects.create(organization_id=self.organization_id)

    def delete(self, *args, **kwargs):
        StaleRange.objects.create(organization_id=self.organization_id)
        return super().delete(*args, **kwargs)


def action_names(organization_id) -> ActionNames:
    """The organisation's impression and click action names, the defaults when it has no settings row."""
    row = AnalyticsSettings.objects.filter(organization_id=organization_id).values_list(
        "impression_action", "click_action"
    ).first()
    return ActionNames(*row) if row else ActionNames(DEFAULT_IMPRESSION_ACTION, DEFAULT_CLICK_ACTION)


class JudgmentList(models.Model):
    """A list of implicit judgments computed by a click model over one organisation's interactions.

    ``parameters`` keeps what it was computed with (``maxRank``, ``minImpressions``, ``from``, ``to``,
    ``application``), so a list can be told apart from another of the same model and recomputed alike.
    """

    class Model(models.TextChoices):
        COEC = "coec", "COEC (clicks over expected clicks)"
        PBM = "pbm", "PBM (position-based model)"
        SDBN = "sdbn", "SDBN (simplified dynamic Bayesian network)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="judgment_lists")
    name = models.CharField(max_length=200)
    model = models.CharField(max_length=10, choices=Model.choices)
    parameters = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=300, help_text="The principal that computed it: client:ID or user:ID.")
    judgment_count = models.PositiveIntegerField(default=0)
    query_count = models.PositiveIntegerField(default=0, help_text="Distinct user queries with a judgment.")

    class Meta:
        indexes = [models.Index(fields=["organization", "-created_at"], name="judgmentlist_org_created")]

    def __str__(self):
        return f"{self.name} ({self.model})"


class Judgment(models.Model):
    """One rated (user query, object id) pair of a judgment list, with the counts the rating stands on."""

    judgment_list = models.ForeignKey(
        JudgmentList, on_delete=models.CASCADE, related_name="judgments", db_index=False
    )
    user_query = models.TextField()
    object_id = models.TextField()
    rating = models.FloatField()
    impressions = models.BigIntegerField()
    clicks = models.BigIntegerField()

    class Meta:
        # A list is read in the order it was stored: its model's, each query's judgments together.
        indexes = [models.Index(fields=["judgment_list", "id"], name="judgment_list_order")]

    def __str__(self):
        return f"{self.user_query} / {self.object_id}: {self.rating}"


class SearchFact(models.Model):
    """One search (a tracked query) with what its events say about it: ``analytics.searches.searches_sql``'s row.

    ``hits`` is the length of its hit ids (NULL without an array), ``clicks`` its click events,
    ``first_click_rank`` the lowest integral ordinal of its clicks, ``shown`` and ``abandoned`` 0 or 1."""

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    query_id = models.CharField(max_length=100)
    timestamp = models.DateTimeField()
    application = models.CharField(max_length=100, null=True)
    user_query = models.TextField()
    hits = models.IntegerField(null=True)
    clicks = models.BigIntegerField()
    first_click_rank = models.IntegerField(null=True)
    shown = models.SmallIntegerField()
    abandoned = models.SmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "query_id"], name="searchfact_unique_query_id"),
        ]
        indexes = [
            models.Index(fields=["organization", "timestamp"], name="searchfact_org_time"),
            models.Index(fields=["organization", "application", "timestamp"], name="searchfact_org_app_time"),
        ]


class RankHour(models.Model):
    """The impressions and clicks at one rank of one application in one UTC hour (``analytics.interactions``,
    each interaction in the hour of its own timestamp)."""

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    hour = models.DateTimeField()
    application = models.CharField(max_length=100, null=True)
    rank = models.IntegerField()
    impressions = models.BigIntegerField()
    clicks = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["organization", "hour"], name="rankhour_org_hour")]


class PairDay(models.Model):
    """The impressions and clicks of one (user query, object id) at one rank of one application in one UTC day.
    ``user_query`` is NULL for interactions without one: they count in their rank's totals."""

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateTimeField()
    application = models.CharField(max_length=100, null=True)
    user_query = models.TextField(null=True)
    object_id = models.TextField()
    rank = models.IntegerField()
    impressions = models.BigIntegerField()
    clicks = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["organization", "day"], name="pairday_org_day")]


class RollupRefresh(models.Model):
    """The latest refresh of the rollups: the highest query and event ids it read, and when."""

    id = models.BigAutoField(primary_key=True)
    taken_at = models.DateTimeField()
    query_id_seen = models.BigIntegerField()
    event_id_seen = models.BigIntegerField()


class RollupGap(models.Model):
    """Ids ``low`` to ``high`` of the queries or events (``source``, the table) that a refresh found missing below
    the highest id it read: rows of transactions not committed yet, which the next refreshes count when they
    appear, until ``ANALYTICS_LATE_COMMIT_SECONDS`` after ``opened_at`` (then the ids are taken to be rolled back)."""

    id = models.BigAutoField(primary_key=True)
    source = models.CharField(max_length=40, help_text="The table: insights_query or insights_event.")
    low = models.BigIntegerField()
    high = models.BigIntegerField()
    opened_at = models.DateTimeField()


class StaleRange(models.Model):
    """An organisation's rollups of ``[start, end)`` (no bound: all of time) to rebuild on the next refresh."""

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField(null=True)
    end = models.DateTimeField(null=True)


class PairDayBacklog(models.Model):
    """An organisation's ``PairDay`` rows of ``[start, end)`` (whole UTC days; no bound: all of time) found out of
    date by a refresh that did not rebuild them (a read that needs no pair counts): the next refresh that reads
    pairs rebuilds them."""

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField(null=True)
    end = models.DateTimeField(null=True)
