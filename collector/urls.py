"""The browser collector, under ``/collect/`` (``project/urls.py`` mounts it there; docs/collector.md)."""

from django.urls import path

from collector import script_views, views

app_name = "collector"
urlpatterns = [
    path("ubi.js", script_views.collector_script, name="script"),
    path("<str:key>/ubi_events", views.CollectEventsView.as_view(), name="events"),
    path("<str:key>/ubi_queries", views.CollectQueriesView.as_view(), name="queries"),
]
