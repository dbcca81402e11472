"""Per-organisation analytics configuration.

``AnalyticsSettings`` names the UBI ``action_name`` values that mean an impression and a click: UBI leaves action
names to each site, so one organisation may log ``"view"`` where another logs ``"impression"``. No row means the
defaults, which is what ``action_names`` reads.
"""

from typing import NamedTuple

from django.db import models

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
