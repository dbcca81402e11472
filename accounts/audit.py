"""The audit trail: who created, changed, deleted or revoked clients, roles, users, organisations and tokens.

``record`` writes one ``AuditEvent``. The services call it, so every door that goes through them (the admin,
manage.py commands, the token revocation endpoint, deactivation) leaves the same rows; ``AuditedAdmin`` records
what the admin saves and deletes by itself. The actor is whoever the entry point names with ``acting``: the admin's
user, a command (``AuditedCommand``), the owner of a revoked token; with nobody named it is ``system``.

Issuing a token is not recorded. The token endpoint is the hot path: a row per token would double its writes and
soon outgrow every other table, and each issued token is an ``AccessToken`` row (client, user, created) until it
ends anyway. Ending one early, its revocation, is recorded.
"""

import contextlib
import contextvars

from django.core.exceptions import FieldDoesNotExist
from django.core.management.base import BaseCommand
from django.db.models import Model
from oauth2_provider.models import AbstractAccessToken, AbstractGrant, AbstractIDToken, AbstractRefreshToken

from accounts.models import AppClient, AuditEvent, Organization, User

SYSTEM = "system"

# Fields whose new value is worth reading and safe to keep. Any other changed field is named without its value,
# so a password, a secret or a hash never reaches the trail.
SHOWN_FIELDS = frozenset({
    "name", "email", "full_name", "organization", "roles", "default_roles", "description",
    "is_active", "is_staff", "is_superuser", "is_service_account", "must_change_password", "rate_limit",
    "client_type", "authorization_grant_type", "redirect_uris", "require_authorization_code_flow",
    "skip_authorization", "issuer", "client_id", "mandatory", "provision_users", "password_max_age_days",
    "two_step_verification", "application", "allowed_origins", "key",
})

# Their ``str()`` is the token or code itself.
_CREDENTIAL_MODELS = (AbstractAccessToken, AbstractRefreshToken, AbstractGrant, AbstractIDToken)

_actor = contextvars.ContextVar("audit_actor", default=None)


@contextlib.contextmanager
def acting(actor: User | AppClient | str):
    """Name the actor of every record written inside the block: a user, an app client, or a label."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def record(
    action: AuditEvent.Action, obj: Model, *, changes: dict | None = None, actor: User | AppClient | str | None = None
) -> AuditEvent:
    """Write one event about ``obj``, in ``obj``'s organisation, by ``actor`` (default: the one ``acting`` named).

    Call it before a deletion: afterwards the object has no primary key.
    """
    return record_about(
        action,
        organization_id=organization_id_of(obj),
        object_type=str(obj._meta.verbose_name),
        object_id=str(obj.pk),
        object_repr=describe(obj),
        changes=changes,
        actor=actor,
    )


def record_about(
    action: AuditEvent.Action,
    *,
    organization_id,
    object_type: str,
    object_id: str,
    object_repr: str,
    changes: dict | None = None,
    actor: User | AppClient | str | None = None,
) -> AuditEvent:
    """Write one event about something that has no row of its own to point at (a person's erased data, an
    offboarded organisation, expired rows): named by the caller, in ``organization_id`` (``None``: platform-wide)."""
    return AuditEvent.objects.create(
        action=action,
        organization_id=organization_id,
        object_type=object_type,
        object_id=object_id[:100],
        object_repr=object_repr[:300],
        changes=changes or {},
        **_actor_fields(actor if actor is not None else _actor.get()),
    )


def field_changes(obj: Model, names) -> dict:
    """``{"fields": [...]}`` naming the changed fields, plus the new value of each one in ``SHOWN_FIELDS``."""
    names = sorted(set(names))
    return {"fields": names, **{name: _value(obj, name) for name in names if name in SHOWN_FIELDS}}


def organization_id_of(obj: Model):
    """The tenant ``obj`` belongs to; ``None`` for platform-wide objects (roles), which only superusers see."""
    if isinstance(obj, Organization):
        return obj.pk
    if hasattr(obj, "organization_id"):
        return obj.organization_id
    if isinstance(obj, _CREDENTIAL_MODELS) and obj.application_id is not None:
        return obj.application.organization_id
    return None


def describe(obj: Model) -> str:
    if isinstance(obj, _CREDENTIAL_MODELS):
        owner = obj.user or obj.application
        return f"{obj._meta.verbose_name} {obj.pk} of {owner}"
    return str(obj)


def owner_of(token: AbstractAccessToken | AbstractRefreshToken) -> User | AppClient:
    """Who a token speaks for: its user, or its client for the client-credentials grant."""
    return token.user or token.application


def _value(obj: Model, name: str):
    try:
        field = obj._meta.get_field(name)
    except FieldDoesNotExist:  # a computed admin field, such as two_step_verification
        return getattr(obj, name, None)
    if field.many_to_many:
        return sorted(str(related) for related in getattr(obj, name).all())
    if field.is_relation:
        return str(getattr(obj, name))
    return getattr(obj, name)


def _actor_fields(actor) -> dict:
    if isinstance(actor, User):
        return {"actor": actor.email, "actor_user": actor}
    if isinstance(actor, AppClient):
        return {"actor": f"{actor.name} ({actor.client_id})", "actor_client": actor}
    return {"actor": actor or SYSTEM}


class AuditedCommand(BaseCommand):
    """A manage.py command whose writes are recorded as ``manage.py <name>``."""

    def execute(self, *args, **options):
        with acting(f"manage.py {self.__module__.rpartition('.')[2]}"):
            return super().execute(*args, **options)
