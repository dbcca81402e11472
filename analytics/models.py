"""Per-organisation analytics configuration.

``AnalyticsSettings`` names the UBI ``action_name`` values that mean an impression and a click: UBI leaves action
names to each site, so one organisation may log ``"view"`` where another logs ``"impression"``. No row means the
defaults, which is what ``action_names`` reads.

``JudgmentList`` and its ``Judgment`` rows are the stored results of a click model (``analytics.click_models``).
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
