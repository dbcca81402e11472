from django.urls import path

from oauth import sign_in_views, views

app_name = "oauth"

urlpatterns = [
    path("oauth2/token", views.TokenView.as_view(), name="token"),
    path("v2/auth/token", views.TokenView.as_view(), name="token-v2"),
    path(
        "v2/auth/token/<str:token_id>",
        views.TokenRevocationView.as_view(http_method_names=["delete", "options"]),
        name="token-revoke",
    ),
    path("oauth2/revoke", views.TokenRevocationView.as_view(http_method_names=["post", "options"]), name="revoke"),
    path("v2/oauth/authorize", views.AuthorizeView.as_view(), name="authorize"),
    path("v2/oauth/login", sign_in_views.LoginView.as_view(), name="login"),
    path("v2/oauth/login/code", sign_in_views.SecondFactorView.as_view(), name="login-second-factor"),
    path("v2/oauth/login/new-password", sign_in_views.NewPasswordView.as_view(), name="login-new-password"),
    path("v2/oauth/two-step", sign_in_views.TotpEnrolmentView.as_view(), name="totp"),
    path("v2/oauth/sso/callback", sign_in_views.SsoCallbackView.as_view(), name="sso-callback"),
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path(".well-known/oauth-authorization-server", views.authorization_server_metadata, name="metadata"),
    path(".well-known/openid-configuration", views.openid_configuration, name="openid-configuration"),
    # project/urls.py includes these before the admin's URLs, so this one hides the admin's own login form.
    path("admin/login/", sign_in_views.AdminLoginView.as_view(), name="admin-login"),
]
