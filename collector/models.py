"""Ingest keys: publishable, write-only keys a browser's collector posts with (docs/collector.md)."""

import secrets

from django.db import models
from django.utils import timezone

from accounts.models import Organization
from collector.origins import validate_origins
from project.rates import validate_rate

KEY_PREFIX = "ubi_pk_"


def new_key() -> str:
    """A new key: the prefix says what it is (a public key, not a secret), 32 random URL-safe characters."""
    return KEY_PREFIX + secrets.token_urlsafe(24)


class IngestKey(models.Model):
    """A key that tracks queries and events for one application of one organisation, from the listed origins.

    It is public: it sits in the pages' source. What it can do is therefore narrow: track documents of its own
    application, at its own rate, from browsers of its own origins; never read, never reach another application or
    organisation, never get a token. Revoking it (``is_active`` off, or deleting it) takes effect at once in every
    process (``collector.keys``).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="ingest_keys")
    application = models.CharField(
        max_length=100, help_text="The UBI application of every document tracked with it."
    )
    key = models.CharField(max_length=64, unique=True, default=new_key, editable=False)
    allowed_origins = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_origins],
        help_text="The origins (scheme://host[:port]) of the pages that may post with it. None: no browser may.",
    )
    rate_limit = models.CharField(
        max_length=20,
        blank=True,
        validators=[validate_rate],
        help_text="Requests allowed with it, e.g. 50/s or 3000/min. Empty: COLLECTOR_RATE_LIMIT_PER_KEY.",
    )
    is_active = models.BooleanField(default=True, help_text="Off: every request with it is refused, at once.")
    name = models.CharField(max_length=200, blank=True, help_text="What it is for, e.g. the site it is on.")
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "ingest key"
        ordering = ["organization", "application", "-created"]

    def __str__(self):
        return f"{self.name or self.application} ({self.key})"
