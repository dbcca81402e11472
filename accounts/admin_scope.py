"""Staff of one organisation administer only that organisation; superusers administer all of them."""

from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db.models import Q, QuerySet

from accounts.admin_audit import AuditedAdmin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows shown and never added, changed or deleted through the admin, whatever the permissions: records of what
    happened (the audit trail, tracked UBI documents)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrganizationScopedAdmin(AuditedAdmin):
    """A ModelAdmin whose rows belong to an organisation through ``organization_path``.

    Non-superusers see, and can pick, only their own organisation; objects they create land in it. Its list
    filters on relations offer only what the rows shown refer to, so no filter names another tenant's
    organisation or clients. What is done through it is in the audit trail.
    """

    organization_path = "organization"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{self.organization_path: request.user.organization_id})

    def get_list_filter(self, request):
        return [_related_only(self.model, entry) for entry in super().get_list_filter(request)]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organization" and not request.user.is_superuser:
            kwargs["queryset"] = db_field.related_model.objects.filter(pk=request.user.organization_id)
            kwargs["initial"] = request.user.organization_id
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser and hasattr(obj, "organization_id"):
            obj.organization_id = request.user.organization_id
        super().save_model(request, obj, form, change)


def _related_only(model, entry):
    """A list filter named by a relation lists every row of the related model (every organisation, every client);
    ``RelatedOnlyFieldListFilter`` lists those the admin's own, scoped, queryset refers to."""
    if isinstance(entry, str) and "__" not in entry and model._meta.get_field(entry).is_relation:
        return (entry, admin.RelatedOnlyFieldListFilter)
    return entry


def no_more_powerful_than(queryset: QuerySet, user) -> QuerySet:
    """The users of ``queryset`` with no power ``user`` lacks: for a non-superuser, no superuser and no account
    holding a permission (its own or a group's) that ``user`` does not hold.

    Whoever can edit an account can sign in as it (its password, its second factor), so staff reach only accounts
    they could not climb through.
    """
    if user.is_superuser:
        return queryset
    held = Permission.objects.filter(Q(user=user) | Q(group__user=user)).values("pk")
    lacking = Permission.objects.exclude(pk__in=held)
    return (
        queryset.filter(is_superuser=False)
        .exclude(user_permissions__in=lacking)
        .exclude(groups__permissions__in=lacking)
    )
