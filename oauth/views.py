"""The authorization server's HTTP endpoints: authorize, token, revocation, discovery and keys.

The sign-in pages the authorization endpoint sends people to are in ``oauth.sign_in_views``.
"""

import json

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import get_application_model
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import add_params_to_uri
from oauthlib.oauth2 import OAuth2Error

from accounts import sso_providers
from accounts.sso_providers import SsoRefused
from oauth import keys, login, revocation, sso_sign_in, throttling, token_ids
from oauth.forms import ConsentForm
from oauth.oauth_errors import ERRORS, AccessDenied, InvalidClient, TokenRateLimited, error_body
from oauth.oauthlib_server import S256, Server
from oauth.scopes import RoleScopes, user_roles
from oauth.sign_in_views import LanguageMixin, sign_in_url
from project.errors import RateLimited


def token_endpoint_response(body: str, status: int, headers: dict) -> HttpResponse:
    """Copy oauthlib's answer, putting errors through the table of reference/oauth.txt (``ERRORS``): its status,
    and an ``error_description`` in every body."""
    if status >= 400:
        error = json.loads(body or "{}")
        code = ERRORS.get(error.get("error"))
        status = code.status if code else status
        body = json.dumps({**error, **error_body(error.get("error"), error.get("error_description"))})
        headers = {name: value for name, value in headers.items() if name.lower() != "www-authenticate"}
    response = HttpResponse(body, status=status, content_type="application/json")
    for name, value in headers.items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response


def oauth_error_response(error: OAuth2Error) -> HttpResponse:
    return token_endpoint_response(error.json, error.status_code, error.headers)


class JsonMethodNotAllowed:
    """A method the endpoint does not take: 405 with ``Allow``, and an RFC 6749 body like its other errors, not
    Django's empty HTML page."""

    def http_method_not_allowed(self, request, *args, **kwargs):
        allowed = [method for method in self._allowed_methods() if method != "OPTIONS"]
        body = error_body("invalid_request", f"{request.method} is not allowed here: use {', '.join(allowed)}.")
        response = JsonResponse(body, status=405)
        response["Allow"] = ", ".join(self._allowed_methods())
        response["Cache-Control"] = "no-store"
        return response


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(sensitive_post_parameters(), name="dispatch")  # passwords, one-time codes, secrets, tokens
class TokenView(JsonMethodNotAllowed, OAuthLibMixin, View):
    """``POST /oauth2/token`` and ``POST /v2/auth/token``: every grant, one implementation (oauthlib's).

    Rate limited per source address first, then per client once it is authenticated (``OAuth2Validator``): a
    ``rate_limited`` 429 with ``Retry-After`` (``too_many_attempts`` is the lockout of an account after failed
    sign-ins, another matter).
    """

    def post(self, request, *args, **kwargs):
        try:
            throttling.limit_token_address(request)
            _url, headers, body, status = self.create_token_response(request)
        except OAuth2Error as error:
            return oauth_error_response(error)
        except RateLimited as limited:
            return oauth_error_response(TokenRateLimited(limited.retry_after, description=limited.detail))
        return token_endpoint_response(body, status, headers)


