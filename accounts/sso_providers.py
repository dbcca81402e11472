"""Single sign-on settings of an organisation, and the accounts its identity provider signs in.

Writes and reads of ``SsoProvider`` live here; the admin, ``configure_sso`` and the sign-in code call them. The
protocol itself (OpenID Connect with Authlib) is ``oauth.sso_sign_in``; the rule deciding who may use a password is
``oauth.login``.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts import audit, encryption
from accounts.models import AuditEvent, Organization, SsoDomain, SsoIdentity, SsoProvider, User, normalize_domain
from accounts.services import roles_by_name, user_create
from project.errors import PermissionDenied

# The purpose the secret's key is derived for (accounts.encryption); changing it makes stored secrets unreadable.
SECRET_PURPOSE = "accounts.sso.client-secret"


class SsoRefused(PermissionDenied):
    """A single sign-on that does not end in an account signed in: the provider cannot be reached, its answer
    does not verify, or it vouched for someone this organisation does not let in. ``detail`` says why, for the
    sign-in page, never a secret."""

    code = "sso_refused"
    title = "Single sign-on did not sign anyone in."


def callback_url() -> str:
    """Where providers send people back (``oauth.sign_in_views.SsoCallbackView``); registered at each provider."""
    return settings.OAUTH_ISSUER.rstrip("/") + reverse("oauth:sso-callback")


def domain_of(email: str) -> str:
    return normalize_domain(email.rpartition("@")[2])


def provider_for_email(email: str) -> SsoProvider | None:
    """The provider the address signs in at, or ``None`` for an address that signs in with a password: one outside
    every single sign-on domain, or an existing account the domain's provider never signs in (``signs_in_at``), an
    administrator's or another organisation's, which keeps its password and second factor.

    Every other address of such a domain goes there, known or not, so the answer tells nothing about which of
    the organisation's people have accounts.
    """
    domain = domain_of(email or "")
    if not domain or "\x00" in email:
        return None
    provider = SsoProvider.objects.filter(domains__domain=domain).first()
    if provider is None:
        return None
    account = User.objects.filter(email=normalize_email(email)).first()
    return provider if account is None or signs_in_at(provider, account) else None


def provider_for_client(client_id: str) -> SsoProvider | None:
    """The provider of the organisation ``client_id`` belongs to, if it has one: the people an authorization
    request of that client signs in are that organisation's (``oauth.login.check_client_allowed``), so its provider
    is where they sign in (``oauth.views.AuthorizeView``, ``oauth.sign_in_views.LoginView``)."""
    if not client_id:
        return None
    return (
        SsoProvider.objects.filter(organization__app_clients__client_id=client_id)
        .select_related("organization")
        .first()
    )


def signs_in_at(provider: SsoProvider, user: User) -> bool:
    """Whether ``provider`` may sign ``user`` in: an account of its organisation that is not staff or superuser.
    Administrators use their password and second factor, so whoever controls the provider's settings cannot
    become one (issue 16, finding 3); and a provider never applies to another organisation's account, whatever
    domain its address is in (finding 4)."""
    return user.organization_id == provider.organization_id and not (user.is_staff or user.is_superuser)


def normalize_email(email: str) -> str:
    """An address as accounts store it (``UserManager``)."""
    return User.objects.normalize_email(email).lower()


def client_secret(provider: SsoProvider) -> str | None:
    """The clear secret, to send to the provider; ``None`` if it is unreadable (``SECRET_KEY`` rotated)."""
    return encryption.decrypt(provider.client_secret_encrypted, purpose=SECRET_PURPOSE)


def set_client_secret(provider: SsoProvider, secret: str) -> None:
    """Keep ``secret`` encrypted on ``provider`` (saved by the caller). Nothing ever reads it back for display."""
    provider.client_secret_encrypted = encryption.encrypt(secret, purpose=SECRET_PURPOSE)


def require_client_secret(secret: str, *, provider: SsoProvider | None = None) -> None:
    """``ValidationError`` unless there is a client secret: ``secret``, or the one ``provider`` already keeps (an
    existing provider may leave it unchanged; a new one needs it)."""
    if not secret and not (provider is not None and provider.pk and provider.client_secret_encrypted):
        raise ValidationError("The client secret is required.")


def normalized_domains(domains: list[str]) -> list[str]:
    return sorted({normalize_domain(domain).lstrip("@") for domain in domains if domain.strip()})


@transaction.atomic
def sso_configure(
    *,
    organization: Organization,
    issuer: str,
    client_id: str,
    client_secret: str,
    domains: list[str],
    mandatory: bool = False,
    provision_users: bool = True,
    default_roles: list[str] = (),
    require_email_verified: bool = True,
) -> SsoProvider:
    """Create or replace ``organization``'s provider and its domains.

    Raises ``ValidationError`` for an issuer the platform may not reach (``accounts.sso_network``), a malformed
    domain or one that already routes to another organisation, and ``UnknownRoles`` for an unknown default role.
    """
    domains = normalized_domains(domains)
    if not domains:
        raise ValidationError("At least one email domain routes to the provider.")
    require_client_secret(client_secret)  # replaced, so given even for an existing provider
    provider = SsoProvider.objects.filter(organization=organization).first() or SsoProvider(organization=organization)
    action = AuditEvent.Action.CHANGED if provider.pk else AuditEvent.Action.CREATED
    provider.issuer = issuer.strip()
    provider.client_id = client_id.strip()
    provider.mandatory = mandatory
    provider.provision_users = provision_users
    provider.require_email_verified = require_email_verified
    set_client_secret(provider, client_secret)
    provider.full_clean()
    provider.save()
    provider.default_roles.set(roles_by_name(list(default_roles)))
    provider.domains.exclude(domain__in=domains).delete()
    for domain in domains:
        if not provider.domains.filter(domain=domain).exists():
            row = SsoDomain(provider=provider, domain=domain)
            row.full_clean()
            row.save()
    changes = audit.field_changes(provider, [*AUDITED_SSO_FIELDS, "client_secret"])
    audit.record(action, provider, changes={**changes, "domains": domains})
    return provider


AUDITED_SSO_FIELDS = (
    "issuer", "client_id", "mandatory", "provision_users", "default_roles", "require_email_verified",
)


@transaction.atomic
def sso_user_for_claims(provider: SsoProvider, *, subject: str, email: str, full_name: str = "") -> User:
    """The account the provider just vouched for, as (``sub``, verified ``email``).

    The account bound to (issuer, ``subject``) when there is one (``SsoIdentity``). Otherwise, the first time, the
    existing account with that address, or, when the provider provisions users, a new one in its organisation with
    the default roles and no usable password; the identity is then bound to it. Only addresses in the provider's own
    domains are accepted, an account already bound to another ``sub`` at this issuer is not taken over, and only
    accounts ``signs_in_at`` allows are signed in. Raises ``SsoRefused``.
    """
    email = normalize_email(email)
    if not provider.domains.filter(domain=domain_of(email)).exists():
        raise SsoRefused("The identity provider vouched for an address outside this organisation's domains.")
    identity = SsoIdentity.objects.filter(issuer=provider.issuer, subject=subject).select_related("user").first()
    if identity is not None:
        return _allowed(provider, identity.user)
    user = User.objects.filter(email=email).first()
    if user is not None:
        _allowed(provider, user)
        if SsoIdentity.objects.filter(issuer=provider.issuer, user=user).exists():
            raise SsoRefused("This account belongs to another person at the identity provider. Ask your administrator.")
    elif not provider.provision_users:
        raise SsoRefused("There is no account for this address. Ask your administrator for one.")
    try:
        # A savepoint: a failure rolls back to here.
        with transaction.atomic():
            user = user or _provision(provider, email=email, full_name=full_name)
            SsoIdentity.objects.create(issuer=provider.issuer, subject=subject, user=user)
    except (IntegrityError, ValidationError):
        if not User.objects.filter(email=email).exists():
            raise
        # The same person's other tab signed in first, and created the account or the binding: use them.
        return sso_user_for_claims(provider, subject=subject, email=email, full_name=full_name)
    return user


def _allowed(provider: SsoProvider, user: User) -> User:
    """``user``, when ``provider`` may sign them in; ``SsoRefused`` otherwise."""
    if not user.is_active or user.organization_id != provider.organization_id:
        raise SsoRefused("This account cannot sign in here. Ask your administrator.")
    if not signs_in_at(provider, user):
        raise SsoRefused("Administrators sign in with their password and second factor, not through single sign-on.")
    return user


def _provision(provider: SsoProvider, *, email: str, full_name: str) -> User:
    """A new account of the provider's organisation with its default roles, and no password: it signs in through
    the provider only."""
    with audit.acting(f"single sign-on {provider.issuer}"):
        return user_create(
            organization=provider.organization,
            email=email,
            password=None,
            roles=[role.name for role in provider.default_roles.all()],
            full_name=full_name[:200],
        )
