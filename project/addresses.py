"""The address a request came from: ``REMOTE_ADDR``, or behind ``TRUSTED_PROXY_COUNT`` reverse proxies the address
the nearest trusted one received from. The rate limits count by it (``oauth.throttling``), and ``/metrics`` admits
by it (``observability.access``)."""

import ipaddress

from project.conf import ubi_settings


def client_address(request) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The caller's address, ``None`` when it is no address.

    Behind N trusted proxies, it is the N-th entry from the right of ``X-Forwarded-For`` (each proxy appends the
    address it received from); entries further left are the client's to invent. An IPv4 address wrapped in IPv6
    (``::ffff:192.0.2.7``) is the IPv4 address.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = ubi_settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [item.strip() for item in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if item.strip()]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed
