"""Writes on organisations, users and app clients. The admin and the manage.py commands both call these."""

from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from accounts import audit, totp
from accounts.models import AppClient, AuditEvent, Organization, Role, SsoDomain, SsoProvider, User
from project.errors import Conflict, InvalidInput


class UnknownRoles(InvalidInput):
    """Role names that no role has, refused under the input ``roles``."""

    code = "unknown_roles"

    def __init__(self, missing: set[str]):
        message = f"Unknown role(s): {', '.join(sorted(missing))}"
        super().__init__({"roles": [message]}, detail=message)


def roles_by_name(names: list[str]) -> list[Role]:
    wanted = {name.strip() for name in names if name.strip()}
    roles = list(Role.objects.filter(name__in=wanted))
    missing = wanted - {role.name for role in roles}
    if missing:
        raise UnknownRoles(missing)
    return roles


def organization_get_or_create(*, name: str) -> Organization:
    organization, created = Organization.objects.get_or_create(name=name)
    if created:
        audit.record(AuditEvent.Action.CREATED, organization, changes=audit.field_changes(organization, ["name"]))
    return organization


@dataclass(frozen=True)
class NewAppClient:
    """A client just created, with its secret in clear: the only moment anyone sees it."""

    client: AppClient
    client_secret: str


def set_new_client_secret(client: AppClient) -> str:
    """Give ``client`` a fresh random secret (hashed when saved) and return it in clear, for showing once."""
    secret = generate_client_secret()
    client.client_secret = secret
    client.hash_client_secret = True
    return secret


@transaction.atomic
def app_client_create(
    *, organization: Organization, name: str, roles: list[str], rate_limit: str = ""
) -> NewAppClient:
    """A confidential machine client for the client-credentials grant. The secret is stored only as a hash.
    ``rate_limit`` (``"500/s"``; empty: the default) bounds its API calls; a malformed one is ``ValidationError``."""
    client = AppClient(
        organization=organization,
        name=name,
        client_type=AppClient.CLIENT_CONFIDENTIAL,
        authorization_grant_type=AppClient.GRANT_CLIENT_CREDENTIALS,
        rate_limit=rate_limit,
    )
    secret = set_new_client_secret(client)
    _save_client(client, roles=roles)
    return NewAppClient(client=client, client_secret=secret)


@transaction.atomic
def public_client_create(
    *,
    organization: Organization,
    name: str,
    redirect_uris: list[str],
    roles: list[str] = (),
    require_authorization_code_flow: bool = False,
    allow_password_grant: bool = False,
    rate_limit: str = "",
) -> AppClient:
    """A public client for people: the authorization-code flow with PKCE to ``redirect_uris``, and the password
    grant only with ``allow_password_grant`` (RFC 9700 §2.4). It has no secret. Raises ``ValidationError`` for a
    missing or malformed redirect URI, an ``http`` one to another host than this machine, or the password grant
    asked for with ``require_authorization_code_flow``; ``UnknownRoles`` for an unknown role."""
    client = AppClient(
        organization=organization,
        name=name,
        client_type=AppClient.CLIENT_PUBLIC,
        authorization_grant_type=AppClient.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(redirect_uris),
        require_authorization_code_flow=require_authorization_code_flow,
        allow_password_grant=allow_password_grant,
        rate_limit=rate_limit,
    )
    _save_client(client, roles=roles)
    return client


def _save_client(client: AppClient, *, roles: list[str]) -> None:
    client.full_clean()
    client.save()
    client.roles.set(roles_by_name(list(roles)))
    audit.record(AuditEvent.Action.CREATED, client, changes=audit.field_changes(client, CLIENT_CREATION_FIELDS))


CLIENT_CREATION_FIELDS = (
    "name", "client_type", "authorization_grant_type", "roles", "redirect_uris", "require_authorization_code_flow",
    "allow_password_grant", "rate_limit",
)


@transaction.atomic
def tokens_revoke_all(*, client: AppClient | None = None, user=None, reason: str = "") -> None:
    """End every token of a client or a user: deactivated, or (a user) signed in with a password, role or second factor that has changed.

    Deleting the access-token rows is what puts them on the revocation list every server process checks. One
    audit event on the principal counts what ended, with ``reason`` when given; none when it held nothing.
    """
    owner = {"application": client} if client is not None else {"user": user}
    refresh_tokens = get_refresh_token_model().objects.filter(revoked__isnull=True, **owner).update(
        revoked=timezone.now()
    )
    access_token_model = get_access_token_model()
    _total, deleted = access_token_model.objects.filter(**owner).delete()
    access_tokens = deleted.get(access_token_model._meta.label, 0)
    if access_tokens or refresh_tokens:
        changes = {"access_tokens": access_tokens, "refresh_tokens": refresh_tokens}
        if reason:
            changes["reason"] = reason
        audit.record(AuditEvent.Action.REVOKED, client if client is not None else user, changes=changes)


def users_tokens_revoke(users, *, reason: str) -> None:
    """``tokens_revoke_all`` for each of ``users`` (a queryset) that holds a token: one audit event each."""
    access_tokens = get_access_token_model().objects.filter(user__in=users)
    refresh_tokens = get_refresh_token_model().objects.filter(user__in=users, revoked__isnull=True)
    holders = {*access_tokens.values_list("user_id", flat=True), *refresh_tokens.values_list("user_id", flat=True)}
    for user in User.objects.filter(pk__in=holders):
        tokens_revoke_all(user=user, reason=reason)


def principal_saved(sender, instance, created, **kwargs):
    """``post_save`` of ``User`` and ``AppClient``: a principal saved inactive loses every token at once.

    Whatever deactivates it (the admin, a command, the shell) saves the model, so its tokens end however it was
    done. Inactive principals hold no token afterwards, so saving one again finds nothing to delete.
    """
    if not created and not instance.is_active:
        tokens_revoke_all(**({"client": instance} if isinstance(instance, AppClient) else {"user": instance}))


# What a user's tokens were issued on (attributes): a change to any of these ends them (``user_saving``).
TOKEN_BASIS_FIELDS = ("password_changed_at", "organization_id", "is_service_account")
# The same as ``save(update_fields=...)`` may name them.
_TOKEN_BASIS_NAMES = frozenset({*TOKEN_BASIS_FIELDS, "organization"})


def user_saving(sender, instance, raw=False, update_fields=None, **kwargs):
    """``pre_save`` of ``User``: a new password, a move to another organisation or the end of a service account
    (which kept the password under mandatory single sign-on) ends the user's tokens.

    A signal because Django's admin sets a password with its own form (``User.set_password``, then ``save()``) and
    edits the other fields with the model form, calling no service of ours; comparing with the stored row catches
    every way. A hasher upgrade at sign-in saves the same password rehashed, ``update_fields=["password"]``: not a
    change (``password_changed_at`` is what ``User.set_password`` moves).
    """
    if raw or instance.pk is None or (update_fields is not None and _TOKEN_BASIS_NAMES.isdisjoint(update_fields)):
        return
    stored = User.objects.filter(pk=instance.pk).values(*TOKEN_BASIS_FIELDS).first()
    if stored is None:
        return
    changed = [name for name in TOKEN_BASIS_FIELDS if stored[name] != getattr(instance, name)]
    if changed == ["is_service_account"] and instance.is_service_account:
        return  # becoming a service account takes nothing away
    if changed:
        tokens_revoke_all(user=instance, reason=f"changed: {', '.join(changed)}")


def user_roles_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """``m2m_changed`` of ``User.roles``: a user who loses a role loses their tokens, which carry it.

    A signal because the admin's forms change roles through the relation (``roles.set`` on the user's side, and
    the role's ``users`` on the other), calling no service of ours.
    """
    if action == "post_remove":
        users = User.objects.filter(pk=instance.pk) if not reverse else User.objects.filter(pk__in=pk_set)
    elif action == "pre_clear":
        users = User.objects.filter(pk=instance.pk) if not reverse else instance.users.all()
    else:
        return
    users_tokens_revoke(users, reason="roles removed")


def sso_saved(sender, instance, **kwargs):
    """``post_save`` of ``SsoProvider`` and ``SsoDomain``: while single sign-on is mandatory, saving the provider
    or one of its domains ends the tokens of its organisation's people in those domains (service accounts keep
    theirs, as they keep their passwords). Their next sign-in goes through the provider as it now is; a refresh
    token of a sign-in begun before the provider's last change is refused anyway (``oauth.validators``).

    A signal because the admin saves a provider and its domains with its own forms, and ``configure_sso`` saves the
    provider before its domains.
    """
    provider = instance if isinstance(instance, SsoProvider) else instance.provider
    if not provider.mandatory:
        return
    if isinstance(instance, SsoDomain):
        domains = [instance.domain]
    else:
        domains = provider.domains.values_list("domain", flat=True)
    addresses = Q()
    for domain in domains:
        addresses |= Q(email__iendswith=f"@{domain}")
    if addresses:
        people = User.objects.filter(addresses, organization_id=provider.organization_id, is_service_account=False)
        users_tokens_revoke(people, reason="single sign-on mandatory")


@transaction.atomic
def user_create(
    *,
    organization: Organization,
    email: str,
    password: str | None,
    roles: list[str] = (),
    is_service_account: bool = False,
    full_name: str = "",
) -> User:
    """A person or service account of ``organization``. ``password=None`` makes an account with no usable
    password, one that signs in through its organisation's identity provider only (``accounts.sso_providers``). Raises
    ``ValidationError`` when the password fails the password validators or the email is taken, ``UnknownRoles``
    for an unknown role."""
    user = User(organization=organization, email=User.objects.normalize_email(email).lower(), full_name=full_name)
    user.is_service_account = is_service_account
    if password is None:
        user.set_unusable_password()
    else:
        validate_password(password, user)
        user.set_password(password)
    user.full_clean()
    user.save()
    user.roles.set(roles_by_name(list(roles)))
    audited = ["email", "roles", "is_service_account", *(["full_name"] if full_name else [])]
    audit.record(AuditEvent.Action.CREATED, user, changes=audit.field_changes(user, audited))
    return user


def password_change(user: User, *, new_password: str) -> None:
    """The user's own change (the login page offers it when the password has expired); the tokens issued before
    end (``user_saving``, which sees every password change). Raises ``ValidationError`` when the new password fails
    the validators or is the current one."""
    if user.check_password(new_password):
        raise ValidationError("The new password must differ from the current one.", code="password_unchanged")
    validate_password(new_password, user)
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "password_changed_at", "must_change_password"])
    audit.record(AuditEvent.Action.CHANGED, user, changes={"fields": ["password"]}, actor=user)


def totp_begin_enrolment(user: User) -> str:
    """Give ``user`` a new, unconfirmed one-time-code secret and return it in clear, for showing once.

    Nothing changes at sign-in until ``totp_confirm`` accepts a code made from it. Refused (``Conflict``) once a
    second factor is confirmed: replacing it takes an administrator's ``totp_reset`` first.
    """
    if user.has_totp:
        raise Conflict("This account already has a confirmed second factor.")
    secret = totp.new_secret()
    user.totp_secret = totp.encrypt(secret)
    user.totp_last_step = None
    user.save(update_fields=["totp_secret", "totp_last_step"])
    return secret


def totp_confirm(user: User, *, code: str) -> bool:
    """Turn the pending secret on if ``code`` was made from it. Returns whether it was."""
    if user.has_totp or not totp_verify(user, code=code):
        return False
    user.totp_confirmed_at = timezone.now()
    user.save(update_fields=["totp_confirmed_at"])
    _record_two_step_change(user, actor=user)
    return True


def totp_enable(user: User) -> str:
    """Enrol and confirm at once (an operator's ``create_user --totp``); returns the secret, for showing once."""
    secret = totp_begin_enrolment(user)
    user.totp_confirmed_at = timezone.now()
    user.save(update_fields=["totp_confirmed_at"])
    _record_two_step_change(user)
    return secret


def totp_reset(user: User) -> None:
    """An administrator removes the second factor (a lost phone); the user can then enrol again."""
    user.totp_secret = ""
    user.totp_confirmed_at = None
    user.totp_last_step = None
    user.save(update_fields=["totp_secret", "totp_confirmed_at", "totp_last_step"])
    _record_two_step_change(user)


def _record_two_step_change(user: User, *, actor: User | None = None) -> None:
    """Every change of the second factor: recorded, and the user's tokens end (a sign-in made before a reset, or
    before the factor was added, may be a thief's)."""
    changes = {"fields": ["two_step_verification"], "two_step_verification": user.has_totp}
    audit.record(AuditEvent.Action.CHANGED, user, changes=changes, actor=actor)
    tokens_revoke_all(user=user, reason="two-step verification changed")


def totp_verify(user: User, *, code: str) -> bool:
    """Whether ``code`` is valid now for ``user``'s secret and newer than the last accepted one.

    The step is recorded with a conditional update, so of two concurrent uses of one code only one succeeds.
    """
    secret = totp.decrypt(user.totp_secret)
    step = totp.matching_step(secret, code) if secret else None
    if step is None:
        return False
    newer = Q(totp_last_step__isnull=True) | Q(totp_last_step__lt=step)
    if not User.objects.filter(newer, pk=user.pk).update(totp_last_step=step):
        return False
    user.totp_last_step = step
    return True
