"""The data lifecycle in the admin: an organisation's retention period (an inline of its page), its deletion as
an offboarding (``lifecycle.offboarding``: the admin's own cascade would stop at its queries and events, which
are ``PROTECT``), erasure from the list of events (``lifecycle.erasure``), and the suppressed people
(``insights.suppressions``), listed by digest, whose suppression a deletion lifts.

The organisation's and the events' admins are those of ``accounts`` and ``insights`` with these added, registered
in their place, as ``accounts`` replaces django-oauth-toolkit's admin of its application model.
"""

from django.contrib import admin

from accounts import audit
from accounts.admin import OrganizationAdmin
from accounts.admin_scope import OrganizationScopedAdmin
from accounts.models import Organization
from insights.admin import EventAdmin
from insights import suppressions
from insights.models import Event, Suppression
from lifecycle.erasure import ERASE_ROLE, erase_subject
from lifecycle.models import RetentionPolicy
from lifecycle.offboarding import big_table_rows, delete_organization
from oauth.principals import Principal
from oauth.tokens import USER

ADMIN_CLIENT = "admin"


class RetentionPolicyInline(admin.StackedInline):
    model = RetentionPolicy
    can_delete = False
    max_num = 1
    fields = ("days", "changed")
    readonly_fields = ("changed",)
    verbose_name_plural = "retention period (empty: the default, RETENTION_DAYS_DEFAULT)"


class OffboardingOrganizationAdmin(OrganizationAdmin):
    """The organisation's page with its retention period; deleting one is an offboarding, which first lists what
    goes rather than every row of it (millions of events)."""

    inlines = [RetentionPolicyInline]

    def get_deleted_objects(self, objs, request):
        summaries = [
            f"{organization}: {big_table_rows(organization):,} queries, events and judgments, and every app client, "
            "token, person, setting, judgment list and audit event of it (one audit event of the offboarding stays)"
            for organization in objs
        ]
        return summaries, {"organizations": len(summaries)}, set(), []

    def delete_model(self, request, obj):
        with audit.acting(request.user):
            delete_organization(obj)

    def delete_queryset(self, request, queryset):
        with audit.acting(request.user):
            for organization in queryset:
                delete_organization(organization)


admin.site.unregister(Organization)
admin.site.register(Organization, OffboardingOrganizationAdmin)


class ErasingEventAdmin(EventAdmin):
    """The events' list, with actions that erase the people of the selected events: every row tracked with their
    ``user_id``, ``client_id`` or ``session_id``. For superusers and people holding ``insights:erase``."""

    actions = ["erase_user_id", "erase_client_id", "erase_session_id"]

    def has_erase_permission(self, request):
        return request.user.is_superuser or request.user.roles.filter(name=ERASE_ROLE).exists()

    @admin.action(permissions=["erase"], description="Erase everything tracked for these events' user_id")
    def erase_user_id(self, request, queryset):
        self._erase(request, queryset, "user_id")

    @admin.action(permissions=["erase"], description="Erase everything tracked for these events' client_id")
    def erase_client_id(self, request, queryset):
        self._erase(request, queryset, "client_id")

    @admin.action(permissions=["erase"], description="Erase everything tracked for these events' session_id")
    def erase_session_id(self, request, queryset):
        self._erase(request, queryset, "session_id")

    def _erase(self, request, queryset, kind: str) -> None:
        subjects = set(queryset.exclude(**{kind: None}).values_list("organization_id", kind))
        queries = events = 0
        for organization_id, value in subjects:
            erased = erase_subject(_eraser(request.user, organization_id), kind=kind, value=value)
            queries, events = queries + erased.queries, events + erased.events
        self.message_user(request, f"Erased {len(subjects)} {kind}(s): {queries} queries and {events} events deleted.")


def _eraser(user, organization_id) -> Principal:
    """The principal an administrator erases as, in the organisation of the events chosen (a staff member's own:
    the list shows no other)."""
    return Principal(
        kind=USER,
        id=str(user.pk),
        org_id=organization_id,
        roles=frozenset({ERASE_ROLE}),
        scope=ERASE_ROLE,
        client_id=ADMIN_CLIENT,
        token_id="",
    )


@admin.register(Suppression)
class SuppressionAdmin(OrganizationScopedAdmin):
    """The people whose documents are not stored, by kind and digest (an erasure with ``suppress`` adds them).
    Deleting one lifts it: their documents are stored again, in every process within
    ``SUPPRESSION_CACHE_SECONDS``."""

    list_display = ("kind", "digest", "organization", "created")
    list_filter = ("kind",)
    search_fields = ("digest",)
    readonly_fields = ("organization", "kind", "digest", "created")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        suppressions.forget(obj.organization_id)

    def delete_queryset(self, request, queryset):
        organizations = set(queryset.values_list("organization_id", flat=True))
        super().delete_queryset(request, queryset)
        for organization_id in organizations:
            suppressions.forget(organization_id)


admin.site.unregister(Event)
admin.site.register(Event, ErasingEventAdmin)