class AuthorizeView(LanguageMixin, AuthorizationView):
    """``GET /v2/oauth/authorize``: django-oauth-toolkit's authorization endpoint and consent screen, with three
    changes. The request is checked before anyone signs in; the token gets the user's roles (narrowed by
    ``scope``); and only the user's answer goes back to the client (``?code=`` or ``?error=access_denied``, with
    ``state`` and RFC 9207's ``iss``): a wrong request is answered here, 400 with reference/oauth.txt's error code,
    never redirected.
    """

    template_name = "oauth/consent.html"
    form_class = ConsentForm

    def handle_no_permission(self):
        try:
            self.validate_authorization_request(self.request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        provider = self._provider_to_sign_in_at()
        if provider is not None:
            try:
                return sso_sign_in.authorize_redirect(
                    self.request, provider, next_url=self.request.get_full_path(),
                    login_hint=self.request.GET.get("login_hint", ""),
                )
            except SsoRefused:
                pass  # the login page, which shows why when the address is submitted
        return redirect_to_login(self.request.get_full_path(), sign_in_url(self.request), "next")

    def _provider_to_sign_in_at(self):
        """Where the person signs in without seeing the login page, if anywhere. A ``login_hint`` decides by its
        address (OpenID Connect Core §3.1.2.1; ``login.sso_provider``): one that signs in with a password, such as
        an administrator's, gets the login page. Otherwise the provider of the client's organisation when its single
        sign-on is mandatory; optional single sign-on is offered first on the login page (``LoginView``)."""
        hint = self.request.GET.get("login_hint", "")
        if hint:
            return login.sso_provider(hint)
        provider = sso_providers.provider_for_client(self.request.GET.get("client_id", ""))
        return provider if provider is not None and provider.mandatory else None

    def validate_authorization_request(self, request):
        scopes, credentials = super().validate_authorization_request(request)
        if request.user.is_authenticated:
            # oauthlib's request carries the client it loaded while validating the client_id.
            application = credentials["request"].client
            try:
                scopes = user_roles(request.user, requested=request.GET.get("scope"), application=application)
            except OAuth2Error as error:
                raise OAuthToolkitError(error=error) from None
        return scopes, credentials

    def form_valid(self, form):
        # The hidden fields come back from the browser: an edited client_id is an unknown client, not a crash.
        if not get_application_model().objects.filter(client_id=form.cleaned_data["client_id"]).exists():
            return oauth_error_response(InvalidClient())
        return super().form_valid(form)

    def error_response(self, error, application, **kwargs):
        if error.oauthlib_error.error != AccessDenied.error:
            return oauth_error_response(error.oauthlib_error)
        response = super().error_response(error, application, **kwargs)
        # RFC 9207 §2: an error response names the issuer too (django-oauth-toolkit adds it to the code's redirect).
        issuer = oauth2_settings.oauth2_authorization_server_issuer(self.request)
        response["Location"] = add_params_to_uri(response["Location"], [("iss", issuer)])
        return response

    def get_context_data(self, **kwargs):
        roles = zip(kwargs.get("scopes", ()), kwargs.get("scopes_descriptions", ()))
        return super().get_context_data(roles=list(roles), **kwargs)


@method_decorator(csrf_exempt, name="dispatch")
class TokenRevocationView(JsonMethodNotAllowed, View):
    """``DELETE /v2/auth/token/<token_id>`` (reference/oauth.txt) and ``POST /oauth2/revoke`` (RFC 7009); each URL
    takes its one method (``oauth/urls.py``).

    Holding a token is what allows revoking it; a ``jti`` in the path also needs its owner's authentication
    (``oauth.token_ids``). Always a success, even for an unknown token (RFC 7009 §2.2): the answer tells nothing
    about which tokens exist.
    """

    def delete(self, request, token_id):
        token_ids.revoke_by_id(token_id, authorization=request.headers.get("Authorization", ""))
        return HttpResponse(status=204)

    def post(self, request):
        revocation.revoke_token(request.POST.get("token", ""))
        return HttpResponse(status=200)


@cache_control(public=True, max_age=300)
def jwks(request):
    return JsonResponse(keys.jwks())


@cache_control(public=True, max_age=300)
def authorization_server_metadata(request):
    """RFC 8414 metadata."""
    return JsonResponse(_metadata(request))


@cache_control(public=True, max_age=300)
def openid_configuration(request):
    """OpenID Connect Discovery 1.0: the RFC 8414 metadata plus what a relying party needs to verify ID tokens.
    ID tokens are signed with the RS256 key of ``OIDC_RSA_PRIVATE_KEY`` (django-oauth-toolkit's), published at the
    same JWKS endpoint as the access tokens' key."""
    return JsonResponse(
        {
            **_metadata(request),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [keys.ID_TOKEN_ALGORITHM],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "email", "name"],
        }
    )


def _metadata(request) -> dict:
    def url(name):
        return request.build_absolute_uri(reverse(name))

    return {
        "issuer": settings.OAUTH_ISSUER,
        "authorization_endpoint": url("oauth:authorize"),
        "token_endpoint": url("oauth:token"),
        "revocation_endpoint": url("oauth:revoke"),
        "jwks_uri": url("oauth:jwks"),
        "response_types_supported": ["code"],
        "grant_types_supported": sorted(Server.GRANT_TYPES),
        "code_challenge_methods_supported": [S256],
        "authorization_response_iss_parameter_supported": True,  # RFC 9207
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "ui_locales_supported": [code for code, _name in settings.LANGUAGES],
        "scopes_supported": sorted(RoleScopes().get_all_scopes()),
        "token_endpoint_auth_signing_alg_values_supported": [keys.ALGORITHM],
        "service_documentation": request.build_absolute_uri("/api/v1/docs"),
    }
