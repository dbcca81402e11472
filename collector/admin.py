"""The admin of ingest keys: each organisation's staff see and make their own; the key is shown in full, since
it is public (it sits in the pages' source)."""

from django import forms
from django.contrib import admin

from accounts.admin_scope import OrganizationScopedAdmin
from collector import services
from collector.keys import collector_url
from collector.models import IngestKey
from collector.origins import normalize_origin


class OriginsField(forms.CharField):
    """The allowed origins, one a line; each is written as a browser sends it (``https://Shop.example:443`` is
    ``https://shop.example``), and the model's validator checks the list."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        origins = []
        for line in (value or "").splitlines():
            if line.strip():
                try:
                    origins.append(normalize_origin(line.strip()))
                except ValueError as error:
                    raise forms.ValidationError(str(error)) from None
        return list(dict.fromkeys(origins))


class IngestKeyForm(forms.ModelForm):
    allowed_origins = OriginsField(
        required=False,
        help_text="One origin a line, scheme://host[:port], e.g. https://shop.example. None: no browser may post.",
    )

    class Meta:
        model = IngestKey
        fields = ("organization", "name", "application", "allowed_origins", "rate_limit", "is_active")


@admin.register(IngestKey)
class IngestKeyAdmin(OrganizationScopedAdmin):
    form = IngestKeyForm
    list_display = ("name", "application", "key", "organization", "is_active", "rate_limit", "created")
    list_filter = ("is_active", "organization")
    search_fields = ("name", "application", "key")
    readonly_fields = ("key", "collector_url", "created")
    actions = ["revoke", "rotate"]

    @admin.display(description="Collector URL")
    def collector_url(self, obj):
        return collector_url(obj) if obj.pk else "-"

    @admin.action(permissions=["change"], description="Revoke the selected keys (refused at once)")
    def revoke(self, request, queryset):
        revoked = sum(services.ingest_key_revoke(key) for key in queryset)
        self.message_user(request, f"{revoked} key(s) revoked.")

    @admin.action(
        permissions=["add"], description="Rotate the selected keys (a new key each; revoke the old once replaced)"
    )
    def rotate(self, request, queryset):
        for key in queryset:
            new = services.ingest_key_rotate(key)
            self.message_user(request, f"{key.key} is replaced by {new.key}: {collector_url(new)}")
