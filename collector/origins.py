"""Origins as an ingest key lists them: ``scheme://host[:port]``, compared exactly with a browser's ``Origin``."""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(text: str) -> str:
    """``text`` as a browser writes it in ``Origin`` (RFC 6454 §6.1): lowercase scheme and host, the port only when
    it is not the scheme's default, nothing after. Raises ``ValueError`` for anything else: a path, a query, user
    information, another scheme, no host."""
    if not isinstance(text, str) or text != text.strip() or not text:
        raise ValueError(f"{text!r} is not an origin: write scheme://host[:port].")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError(f"{text!r} is not an origin: the port is not a number from 0 to 65535.") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(f"{text!r} is not an origin: the scheme must be http or https.")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise ValueError(f"{text!r} is not an origin: write scheme://host[:port], with a host and no user.")
    if parts.path or parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ValueError(f"{text!r} is not an origin: no path, query or fragment (not even a final /).")
    host = parts.hostname.lower()
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"{scheme}://{host}" if port in (None, DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def validate_origins(value) -> None:
    """Model-field validator of ``IngestKey.allowed_origins``: a list of origins, each written as a browser sends
    it (``normalize_origin``), so that the exact comparison with ``Origin`` matches."""
    if not isinstance(value, list):
        raise ValidationError("A list of origins.", code="invalid_origins")
    problems = []
    for origin in value:
        try:
            normalized = normalize_origin(origin)
        except ValueError as error:
            problems.append(str(error))
            continue
        if normalized != origin:
            problems.append(f"{origin!r}: write it as {normalized!r}, as a browser sends it.")
    if problems:
        raise ValidationError(problems, code="invalid_origins")
