"""Who may read ``/metrics``: a caller from one of ``METRICS_ALLOWED_NETWORKS`` (its address as the rate limits
see it, behind ``TRUSTED_PROXY_COUNT`` proxies), or one presenting ``METRICS_BEARER_TOKEN``. The metrics say how
busy the deployment is and which errors it meets: an operator's, not the public's."""

import ipaddress

from django.utils.crypto import constant_time_compare

from project.addresses import client_address
from project.conf import ubi_settings


def may_scrape(request) -> bool:
    token = ubi_settings.METRICS_BEARER_TOKEN
    if token:
        scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "bearer" and constant_time_compare(given.strip(), token):
            return True
    address = client_address(request)
    return address is not None and any(address in network for network in allowed_networks())


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``METRICS_ALLOWED_NETWORKS`` parsed (``observability.checks`` refuses a start with one that is not)."""
    return [ipaddress.ip_network(network, strict=False) for network in ubi_settings.METRICS_ALLOWED_NETWORKS]
