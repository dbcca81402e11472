"""Tenants and the principals that act for them: organisations, users, roles and app clients."""

import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from oauth2_provider.models import AbstractApplication, ApplicationManager


class Organization(models.Model):
    """The tenant. Every user, app client and stored UBI record belongs to exactly one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    created = models.DateTimeField(auto_now_add=True)

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
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person (or a service account) of one organisation, who signs in with an email address."""

    email = models.EmailField(unique=True)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="users")
    full_name = models.CharField(max_length=200, blank=True)
    roles = models.ManyToManyField(Role, blank=True, related_name="users")
    is_service_account = models.BooleanField(
        default=False, help_text="A non-human account for scripts; keeps the password grant under mandatory SSO."
    )
    is_staff = models.BooleanField(default=False, help_text="Can log into the admin (scoped to the organisation).")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["organization"]

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email

    def role_names(self) -> list[str]:
        return sorted(role.name for role in self.roles.all())


class AppClientManager(ApplicationManager):
    def get_queryset(self):
        # The token endpoint needs the organisation and roles of every client it loads.
        return super().get_queryset().select_related("organization").prefetch_related("roles")


class AppClient(AbstractApplication):
    """An OAuth client (django-oauth-toolkit application) that belongs to an organisation and carries roles.

    Machine clients are confidential and use the client-credentials grant; their tokens carry the client's roles.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="app_clients")
    roles = models.ManyToManyField(Role, blank=True, related_name="app_clients")
    is_active = models.BooleanField(default=True, help_text="An inactive client gets no tokens; its tokens stop working.")
    require_authorization_code_flow = models.BooleanField(
        default=False, help_text="PKCE is mandatory and the password grant is refused for this client."
    )

    objects = AppClientManager()

    class Meta(AbstractApplication.Meta):
        verbose_name = "app client"

    def is_usable(self, request):
        return self.is_active

    def role_names(self) -> list[str]:
        return sorted(role.name for role in self.roles.all())
