"""Tenants and the principals that act for them: organisations, users, roles and app clients."""

import uuid
from urllib.parse import urlsplit

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import DomainNameValidator
from django.db import models
from django.utils import timezone
from oauth2_provider.models import AbstractApplication, ApplicationManager

from accounts.sso_network import check_provider_url
from project.errors import InvalidInput
from project.rates import validate_rate

RATE_LIMIT_HELP = (
    "API calls allowed, REST and gRPC together: N/s, N/min or N/h (e.g. 500/s). Empty: the default "
    "(RATE_LIMIT_CLIENT or RATE_LIMIT_USER). Applies to tokens issued after the change."
)


class Organization(models.Model):
    """The tenant. Every user, app client and stored UBI record belongs to exactly one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    password_max_age_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Passwords older than this many days must be changed before signing in. Empty: no maximum age.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.Model):
    """A named permission such as ``insights:write``, listed in a token's ``roles`` claim."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        if not email:
            raise InvalidInput({"email": ["A user needs an email address."]})
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person (or a service account) of one organisation, who signs in with an email address.

    A superuser may belong to no organisation: the platform's own administrator (``createsuperuser``, the demo's
    ``admin@example.com``) is no tenant's, so no organisation's staff can reach it, and no organisation's client
    signs it in (``oauth.login.check_client_allowed``): it uses the admin.
    """

    email = models.EmailField(unique=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="users",
        help_text="Empty only for a superuser: the platform's administrator, of no organisation.",
    )
    full_name = models.CharField(max_length=200, blank=True)
    roles = models.ManyToManyField(Role, blank=True, related_name="users")
    is_service_account = models.BooleanField(
        default=False, help_text="A non-human account for scripts; keeps the password grant under mandatory SSO."
    )
    is_staff = models.BooleanField(default=False, help_text="Can log into the admin (scoped to the organisation).")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    password_changed_at = models.DateTimeField(default=timezone.now, editable=False)
    must_change_password = models.BooleanField(
        default=False, help_text="The next sign-in asks for a new password before anything else."
    )
    rate_limit = models.CharField(max_length=20, blank=True, validators=[validate_rate], help_text=RATE_LIMIT_HELP)
    # Encrypted (accounts/totp.py); shown once, when it is created, and never again.
    totp_secret = models.CharField(max_length=255, blank=True, editable=False)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # RFC 6238 §5.2: a one-time code is accepted once, so the time step of the last accepted code is kept.
    totp_last_step = models.BigIntegerField(null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []  # createsuperuser makes the platform's administrator, of no organisation

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(organization__isnull=False) | models.Q(is_superuser=True),
                name="user_organization_unless_superuser",
                violation_error_message="Only a superuser may belong to no organisation.",
            )
        ]

    def __str__(self):
        return self.email

    def role_names(self) -> list[str]:
        return sorted(role.name for role in self.roles.all())

    def set_password(self, raw_password):
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    @property
    def has_totp(self) -> bool:
        """A second factor is required once an enrolled secret has been confirmed by one valid code."""
        return self.totp_confirmed_at is not None


class AppClientManager(ApplicationManager):
    def get_queryset(self):
        # The token endpoint needs the organisation and roles of every client it loads.
        return super().get_queryset().select_related("organization").prefetch_related("roles")


class AppClient(AbstractApplication):
    """An OAuth client (django-oauth-toolkit application) that belongs to an organisation and carries roles.

    Machine clients are confidential and use the client-credentials grant; their tokens carry the client's roles.
    Clients for people are public, with registered redirect URIs; their tokens carry the signed-in user's roles.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="app_clients")
    roles = models.ManyToManyField(Role, blank=True, related_name="app_clients")
    is_active = models.BooleanField(default=True, help_text="An inactive client gets no tokens; its tokens stop working.")
    require_authorization_code_flow = models.BooleanField(
        default=False, help_text="PKCE is mandatory and the password grant is refused for this client."
    )
    # RFC 9700 §2.4: the password grant exposes the password to the client and gets no second look from the user,
    # so a client has it only when an administrator asked for it.
    allow_password_grant = models.BooleanField(
        default=False,
        help_text="Scripts and service accounts may sign in through this client with a password (the password "
        "grant). Off: people sign in with the authorization-code flow only.",
    )
    rate_limit = models.CharField(max_length=20, blank=True, validators=[validate_rate], help_text=RATE_LIMIT_HELP)

    objects = AppClientManager()

    class Meta(AbstractApplication.Meta):
        verbose_name = "app client"

    def is_usable(self, request):
        return self.is_active

    def role_names(self) -> list[str]:
        return sorted(role.name for role in self.roles.all())

    def allowed_grant_types(self) -> set[str]:
        """The token-endpoint grants this client may use, by its registered kind.

        A client for people (authorization code) gets the password grant too when it allows it, for scripts;
        every grant that issues refresh tokens allows refreshing them.
        """
        if self.authorization_grant_type == self.GRANT_CLIENT_CREDENTIALS:
            return {"client_credentials"}
        if self.authorization_grant_type == self.GRANT_AUTHORIZATION_CODE:
            grants = {"authorization_code", "refresh_token"}
        elif self.authorization_grant_type == self.GRANT_PASSWORD:
            grants = {"refresh_token"}
        else:
            return set()
        return (grants | {"password"}) if self.allow_password_grant else grants

    def clean(self):
        """django-oauth-toolkit's checks, then ours, every problem reported on its field at once."""
        errors = {}
        try:
            super().clean()
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if self.allow_password_grant and self.require_authorization_code_flow:
            errors.setdefault("allow_password_grant", []).append(
                "A client that requires the authorization-code flow cannot allow the password grant."
            )
        if self.authorization_grant_type == self.GRANT_PASSWORD and not self.allow_password_grant:
            errors.setdefault("allow_password_grant", []).append(
                "A client registered for the password grant must allow it."
            )
        if self.client_type == self.CLIENT_PUBLIC:
            insecure = [uri for uri in self.redirect_uris.split() if not is_secure_redirect_uri(uri)]
            if insecure:
                errors.setdefault("redirect_uris", []).append(
                    f"http:// redirect URIs are for loopback only (127.0.0.1, [::1], localhost): {' '.join(insecure)}"
                )
        if errors:
            raise ValidationError(errors)


