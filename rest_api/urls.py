"""The REST API, everything under ``/api/v1/`` (``project/urls.py`` mounts it there)."""

from django.urls import path, register_converter
from django.urls.converters import PathConverter
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from rest_api import analytics_views, judgment_views, subject_views, views


class AnyTextConverter(PathConverter):
    """The rest of the path, slashes and line breaks included: a person's id may hold any character."""

    regex = r"[\s\S]+"


register_converter(AnyTextConverter, "text")

app_name = "rest_api"
urlpatterns = [
    path("ubi/queries", views.QueriesView.as_view(), name="queries"),
    path("ubi/queries/<str:query_id>", views.QueryView.as_view(), name="query"),
    path("ubi/events", views.EventsView.as_view(), name="events"),
    path("ubi/subjects/<str:kind>/<text:value>", subject_views.SubjectView.as_view(), name="subject"),
    path("me", views.MeView.as_view(), name="me"),
    path("analytics/summary", analytics_views.SummaryView.as_view(), name="analytics-summary"),
    path("analytics/ctr-by-rank", analytics_views.CtrByRankView.as_view(), name="analytics-ctr-by-rank"),
    path("analytics/queries", analytics_views.QueryTableView.as_view(), name="analytics-queries"),
    path(
        "analytics/searches-over-time",
        analytics_views.SearchesOverTimeView.as_view(),
        name="analytics-searches-over-time",
    ),
    path("judgments", judgment_views.JudgmentListsView.as_view(), name="judgment-lists"),
    path("judgments/<str:list_id>", judgment_views.JudgmentListView.as_view(), name="judgment-list"),
    # The gRPC API's .proto files, for download.
    path("protos/", views.ProtoIndexView.as_view(), name="protos"),
    path("protos/<str:name>", views.ProtoFileView.as_view(), name="proto"),
    # The OpenAPI document and the API reference page (Swagger UI, its assets served from the sidecar package).
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("docs", SpectacularSwaggerView.as_view(url_name="rest_api:openapi"), name="api-docs"),
]
