from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from oauth.sign_in_views import AdminLoginView
from oauth.views import MeView

urlpatterns = [
    path("", include("oauth.urls")),
    # Before the admin's own URLs, which it hides: administrators sign in at the project's login page, with its checks.
    path("admin/login/", AdminLoginView.as_view()),
    path("admin/", admin.site.urls),
    path("api/v1/me", MeView.as_view(), name="me"),
    path("api/v1/", include("insights.urls")),
    # The OpenAPI document and the API reference page (Swagger UI, its assets served from the sidecar package).
    path("api/v1/openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("api/v1/docs", SpectacularSwaggerView.as_view(url_name="openapi"), name="api-docs"),
]

handler400 = "project.problems.handler400"
handler403 = "project.problems.handler403"
handler404 = "project.problems.handler404"
handler500 = "project.problems.handler500"
