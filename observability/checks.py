"""Start-up checks of the metrics' access settings: a network that is no CIDR stops the start, rather than locking
every scraper out at the first scrape."""

from django.core import checks

from observability.access import allowed_networks


@checks.register(checks.Tags.security)
def check_metrics_networks(app_configs, **kwargs):
    try:
        allowed_networks()
    except ValueError as error:
        return [checks.Error(f"METRICS_ALLOWED_NETWORKS: {error}", id="observability.E001")]
    return []
