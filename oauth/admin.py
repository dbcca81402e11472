"""Issued tokens in the admin, scoped to the administrator's organisation; the signing keys, for superusers.

django-oauth-toolkit's admins already list tokens without showing them; ours add the organisation scope and revoke
through oauth/revocation.py, as the revocation endpoint does, so each revocation is in the audit trail and on the
revocation list: the token stops working in every process at once. Revoking an access token ends it alone (its
refresh token lives on); revoking a refresh token ends every token derived from it. It needs the permission to change
the token: django-oauth-toolkit lets nobody delete one in the admin.
"""

import time

from django.contrib import admin, messages
from oauth2_provider import admin as dot_admin
from oauth2_provider.models import get_access_token_model, get_grant_model, get_id_token_model, get_refresh_token_model

from accounts.admin_audit import AuditedAdmin
from accounts.admin_scope import OrganizationScopedAdmin, ReadOnlyAdmin
from oauth import key_rotation, keys, revocation
from oauth.models import SigningKey


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


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin, AuditedAdmin):
    """The keys rotations added (``manage.py rotate_signing_key``), with their states as the JWKS and the token
    endpoint see them. Keys sign for every organisation, so only superusers see them. Rows are never edited: a
    rotation schedules them; retiring one at once (a compromised key) is the one change, as
    ``rotate_signing_key --retire-now`` makes it. The configured key has a row from the first rotation on."""

    list_display = ("kid", "state", "created", "signs_from", "signs_until", "retires_at", "revoked")
    list_filter = ("revoked",)
    search_fields = ("kid",)
    fields = ("kid", "state", "public_key", "created", "signs_from", "signs_until", "retires_at", "revoked")
    readonly_fields = fields
    actions = ["retire_now"]

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_retire_permission(self, request):
        return request.user.is_superuser

    @admin.display(description="state")
    def state(self, obj):
        """As the JWKS and the token endpoint of this process see the key (``oauth.keys.state``)."""
        found = keys.current_keys()
        key = next((key for key in found if key.kid == obj.kid), None)
        return keys.RETIRED if key is None else keys.state(key, found, time.time())

    @admin.action(permissions=["retire"], description="Retire selected keys now (their tokens are refused)")
    def retire_now(self, request, queryset):
        for row in queryset:
            retired, rotation = key_rotation.retire_now(row.kid)
            self.message_user(request, f"Retired {retired.kid}: out of the JWKS, its tokens refused.")
            if rotation is not None:
                # The admin capitalises a message's first letter: it must not be a key id's.
                self.message_user(request, f"The key {rotation.key.kid} signs from now on.", messages.WARNING)


for model, model_admin in (
    (get_access_token_model(), AccessTokenAdmin),
    (get_refresh_token_model(), RefreshTokenAdmin),
    (get_grant_model(), GrantAdmin),
    (get_id_token_model(), IDTokenAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
