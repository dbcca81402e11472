"""Each organisation's retention period (``lifecycle.retention``). No row means the default,
``RETENTION_DAYS_DEFAULT``, which is what ``lifecycle.retention.retention_days`` reads."""

from django.db import models

from accounts.models import Organization


class RetentionPolicy(models.Model):
    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="retention_policy")
    days = models.PositiveIntegerField(
        help_text="Queries and events older than this many days are deleted by enforce_retention (run hourly). "
        "0: kept forever."
    )
    changed = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "retention period"

    def __str__(self):
        return f"{self.days} days" if self.days else "forever"
