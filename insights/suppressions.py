"""The people whose tracking an organisation suppressed, and the documents of theirs that ingestion leaves out.

An erasure may suppress its subject (``lifecycle.erasure``; Segment's "suppress and delete"): from then on, a query
or event of that organisation whose ``user_id``, ``client_id`` or ``session_id`` is the subject's is acknowledged
like any other (a client cannot tell, and has no reason to retry) but not stored. Deleting the suppression (the
admin) lets them in again.

The list holds a digest of each value, SHA-256 of the organisation, the kind and the value, never the value. It is
unkeyed on purpose: ingestion must recognise the value at every request, so whoever can read the list can also
test a guessed value against it, whatever key the digest had; and a key that could change (``SECRET_KEY``) would
let a suppression lapse without a word. The digest keeps the value from being read off the table.

The check costs nothing measurable: each process keeps every organisation's digests for
``SUPPRESSION_CACHE_SECONDS`` (one query a period per organisation that tracks), and an organisation with none,
nearly all of them, costs a dictionary look-up a request. Only an organisation with suppressions pays a digest per
value of a tracked document.
"""

import hashlib
import time

from django.db import transaction

from insights.models import Suppression
from project.conf import ubi_settings

_known: dict = {}  # {organization_id: (read at, monotonic seconds; frozenset of (kind, digest))}


def digest(organization_id, kind: str, value: str) -> str:
    return hashlib.sha256(f"{organization_id}\x00{kind}\x00{value}".encode()).hexdigest()


def suppress(organization_id, kind: str, value: str) -> bool:
    """Suppress ``kind`` = ``value`` in the organisation; False if it already was."""
    _, created = Suppression.objects.get_or_create(
        organization_id=organization_id, kind=kind, digest=digest(organization_id, kind, value)
    )
    transaction.on_commit(lambda: forget(organization_id))
    return created


def forget(organization_id) -> None:
    """Read the organisation's suppressions again at its next document (this process; the others within
    ``SUPPRESSION_CACHE_SECONDS``)."""
    _known.pop(organization_id, None)


def kept(organization_id, rows: list[dict]) -> list[dict]:
    """``rows`` (tracked documents' rows) without those of a suppressed subject of the organisation."""
    suppressed = _suppressed(organization_id)
    if not suppressed:
        return rows
    return [row for row in rows if not _names_suppressed(organization_id, row, suppressed)]


def _names_suppressed(organization_id, row: dict, suppressed: frozenset) -> bool:
    return any(
        (kind, digest(organization_id, kind, value)) in suppressed
        for kind in Suppression.KINDS
        if (value := row.get(kind)) is not None
    )


def _suppressed(organization_id) -> frozenset:
    now = time.monotonic()
    known = _known.get(organization_id)
    if known is None or now - known[0] >= ubi_settings.SUPPRESSION_CACHE_SECONDS:
        digests = frozenset(Suppression.objects.filter(organization_id=organization_id).values_list("kind", "digest"))
        known = _known[organization_id] = (now, digests)
    return known[1]
