"""The UBI data in the admin: the maintenance switch (one row, one checkbox, for superusers only: it stops every
organisation's tracking), and the queries and events, read-only, each staff member's organisation's only."""

import json
import uuid

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.utils.html import format_html

from accounts.admin_scope import OrganizationScopedAdmin, ReadOnlyAdmin
from accounts.models import Organization
from insights import identifiers, maintenance, validation
from insights.models import Event, Maintenance, Query


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


class AtLeast(int):
    """A count that stopped at its cap, written ``10,000+``: there are at least that many rows, maybe far more."""

    def __str__(self):
        return f"{int(self):,}+"


class CappedCountPaginator(Paginator):
    """Counts at most ``CAP`` rows: ``COUNT(*)`` over the first ``CAP + 1`` of them (a ``LIMIT``\\ ed subquery).

    Counting tens of millions of rows takes longer than anyone waits for a list, and nobody pages to the millionth
    row: past the cap the list says ``10,000+`` and pages up to the cap; filters and search narrow it down.
    """

    CAP = 10_000

    @cached_property
    def count(self):
        # Unordered: the rows counted need not be sorted first.
        counted = self.object_list.order_by()[: self.CAP + 1].count()
        return AtLeast(self.CAP) if counted > self.CAP else counted


class OrganizationFilter(admin.SimpleListFilter):
    """A superuser's choice of organisation, from the organisations themselves: offering only those the rows
    refer to would read every row."""

    title = "organization"
    parameter_name = "organization"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in Organization.objects.values_list("pk", "name")]

    def queryset(self, request, queryset):
        return queryset.filter(organization_id=_uuid(self.value())) if self.value() else queryset


class RecentValuesFilter(admin.SimpleListFilter):
    """Choices from the newest ``SAMPLE`` rows of one organisation (one read down its time index); any value works
    in the URL. Every distinct value of tens of millions of rows would be a read of all of them, and no index
    orders every organisation's rows together: a superuser sees choices once an organisation is picked."""

    SAMPLE = 10_000
    field = ""

    def lookups(self, request, model_admin):
        rows = model_admin.get_queryset(request)
        if request.user.is_superuser:
            organization = _uuid(request.GET.get(OrganizationFilter.parameter_name))
            if organization is None:
                return []
            rows = rows.filter(organization_id=organization)
        newest = rows.order_by("-timestamp").values_list(self.field, flat=True)
        values = {value for value in newest[: self.SAMPLE] if value is not None}
        return [(value, value) for value in sorted(values)]

    def queryset(self, request, queryset):
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class ApplicationFilter(RecentValuesFilter):
    title = parameter_name = field = "application"


class ActionFilter(RecentValuesFilter):
    title = "action"
    parameter_name = field = "action_name"


class TrackedDocumentAdmin(ReadOnlyAdmin, OrganizationScopedAdmin):
    """A read-only list of tracked documents, newest first, for lists of tens of millions of rows.

    Newest first within the staff member's organisation is a read down the (organization, timestamp) index; the
    count is capped (``CappedCountPaginator``), the full count never made, no facet counted, nothing read per row.
    Search matches exactly (``SEARCH_FIELDS``): a substring match reads every row.
    """

    SEARCH_FIELDS: tuple[str, ...] = ()
    IDENTIFIER = ""  # the field insights.identifiers keeps unique, matched through it
    ordering = ("-timestamp",)
    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    actions = None
    readonly_fields = ("document", "timestamp")
    fields = ("document", "timestamp")

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        return (*shown, "organization") if request.user.is_superuser else shown

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        return (OrganizationFilter, *filters) if request.user.is_superuser else filters

    def get_list_select_related(self, request):
        return ("organization",) if request.user.is_superuser else ()

    def get_search_fields(self, request):
        return self.SEARCH_FIELDS  # shows the search box; get_search_results does the matching

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term or validation.storage_problem(term):
            return queryset, False
        matches = Q()
        for name in self.SEARCH_FIELDS:
            matches |= identifiers.matching(self.model, name, term) if name == self.IDENTIFIER else Q(**{name: term})
        return queryset.filter(matches), False


    @admin.display(description="document as tracked")
    def document(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.to_document(), indent=2, ensure_ascii=False))


@admin.register(Query)
class QueryAdmin(TrackedDocumentAdmin):
    # Each of these but user_query leads an index after the organisation. user_query has none (no length limit:
    # PostgreSQL refuses B-tree entries over ~2.7 kB), so a search reads the organisation's queries newest first
    # until a page is full: at once for a frequent query, longer for a rare one.
    SEARCH_FIELDS = ("query_id", "client_id", "user_query")
    search_help_text = "An exact query_id, client_id or user query."
    list_display = ("timestamp", "user_query", "application", "hits", "query_id")
    list_filter = (ApplicationFilter, ("timestamp", admin.DateFieldListFilter))

    @admin.display(description="hits")
    def hits(self, obj):
        return len(obj.query_response_hit_ids or ())


@admin.register(Event)
class EventAdmin(TrackedDocumentAdmin):
    # Each has an index (insights.models.Event); event_id's, on PostgreSQL, is the identifiers table's.
    SEARCH_FIELDS = ("event_id", "query_id", "session_id", "client_id", "user_id")
    IDENTIFIER = "event_id"
    search_help_text = "An exact event_id, query_id, session_id, client_id or user_id."
    list_display = ("timestamp", "action_name", "application", "object_id", "ordinal", "query_id", "session_id")
    list_filter = (ApplicationFilter, ActionFilter, ("timestamp", admin.DateFieldListFilter))

    @admin.display(description="object id")
    def object_id(self, obj):
        return _attribute(obj, "object", "object_id")

    @admin.display(description="position")
    def ordinal(self, obj):
        return _attribute(obj, "position", "ordinal")


def _attribute(event: Event, group: str, name: str):
    attributes = event.event_attributes if isinstance(event.event_attributes, dict) else {}
    inner = attributes.get(group)
    return inner.get(name) if isinstance(inner, dict) else None


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None
