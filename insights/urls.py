"""The UBI endpoints, mounted under ``/api/v1/`` by ``project/urls.py``."""

from django.urls import path

from insights.api.views import EventsView, QueriesView, QueryView

app_name = "insights"
urlpatterns = [
    path("ubi/queries", QueriesView.as_view(), name="queries"),
    path("ubi/queries/<str:query_id>", QueryView.as_view(), name="query"),
    path("ubi/events", EventsView.as_view(), name="events"),
]
