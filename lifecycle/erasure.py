"""Erasure of one person's data (GDPR Art. 17): everything tracked for a ``user_id``, ``client_id`` or
``session_id`` in one organisation.

What goes:

- every event whose ``kind`` field is the value;
- for ``client_id``, every query tracked with that ``client_id`` (queries have no ``user_id`` or ``session_id``);
- every query those events refer to (``query_id``) that no event of anybody else refers to: once the person's events
  are gone, nothing ties such a query to anyone else, and its text is the person's search. A query that another
  person's (or an anonymous) event also refers to stays, with those events.

It runs in one transaction (one person's rows), answers how many rows went, and running it again finds nothing
and deletes nothing. The audit trail keeps the kind and a digest of the value, never the value: HMAC-SHA256 keyed
by the project's ``SECRET_KEY`` (``subject_digest``). A plain SHA-256 of an email address or a numeric id is
reversed by hashing the likely candidates; the keyed digest cannot be without the key, while whoever holds it can
still answer "was this person's data erased, and when?" by computing it again. The analytics aggregates of the
span the rows covered are rebuilt (``lifecycle.aggregates``).

With ``suppress``, the subject's further documents are acknowledged and not stored (``insights.suppressions``), in
the same transaction as the erasure, so that nothing tracked between the two is kept.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Max, Min
from django.utils.crypto import salted_hmac

from accounts import audit
from accounts.models import AppClient, AuditEvent, User
from insights import suppressions
from insights.models import Event, Query, Suppression
from insights.parameters import clean_flag
from insights.validation import Errors, storage_problem
from lifecycle import aggregates
from oauth.principals import Principal, require_role
from oauth.tokens import CLIENT, USER

ERASE_ROLE = "insights:erase"
KINDS = Suppression.KINDS
SUBJECT_OBJECT = "subject"
DIGEST_SALT = "lifecycle.erasure.subject"
# Query ids looked up per statement.
LOOKUP_BATCH = 1000


@dataclass(frozen=True)
class Erased:
    queries: int
    events: int
    suppressed: bool = False  # the subject's further documents are not stored


def erase_subject(principal: Principal, *, kind, value, suppress: bool | str | None = False) -> Erased:
    """Delete everything the principal's organisation tracked for ``kind`` = ``value`` (module docstring); the
    numbers of queries and events deleted. With ``suppress``, store none of the subject's documents from then on.
    Audited with a digest of the value.

    Raises ``PermissionDenied`` without ``insights:erase``, ``InvalidInput`` keyed ``kind`` for a kind not in
    ``KINDS``, keyed ``value`` for an empty or unstorable value and keyed ``suppress`` for a flag that is not
    ``true`` or ``false``.
    """
    require_role(principal, ERASE_ROLE)
    suppress = _check(kind, value, suppress)
    organization_id = principal.org_id
    events = Event.objects.filter(organization_id=organization_id, **{kind: value})
    with transaction.atomic():
        if suppress:
            suppressions.suppress(organization_id, kind, value)
        referred = set(events.exclude(query_id=None).values_list("query_id", flat=True).distinct())
        queries = _queries(organization_id, kind, value, referred)
        _mark_stale(organization_id, events, referred, queries)
        event_count, _ = events.delete()
        query_count, _ = queries.delete()
        erased = Erased(queries=query_count, events=event_count, suppressed=suppress)
        _record(principal, kind, value, erased)
    return erased


def subject_digest(organization_id, kind: str, value: str) -> str:
    """HMAC-SHA256 of the subject, keyed by ``SECRET_KEY``, as the audit trail names it (hex)."""
    return salted_hmac(DIGEST_SALT, f"{organization_id}\x00{kind}\x00{value}", algorithm="sha256").hexdigest()


def _check(kind, value, suppress) -> bool:
    """Raises ``InvalidInput`` for a bad argument; ``suppress`` as a boolean (``true``/``false`` from a query
    string)."""
    errors = Errors()
    if kind not in KINDS:
        errors.add("kind", f"One of {', '.join(KINDS)}.")
    if not isinstance(value, str) or not value:
        errors.add("value", "A non-empty string.")
    elif problem := storage_problem(value):
        errors.add("value", problem)
    suppress = clean_flag({"suppress": suppress}, "suppress", errors)
    errors.raise_if_any()
    return suppress


def _queries(organization_id, kind: str, value: str, referred: set[str]):
    """The queries to delete: the subject's own (``client_id``) and those only its events refer to."""
    others = Event.objects.filter(organization_id=organization_id).exclude(**{kind: value})
    shared = set()
    for chunk in _chunks(sorted(referred)):
        shared.update(others.filter(query_id__in=chunk).values_list("query_id", flat=True).distinct())
    own = Query.objects.filter(organization_id=organization_id)
    ids = set(own.filter(query_id__in=referred - shared).values_list("id", flat=True)) if referred - shared else set()
    if kind == "client_id":
        ids.update(own.filter(client_id=value).values_list("id", flat=True))
    return own.filter(id__in=ids)


def _mark_stale(organization_id, events, referred: set[str], queries) -> None:
    """The span of the rows that go, and of the searches whose events go: their aggregates are rebuilt."""
    spans = [events.aggregate(start=Min("timestamp"), end=Max("timestamp")), queries.aggregate(
        start=Min("timestamp"), end=Max("timestamp")
    )]
    for chunk in _chunks(sorted(referred)):
        spans.append(Query.objects.filter(organization_id=organization_id, query_id__in=chunk).aggregate(
            start=Min("timestamp"), end=Max("timestamp")
        ))
    starts = [span["start"] for span in spans if span["start"] is not None]
    if starts:
        end = max(span["end"] for span in spans if span["end"] is not None)
        aggregates.mark_erased(organization_id, min(starts), end + timedelta(microseconds=1))


def _chunks(items: list) -> list[list]:
    return [items[start : start + LOOKUP_BATCH] for start in range(0, len(items), LOOKUP_BATCH)]


def _record(principal: Principal, kind: str, value: str, erased: Erased) -> None:
    digest = subject_digest(principal.org_id, kind, value)
    audit.record_about(
        AuditEvent.Action.DELETED,
        organization_id=principal.org_id,
        object_type=SUBJECT_OBJECT,
        object_id=digest,
        object_repr=f"{kind} hmac-sha256:{digest[:16]}",
        changes={"kind": kind, "digest": digest, "queries": erased.queries, "events": erased.events,
                 "suppressed": erased.suppressed},
        actor=_actor(principal),
    )


def _actor(principal: Principal):
    """The audit trail's actor for ``principal``: its app client or user when it still exists, else its name
    (a command's ``manage.py NAME``)."""
    if principal.kind == CLIENT:
        return AppClient.objects.filter(client_id=principal.id).first() or principal.pk
    if principal.kind == USER:
        return User.objects.filter(pk=principal.id).first() or principal.pk
    return principal.client_id
