"""Issued tokens in the admin, scoped to the administrator's organisation.

django-oauth-toolkit's admins already list tokens without showing them; ours add the organisation scope and revoke
through oauth/revocation.py, as the revocation endpoint does, so each revocation is in the audit trail. Revoking
deletes the access token row, which also puts it on the revocation list, so the token stops working in every process
at once.
"""

from django.contrib import admin
from oauth2_provider import admin as dot_admin
from oauth2_provider.models import get_access_token_model, get_grant_model, get_id_token_model, get_refresh_token_model

from accounts.admin_scope import OrganizationScopedAdmin
from oauth import revocation


class AccessTokenAdmin(OrganizationScopedAdmin, dot_admin.AccessTokenAdmin):
    organization_path = "application__organization"
    list_display = ("pk", "application", "user", "scope", "created", "expires")

    @admin.action(description="Revoke selected access tokens")
    def revoke_tokens(self, request, queryset):
        _revoke(self, request, queryset, revocation.revoke_access, "access token(s)")


class RefreshTokenAdmin(OrganizationScopedAdmin, dot_admin.RefreshTokenAdmin):
    organization_path = "application__organization"
    list_display = ("pk", "application", "user", "created", "revoked")

    @admin.action(description="Revoke selected refresh tokens (with every token derived from them)")
    def revoke_tokens(self, request, queryset):
        _revoke(self, request, queryset, revocation.revoke_refresh, "refresh token(s)")


def _revoke(model_admin, request, queryset, revoke, kind: str) -> None:
    """The admin's revocation is the revocation endpoint's; actions run with the administrator as the audit's actor
    (``accounts.admin_audit.AuditedAdmin``)."""
    tokens = list(queryset)
    for token in tokens:
        revoke(token)
    model_admin.message_user(request, f"Revoked {len(tokens)} {kind}.")


class GrantAdmin(OrganizationScopedAdmin, dot_admin.GrantAdmin):
    organization_path = "application__organization"


class IDTokenAdmin(OrganizationScopedAdmin, dot_admin.IDTokenAdmin):
    organization_path = "application__organization"


for model, model_admin in (
    (get_access_token_model(), AccessTokenAdmin),
    (get_refresh_token_model(), RefreshTokenAdmin),
    (get_grant_model(), GrantAdmin),
    (get_id_token_model(), IDTokenAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