def is_secure_redirect_uri(uri: str) -> bool:
    """RFC 8252 §7.3, RFC 9700 §4.1.1: a code sent over plain HTTP can be read on the way, so ``http`` only reaches
    the user's own machine (a native app's loopback listener). Malformed URIs are django-oauth-toolkit's to refuse."""
    try:
        parts = urlsplit(uri)
        hostname = parts.hostname
    except ValueError:
        return True
    return parts.scheme != "http" or hostname in LOOPBACK_HOSTS


LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def validate_issuer(value: str) -> None:
    """An identity provider is reached over HTTPS on a public address (``accounts.sso_network``), and its issuer
    has no query or fragment."""
    check_provider_url(value, name="The issuer", must_resolve=False)
    parts = urlsplit(value)
    if parts.query or parts.fragment:
        raise ValidationError("The issuer has no query or fragment (OpenID Connect Discovery 1.0 §2).")


class SsoProvider(models.Model):
    """An organisation's own OpenID Connect provider (reference/oauth.txt, "SSO Authentication").

    People whose address is in one of its domains (``SsoDomain``) sign in there instead of with a password. The
    client secret is sent to the provider, so it cannot be hashed: it is kept encrypted (``accounts.sso_providers``), written
    in the admin or by ``configure_sso`` and never shown again.
    """

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="sso_provider")
    issuer = models.URLField(
        max_length=500,
        validators=[validate_issuer],
        help_text="The provider's issuer URL; its discovery document is at <issuer>/.well-known/openid-configuration.",
    )
    client_id = models.CharField(max_length=255, help_text="The client id this platform has at the provider.")
    client_secret_encrypted = models.TextField(blank=True, editable=False)
    mandatory = models.BooleanField(
        default=False,
        help_text="Passwords are refused for addresses in these domains, on the login page and the password grant, "
        "except for service accounts.",
    )
    provision_users = models.BooleanField(
        default=True,
        help_text="Create an account in this organisation, with the default roles, the first time someone signs "
        "in. Off: only existing accounts may sign in (matched by email address the first time, then by their "
        "identity at the provider).",
    )
    default_roles = models.ManyToManyField(
        Role, blank=True, related_name="+", help_text="The roles of accounts created at their first sign-in."
    )
    require_email_verified = models.BooleanField(
        default=True,
        help_text="Accept an ID token only if it says email_verified: true. Off only for a provider known never to "
        "send the claim (such as another deployment of this platform): a token without it is then accepted, one "
        "that says anything but true never is.",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "single sign-on provider"
        ordering = ["organization__name"]

    def __str__(self):
        return f"{self.organization}: {self.issuer}"


def normalize_domain(domain: str) -> str:
    """An email domain as stored and compared (``SsoDomain.domain``): without surrounding blanks, in lower case."""
    return domain.strip().lower()


class SsoDomain(models.Model):
    """An email domain whose addresses sign in through one organisation's provider. A domain routes to one only."""

    provider = models.ForeignKey(SsoProvider, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(
        max_length=253,
        unique=True,
        validators=[DomainNameValidator(accept_idna=False)],
        help_text="The part after @, e.g. example.com.",
    )

    class Meta:
        verbose_name = "single sign-on domain"
        ordering = ["domain"]

    def __str__(self):
        return self.domain

    def clean(self):
        self.domain = normalize_domain(self.domain)


class SsoIdentity(models.Model):
    """A person at an identity provider, the ID token's (``iss``, ``sub``), bound to the account it signed in as
    the first time (``accounts.sso_providers``). Later sign-ins are matched by it, never by the address alone: someone the
    provider gives the same address later, under another ``sub``, does not get the account (OpenID Connect Core
    §5.7: only ``iss`` and ``sub`` identify a person). An account has one identity per issuer."""

    issuer = models.CharField(max_length=500)
    # OpenID Connect Core §2: at most 255 ASCII characters.
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sso_identities")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "single sign-on identity"
        verbose_name_plural = "single sign-on identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="ssoidentity_issuer_subject"),
            models.UniqueConstraint(fields=["issuer", "user"], name="ssoidentity_issuer_user"),
        ]

    def __str__(self):
        return f"{self.user} at {self.issuer}"


class AuditEvent(models.Model):
    """Who created, changed, deleted or revoked a client, role, user, organisation or token, and when.

    Written by ``accounts.audit.record`` (services, the admin, token revocation) and never changed afterwards. It
    outlives what it describes: the actor and the object are also kept as text, and the organisation is nulled,
    not cascaded, when it goes. ``changes`` holds no secret or hash (``accounts.audit.SHOWN_FIELDS``).
    """

    class Action(models.TextChoices):
        CREATED = "created"
        CHANGED = "changed"
        DELETED = "deleted"
        REVOKED = "revoked"

    created = models.DateTimeField(default=timezone.now, editable=False)
    # Empty for platform-wide objects (roles): only superusers see those.
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    actor = models.CharField(max_length=300, editable=False, help_text="A user, an app client, or a command.")
    actor_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    actor_client = models.ForeignKey(
        AppClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    action = models.CharField(max_length=20, choices=Action.choices, editable=False)
    object_type = models.CharField(max_length=100, editable=False)
    object_id = models.CharField(max_length=100, editable=False)
    object_repr = models.CharField(max_length=300, editable=False)
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder, editable=False)

    class Meta:
        verbose_name = "audit event"
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["organization", "-created"], name="auditevent_org_created")]

    def __str__(self):
        return f"{self.actor} {self.action} {self.object_type} {self.object_repr}"
