"""The analytics settings and the judgment lists in the admin, scoped like every per-organisation admin
(``accounts.admin_scope``)."""

from django.contrib import admin

from accounts.admin_scope import OrganizationScopedAdmin
from analytics.models import AnalyticsSettings, JudgmentList


@admin.register(AnalyticsSettings)
class AnalyticsSettingsAdmin(OrganizationScopedAdmin):
    list_display = ("organization", "impression_action", "click_action")
    list_filter = ("organization",)
    fields = ("organization", "impression_action", "click_action")

    def delete_queryset(self, request, queryset):
        """One by one, so that each deletion marks its organisation's rollups stale (``AnalyticsSettings.delete``)."""
        for settings in queryset:
            settings.delete()


@admin.register(JudgmentList)
class JudgmentListAdmin(OrganizationScopedAdmin):
    """The judgment lists, newest first: computed by ``compute_judgments`` or ``POST /api/v1/judgments``, never
    edited (a list is what its model found), deleted here with its judgments. Downloads are on the dashboard."""

    list_display = ("name", "model", "judgment_count", "query_count", "created_at", "created_by", "organization")
    list_filter = ("model",)
    search_fields = ("name",)
    ordering = ("-created_at",)
    fields = readonly_fields = (
        "name", "model", "parameters", "judgment_count", "query_count", "created_at", "created_by", "organization",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
