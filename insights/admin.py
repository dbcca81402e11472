"""The maintenance switch in the admin: one row, one checkbox, for superusers only (it stops every organisation's
tracking)."""

from django.contrib import admin
from django.shortcuts import redirect

from insights import maintenance
from insights.models import Maintenance


@admin.register(Maintenance)
class MaintenanceAdmin(admin.ModelAdmin):
    fields = ("on", "changed")
    readonly_fields = ("changed",)

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # A list of one switch says nothing: go straight to it (created off the first time).
        switch, _ = Maintenance.objects.get_or_create(pk=Maintenance.SINGLETON_ID)
        return redirect("admin:insights_maintenance_change", switch.pk)

    def save_model(self, request, obj, form, change):
        maintenance.switch(on=obj.on)
