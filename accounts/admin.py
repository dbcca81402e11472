"""The admin for tenants and their principals.

An administrator creates an organisation, its users and app clients, and assigns roles. A new client's secret is
shown once, on the page that answers its creation, and is stored only hashed.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.template.response import TemplateResponse

from accounts import services, sso_providers
from accounts.admin_audit import AuditedAdmin
from accounts.admin_scope import OrganizationScopedAdmin, ReadOnlyAdmin, no_more_powerful_than
from accounts.models import AppClient, AuditEvent, Organization, Role, SsoDomain, SsoProvider, User


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    organization_path = "pk"
    list_display = ("name", "id", "created")
    search_fields = ("name",)
    readonly_fields = ("id", "created")

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class PlatformWideAdmin(AuditedAdmin):
    """Rows every organisation shares: changing one changes every organisation's, so only superusers may; staff
    with the permission see them."""

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Role)
class RoleAdmin(PlatformWideAdmin):
    """Roles ride in every organisation's tokens."""

    list_display = ("name", "description")


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(PlatformWideAdmin, DjangoGroupAdmin):
    """Groups hold the admin's permissions: whoever edits one gives its members any permission."""


class UserCreationForm(AdminUserCreationForm):
    """A new account belongs to an organisation (the platform's superuser, of none, comes from
    ``createsuperuser``)."""

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email", "organization")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].required = True


class UserChange(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(OrganizationScopedAdmin, DjangoUserAdmin):
    """Staff reach only the accounts with no more power than their own (``no_more_powerful_than``): whoever edits
    an account can sign in as it. Superuser status, groups and permissions are set by superusers only."""

    form = UserChange
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = ("email", "organization", "is_service_account", "is_staff", "is_active")
    list_filter = ("is_service_account", "is_staff", "is_active", "organization")
    search_fields = ("email", "full_name")
    filter_horizontal = ("roles",)
    fieldsets = (
        (None, {"fields": ("email", "password", "organization")}),
        ("Profile", {"fields": ("full_name", "is_service_account")}),
        ("Access", {"fields": ("roles", "is_active", "is_staff", "rate_limit")}),
        ("Sign-in", {"fields": ("must_change_password", "password_changed_at", "two_step_verification")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("password_changed_at", "two_step_verification")
    actions = ["reset_two_step_verification"]
    superuser_fieldsets = ((("Platform", {"fields": ("is_superuser", "groups", "user_permissions")})),)
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "organization", "password1", "password2")}),)

    def get_queryset(self, request):
        return no_more_powerful_than(super().get_queryset(request), request.user)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and request.user.is_superuser:
            return fieldsets + self.superuser_fieldsets
        return fieldsets

    @admin.display(boolean=True, description="Two-step verification")
    def two_step_verification(self, obj):
        return obj.has_totp

    @admin.action(
        permissions=["change"], description="Reset two-step verification (lost phone: the user enrols again)"
    )
    def reset_two_step_verification(self, request, queryset):
        for user in queryset:
            services.totp_reset(user)
        self.message_user(request, f"Two-step verification reset for {len(queryset)} user(s).")


# django-oauth-toolkit registers its own admin for the application model; ours replaces it.
if admin.site.is_registered(AppClient):
    admin.site.unregister(AppClient)


@admin.register(AppClient)
class AppClientAdmin(OrganizationScopedAdmin):
    list_display = (
        "name", "client_id", "organization", "client_type", "authorization_grant_type", "is_active", "rate_limit"
    )
    list_filter = ("is_active", "client_type", "authorization_grant_type", "organization")
    search_fields = ("name", "client_id")
    filter_horizontal = ("roles",)
    readonly_fields = ("client_id", "created", "updated")
    fields = (
        "name",
        "organization",
        "roles",
        "is_active",
        "client_type",
        "authorization_grant_type",
        "redirect_uris",
        "require_authorization_code_flow",
        "allow_password_grant",
        "skip_authorization",
        "rate_limit",
        "client_id",
        "created",
        "updated",
    )
    radio_fields = {"client_type": admin.HORIZONTAL, "authorization_grant_type": admin.VERTICAL}
    secret_template = "admin/accounts/appclient/secret_once.html"

    def get_changeform_initial_data(self, request):
        return {
            "client_type": AppClient.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": AppClient.GRANT_CLIENT_CREDENTIALS,
            **super().get_changeform_initial_data(request),
        }

    def save_model(self, request, obj, form, change):
        if not change:
            # Kept on the request only: the answer to this POST is the one page that ever shows it.
            request.new_client_secret = services.set_new_client_secret(obj)
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "client": obj,
            "client_secret": request.new_client_secret,
            "title": "App client created",
        }
        return TemplateResponse(request, self.secret_template, context)


