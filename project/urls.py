from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # Before the admin's URLs: oauth.urls holds /admin/login/, which hides the admin's own login form, since
    # administrators sign in at the project's login page, with its checks.
    path("", include("oauth.urls")),
    # The analytics dashboard's admin pages, before the admin's catch-all.
    path("admin/analytics/", include("analytics.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("rest_api.urls")),
    path("collect/", include("collector.urls")),
    path("", include("observability.urls")),
]

handler400 = "rest_api.problems.handler400"
handler403 = "rest_api.problems.handler403"
handler404 = "rest_api.problems.handler404"
handler500 = "rest_api.problems.handler500"
