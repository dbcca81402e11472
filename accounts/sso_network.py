"""Where the platform may send requests for single sign-on: the issuer an organisation configures, and the
endpoints its discovery document names (issue 16, finding 11).

Organisation staff choose the issuer, so the server's requests to it (discovery, JWKS, the code exchange) must not
become a way to reach what only the server can: its own loopback services, the private network behind it, a cloud
metadata address. A URL passes when it is ``https://`` and every address its host resolves to is public; the
``SSO_ALLOW_PRIVATE_NETWORKS`` setting (development, tests, a provider inside the company network) lets private,
loopback and link-local addresses through, and ``http://`` for a loopback address only.

The check is made when the provider is configured (model validation), on the discovery document, and again before
every request (``oauth.sso_sign_in``), since a name may resolve elsewhere later.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from project.conf import ubi_settings


def check_provider_url(url: str, *, name: str, must_resolve: bool) -> None:
    """``ValidationError`` unless the platform may send requests to ``url``; ``name`` says which URL in the message.

    A host name that does not resolve passes when ``must_resolve`` is false (a provider may be configured before
    this server can reach it); its addresses are checked again before each request, where it must resolve.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError(f"{name} must be an https:// URL.", code="insecure")
    allow_private = ubi_settings.SSO_ALLOW_PRIVATE_NETWORKS
    addresses = _addresses(parts.hostname)
    loopback = bool(addresses) and all(address.is_loopback for address in addresses)
    if parts.scheme == "http" and not (allow_private and loopback):
        raise ValidationError(
            f"{name} must be an https:// URL (http:// only for a loopback address, with SSO_ALLOW_PRIVATE_NETWORKS).",
            code="insecure",
        )
    if addresses is None and must_resolve:
        raise ValidationError(f"{name}'s host {parts.hostname} cannot be resolved.", code="unresolved")
    private = [address for address in addresses or () if not _is_public(address)]
    if private and not allow_private:
        raise ValidationError(
            f"{name} is on a private, loopback or link-local address ({private[0]}); single sign-on reaches public "
            "addresses only, unless SSO_ALLOW_PRIVATE_NETWORKS is on.",
            code="private",
        )


def _addresses(host: str) -> list | None:
    """Every address ``host`` stands for (itself, for an IP literal); ``None`` when the name does not resolve."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return None
    return [ipaddress.ip_address(info[4][0]) for info in found]


def _is_public(address) -> bool:
    """Globally routable unicast: not private, loopback, link-local, shared (CGNAT), reserved or multicast; an
    IPv4-mapped IPv6 address is judged by its IPv4 address."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_global and not address.is_multicast
