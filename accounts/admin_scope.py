"""Staff of one organisation administer only that organisation; superusers administer all of them."""

from accounts.admin_audit import AuditedAdmin


class OrganizationScopedAdmin(AuditedAdmin):
    """A ModelAdmin whose rows belong to an organisation through ``organization_path``.

    Non-superusers see, and can pick, only their own organisation; objects they create land in it. What is done
    through it is in the audit trail.
    """

    organization_path = "organization"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{self.organization_path: request.user.organization_id})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organization" and not request.user.is_superuser:
            kwargs["queryset"] = db_field.related_model.objects.filter(pk=request.user.organization_id)
            kwargs["initial"] = request.user.organization_id
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser and hasattr(obj, "organization_id"):
            obj.organization_id = request.user.organization_id
        super().save_model(request, obj, form, change)
