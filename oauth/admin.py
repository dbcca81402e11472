"""Issued tokens in the admin, scoped to the administrator's organisation.

django-oauth-toolkit's admins already list tokens without showing them and revoke through its shared path; ours
add the organisation scope. Revoking deletes the access token row, which also puts it on the revocation list
(oauth/revocation.py), so the token stops working in every process at once.
"""

from django.contrib import admin
from oauth2_provider import admin as dot_admin
from oauth2_provider.models import get_access_token_model, get_grant_model, get_id_token_model, get_refresh_token_model

from accounts.admin_scope import OrganizationScopedAdmin


class AccessTokenAdmin(OrganizationScopedAdmin, dot_admin.AccessTokenAdmin):
    organization_path = "application__organization"
    list_display = ("pk", "application", "user", "scope", "created", "expires")


class RefreshTokenAdmin(OrganizationScopedAdmin, dot_admin.RefreshTokenAdmin):
    organization_path = "application__organization"
    list_display = ("pk", "application", "user", "created", "revoked")


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