class SsoDomainInline(admin.TabularInline):
    """A domain sends every address in it to the provider, whichever organisation the address is of: it is
    claimed, not proven, so only superusers assign one. Staff see their provider's."""

    model = SsoDomain
    extra = 1
    min_num = 1
    verbose_name = "email domain"
    verbose_name_plural = "email domains that sign in here"

    def has_view_permission(self, request, obj=None):
        return True  # shown on a provider's page, which the provider's admin already let them open

    def has_add_permission(self, request, obj):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class HttpsURLField(forms.URLField):
    """A URL typed without a scheme is an https:// one."""

    def __init__(self, **kwargs):
        super().__init__(assume_scheme="https", **kwargs)


class SsoProviderForm(forms.ModelForm):
    # Write-only: sent to the provider, so kept encrypted (accounts.sso_providers), and never rendered back into the page.
    client_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again. Leave empty to keep the current secret.",
    )

    class Meta:
        model = SsoProvider
        fields = (
            "organization", "issuer", "client_id", "client_secret", "mandatory", "provision_users", "default_roles",
            "require_email_verified",
        )
        field_classes = {"issuer": HttpsURLField}

    def clean_client_secret(self):
        secret = self.cleaned_data["client_secret"]
        sso_providers.require_client_secret(secret, provider=self.instance)
        return secret


@admin.register(SsoProvider)
class SsoProviderAdmin(OrganizationScopedAdmin):
    """An organisation's OpenID Connect provider: issuer, client, domains, mandatory, how accounts are made.

    The issuer and the client decide who may sign in as the organisation's people, the domains whose people they
    are, and whether the provider's word on an address needs ``email_verified``: only superusers add a provider,
    set those or delete it. The organisation's staff see them and set its sign-in policy (mandatory, provisioning,
    default roles).
    """

    form = SsoProviderForm
    inlines = [SsoDomainInline]
    list_display = ("organization", "issuer", "client_id", "domain_list", "mandatory", "provision_users")
    list_filter = ("mandatory",)
    filter_horizontal = ("default_roles",)
    readonly_fields = ("callback_url", "created", "updated")
    fieldsets = (
        (None, {"fields": ("organization", "issuer", "client_id", "client_secret", "callback_url")}),
        ("Sign-in", {"fields": ("mandatory", "provision_users", "default_roles", "require_email_verified")}),
        ("Dates", {"fields": ("created", "updated")}),
    )

    # And the secret, absent from the staff's form.
    superuser_fields = ("organization", "issuer", "client_id", "require_email_verified")

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_form(self, request, obj=None, **kwargs):
        if not request.user.is_superuser:
            kwargs["form"] = forms.ModelForm  # the sign-in policy's fields only: no secret to write
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if request.user.is_superuser:
            return self.fieldsets
        # The secret is write-only: there is nothing to show in its place.
        return [
            (name, {**options, "fields": [field for field in options["fields"] if field != "client_secret"]})
            for name, options in self.fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return self.readonly_fields
        return (*self.readonly_fields, *self.superuser_fields)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("domains")

    @admin.display(description="Domains")
    def domain_list(self, obj):
        return ", ".join(domain.domain for domain in obj.domains.all())

    @admin.display(description="Callback URL to register at the provider")
    def callback_url(self, obj):
        return sso_providers.callback_url()

    def save_model(self, request, obj, form, change):
        if form.cleaned_data.get("client_secret"):
            sso_providers.set_client_secret(obj, form.cleaned_data["client_secret"])
        super().save_model(request, obj, form, change)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin, OrganizationScopedAdmin):
    """The audit trail (``accounts.audit``), read-only for everybody, superusers included: a trail that can be
    edited proves nothing. Staff see their organisation's events; platform-wide ones (roles) only superusers."""

    list_display = ("created", "actor", "action", "object_type", "object_repr", "organization")
    list_filter = ("action", "object_type")
    search_fields = ("actor", "object_type", "object_id", "object_repr")
    fields = readonly_fields = (
        "created", "organization", "actor", "actor_user", "actor_client", "action", "object_type", "object_id",
        "object_repr", "changes",
    )
    list_select_related = ("organization",)

