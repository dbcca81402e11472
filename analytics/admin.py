"""The analytics settings in the admin, scoped like every per-organisation admin (``accounts.admin_scope``)."""

from django.contrib import admin

from accounts.admin_scope import OrganizationScopedAdmin
from analytics.models import AnalyticsSettings


@admin.register(AnalyticsSettings)
class AnalyticsSettingsAdmin(OrganizationScopedAdmin):
    list_display = ("organization", "impression_action", "click_action")
    list_filter = ("organization",)
    fields = ("organization", "impression_action", "click_action")
