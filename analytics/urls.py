"""The dashboard's pages, under ``/admin/analytics/``: admin pages (the admin's sign-in and staff check), routed
before the admin's own URLs by project/urls.py."""

from django.contrib import admin
from django.urls import path

from analytics import dashboard

app_name = "analytics"

urlpatterns = [
    path("dashboard/", admin.site.admin_view(dashboard.dashboard), name="dashboard"),
    path(
        "dashboard/judgments/<uuid:list_id>/<str:file_format>/",
        admin.site.admin_view(dashboard.judgment_download),
        name="judgment-download",
    ),
]
