"""The relevance dashboard: a page of the admin with one organisation's search metrics and judgment lists.

Staff see their own organisation; a superuser picks one (``?org=<id>``). The pages are thin: they read through
the same selectors as the REST API (analytics/metrics.py, analytics/judgment_selectors.py), as a reader of the
organisation that holds only ``insights:read``, so tenancy is the selectors', never the page's.
The figures reach the charts inside the page (``json_script``): one request draws the whole dashboard. A judgment
list is downloaded here with the admin's session, since the REST endpoints want a bearer token.
"""

import json
import uuid

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse

from accounts.models import Organization
from analytics import formats, judgment_selectors, metrics
from analytics.dashboard_filters import DashboardFilters, presets
from oauth.principals import Principal
from project.errors import NotFound

READ_ROLE = "insights:read"
# The client a dashboard reader acts through, in the principal's client_id: the admin's session, not an app.
ADMIN_CLIENT = "admin-dashboard"
CHART_MAX_RANK = 10
TABLE_ROWS = 10
QUERY_TABLES = [
    ("top", "Top queries", "The most frequent searches, with their click-through rate."),
    ("zero-result", "Zero-result queries", "Searches that returned nothing: content or synonyms to add."),
    ("zero-click", "Zero-click queries", "Searches with results that nobody clicked: ranking to look at."),
]
# The downloads a judgment list offers: its JSON (the REST API's), then the files of analytics.formats.
JSON_FORMAT = "json"
DOWNLOADS = (JSON_FORMAT, *formats.MEDIA_TYPES)


def dashboard_reader(user, organization: Organization) -> Principal:
    """The principal the dashboard reads as: the signed-in person, in ``organization``, with ``insights:read``."""
    return Principal(
        kind="user",
        id=str(user.pk),
        org_id=organization.pk,
        roles=frozenset({READ_ROLE}),
        scope=READ_ROLE,
        client_id=ADMIN_CLIENT,
        token_id="",
    )


def chosen_organization(request) -> Organization:
    """Staff: their own organisation, whatever ``org`` says. A superuser: ``org``, else their own, else the first."""
    user = request.user
    if not user.is_superuser:
        if user.organization_id is None:
            raise PermissionDenied("This account belongs to no organisation.")
        return user.organization
    wanted = request.GET.get("org") or user.organization_id
    if not wanted:
        first = Organization.objects.first()
        if first is None:
            raise Http404("There is no organisation yet.")
        return first
    try:
        return Organization.objects.get(pk=uuid.UUID(str(wanted)))
    except (ValueError, Organization.DoesNotExist):
        raise Http404("No such organisation.") from None


def dashboard(request):
    """``/admin/analytics/dashboard/``: headline figures, charts, query tables and judgment lists."""
    organization = chosen_organization(request)
    form = DashboardFilters(request.GET)
    context = {
        **admin.site.each_context(request),
        "title": f"Search analytics · {organization.name}",
        "organization": organization,
        "organizations": Organization.objects.all() if request.user.is_superuser else None,
        "form": form,
        "presets": presets(),
    }
    if form.is_valid():
        context.update(_figures(dashboard_reader(request.user, organization), form))
    return TemplateResponse(request, "analytics/dashboard.html", context)


def _figures(reader: Principal, form: DashboardFilters) -> dict:
    """What the page shows for the form's range. The form admits only what the selectors accept (dates, an
    application of at most 100 characters without NUL), so they raise no ``InvalidInput`` here."""
    filters = form.selector_filters()
    return {
        "summary": metrics.summary(reader, filters=filters),
        "charts": {
            "searchesOverTime": metrics.searches_over_time(reader, filters={**filters, "bucket": form.bucket()}),
            "ctrByRank": metrics.ctr_by_rank(reader, filters={**filters, "maxRank": str(CHART_MAX_RANK)}),
        },
        "tables": [
            {"kind": kind, "title": title, "help": help_text, "queries": _with_bars(_queries(reader, filters, kind))}
            for kind, title, help_text in QUERY_TABLES
        ],
        "judgment_lists": judgment_selectors.judgment_lists(reader),
        "downloads": DOWNLOADS,
        "selection": form.query_string(),
    }


def _queries(reader: Principal, filters: dict, kind: str) -> list[dict]:
    return metrics.query_table(reader, filters={**filters, "kind": kind, "limit": str(TABLE_ROWS)})["queries"]


def _with_bars(queries: list[dict]) -> list[dict]:
    """Each row with ``bar``, its searches as a percentage of the table's most searched row (the bar's width)."""
    most = max((row["searches"] for row in queries), default=0) or 1
    return [{**row, "bar": round(100 * row["searches"] / most, 1)} for row in queries]


def judgment_download(request, list_id: uuid.UUID, file_format: str):
    """``/admin/analytics/dashboard/judgments/<id>/<format>/``: one judgment list as a file, its JSON or one of
    analytics.formats (csv, trec, trec-queries, srw), streamed."""
    if file_format not in DOWNLOADS:
        raise Http404("No such format.")
    reader = dashboard_reader(request.user, chosen_organization(request))
    try:
        if file_format == JSON_FORMAT:
            judgment_list = judgment_selectors.judgment_list_get(reader, list_id=list_id)
            body = json.dumps(judgment_list, ensure_ascii=False)
            return _attachment(HttpResponse(body, content_type="application/json"), judgment_list, "json")
        summary = judgment_selectors.judgment_list_summary(reader, list_id=list_id)
        rows = judgment_selectors.judgment_rows(reader, list_id=list_id)
    except NotFound:
        raise Http404("No such judgment list.") from None
    media_type, extension = formats.MEDIA_TYPES[file_format]
    return _attachment(
        StreamingHttpResponse(formats.write(file_format, summary, rows), content_type=media_type), summary, extension
    )


def _attachment(response, summary: dict, extension: str):
    response["Content-Disposition"] = f'attachment; filename="{formats.file_name(summary, extension)}"'
    return response
