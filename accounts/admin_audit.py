"""What the admin does is in the audit trail (``accounts.audit``), beside Django's own admin log."""

from django.contrib import admin

from accounts import audit
from accounts.models import AuditEvent


class AuditedAdmin(admin.ModelAdmin):
    """Records every addition, change and deletion the admin logs, with the administrator as actor.

    Its pages also name the administrator as the actor of the services they set off: deactivating a principal
    revokes its tokens (``accounts.services.principal_saved``), an action resets a second factor.
    """

    def changeform_view(self, request, *args, **kwargs):
        with audit.acting(request.user):
            return super().changeform_view(request, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):  # where actions run
        with audit.acting(request.user):
            return super().changelist_view(request, *args, **kwargs)

    def log_addition(self, request, obj, message):
        shown = [field.name for field in _fields(obj) if field.name in audit.SHOWN_FIELDS]
        audit.record(AuditEvent.Action.CREATED, obj, changes=audit.field_changes(obj, shown), actor=request.user)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        # Called after the many-to-many fields are saved, so new roles are recorded; not for a save that changed
        # nothing (an empty message).
        if message:
            audit.record(
                AuditEvent.Action.CHANGED, obj, changes=audit.field_changes(obj, _changed(obj, message)),
                actor=request.user,
            )
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        # Called before the deletion, while the objects still have their primary keys.
        for obj in queryset:
            audit.record(AuditEvent.Action.DELETED, obj, actor=request.user)
        return super().log_deletions(request, queryset)


def _changed(obj, message: list) -> list[str]:
    """Field names from the admin's change message, which gives form labels (``"Is active"``), for the object
    itself (``changed``) and for inline objects (``added``, ``changed``, ``deleted`` with their ``name``)."""
    names_by_label = {str(field.verbose_name).lower(): field.name for field in _fields(obj)}
    names = []
    for entry in message:
        for kind, details in entry.items():
            if "name" in details:
                names.append(str(details["name"]))
            elif kind == "changed":
                names += [names_by_label.get(str(label).lower(), str(label)) for label in details.get("fields", [])]
    return names


def _fields(obj) -> list:
    return [*obj._meta.fields, *obj._meta.many_to_many]
