from django.urls import path

from oauth import views

app_name = "oauth"

urlpatterns = [
    path("oauth2/token", views.TokenView.as_view(), name="token"),
    path("v2/auth/token", views.TokenView.as_view(), name="token-v2"),
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path(".well-known/oauth-authorization-server", views.authorization_server_metadata, name="metadata"),
]
