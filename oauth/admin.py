"""Issued tokens in the admin, scoped to the administrator's organisation.

django-oauth-toolkit's admins already list tokens without showing them; ours add the organisation scope and revoke
through oauth/revocation.py, as the revocation endpoint does, so each revocation is in the audit trail and on the
revocation list: the token stops working in every process at once. Revoking an access token ends it alone (its
refresh token lives on); revoking a refresh token ends every token derived from it. It needs the permission to change
the token: django-oauth-toolkit lets nobody delete one in the admin.
"""

from django.contrib import admin
from oauth2_provider import admin as dot_admin
from oauth2_provider.models import get_access_token_model, get_grant_model, get_id_token_model, get_refresh_token_model

from accounts.admin_scope import OrganizationScopedAdmin
from oauth import revocation


class IssuedTokenAdmin(OrganizationScopedAdmin):
    """Tokens, codes and ID tokens as the flows issued them: listed here, never edited, for a changed user or scope
    would carry into every token refreshed or exchanged from the row. Revoking (the token lists' actions) is the
    one change, so the change permission holds for a list and never for a row's form."""

    organization_path = "application__organization"

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)


class AccessTokenAdmin(IssuedTokenAdmin, dot_admin.AccessTokenAdmin):
    list_display = ("pk", "application", "user", "scope", "created", "expires")

    @admin.action(permissions=["change"], description="Revoke selected access tokens")
    def revoke_tokens(self, request, queryset):
        _revoke(self, request, queryset, revocation.revoke_access, "access token(s)")


class RefreshTokenAdmin(IssuedTokenAdmin, dot_admin.RefreshTokenAdmin):
    list_display = ("pk", "application", "user", "created", "revoked")

    @admin.action(
        permissions=["change"], description="Revoke selected refresh tokens (with every token derived from them)"
    )
    def revoke_tokens(self, request, queryset):
        _revoke(self, request, queryset, revocation.revoke_refresh, "refresh token(s)")


def _revoke(model_admin, request, queryset, revoke, kind: str) -> None:
    """The admin's revocation is the revocation endpoint's; actions run with the administrator as the audit's actor
    (``accounts.admin_audit.AuditedAdmin``)."""
    tokens = list(queryset)
    for token in tokens:
        revoke(token)
    model_admin.message_user(request, f"Revoked {len(tokens)} {kind}.")


class GrantAdmin(IssuedTokenAdmin, dot_admin.GrantAdmin):
    pass


class IDTokenAdmin(IssuedTokenAdmin, dot_admin.IDTokenAdmin):
    pass


for model, model_admin in (
    (get_access_token_model(), AccessTokenAdmin),
    (get_refresh_token_model(), RefreshTokenAdmin),
    (get_grant_model(), GrantAdmin),
    (get_id_token_model(), IDTokenAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
