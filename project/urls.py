from django.contrib import admin
from django.urls import include, path

from oauth.views import MeView

urlpatterns = [
    path("", include("oauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/me", MeView.as_view(), name="me"),
]

handler400 = "project.problems.handler400"
handler403 = "project.problems.handler403"
handler404 = "project.problems.handler404"
handler500 = "project.problems.handler500"
