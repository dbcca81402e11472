"""The authorization server's HTTP endpoints: token, discovery and keys; and ``/api/v1/me``."""

import json

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.oauth2 import OAuth2Error
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth import keys
from oauth.errors import ERROR_STATUS
from oauth.scopes import RoleScopes


def token_endpoint_response(body: str, status: int, headers: dict) -> HttpResponse:
    """Copy oauthlib's answer, putting error statuses through the table of reference/oauth.txt."""
    if status >= 400:
        error = json.loads(body or "{}").get("error")
        status = ERROR_STATUS.get(error, status)
        headers = {name: value for name, value in headers.items() if name.lower() != "www-authenticate"}
    response = HttpResponse(body, status=status, content_type="application/json")
    for name, value in headers.items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response


@method_decorator(csrf_exempt, name="dispatch")
class TokenView(OAuthLibMixin, View):
    """``POST /oauth2/token`` and ``POST /v2/auth/token``: every grant, one implementation (oauthlib's)."""

    def post(self, request, *args, **kwargs):
        try:
            _url, headers, body, status = self.create_token_response(request)
        except OAuth2Error as error:
            headers, body, status = error.headers, error.json, error.status_code
        return token_endpoint_response(body, status, headers)


@cache_control(public=True, max_age=300)
def jwks(request):
    return JsonResponse(keys.jwks())


@cache_control(public=True, max_age=300)
def authorization_server_metadata(request):
    """RFC 8414 metadata."""

    def url(name):
        return request.build_absolute_uri(reverse(name))

    return JsonResponse(
        {
            "issuer": settings.OAUTH_ISSUER,
            "token_endpoint": url("oauth:token"),
            "jwks_uri": url("oauth:jwks"),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": sorted(RoleScopes().get_all_scopes()),
            "token_endpoint_auth_signing_alg_values_supported": [keys.ALGORITHM],
            "service_documentation": request.build_absolute_uri("/api/v1/docs"),
        }
    )


class MeView(APIView):
    """``GET /api/v1/me``: the caller's principal, as its bearer token proves it."""

    def get(self, request):
        principal = request.user
        return Response(
            {
                "type": principal.kind,
                "id": principal.id,
                "organization": str(principal.org_id),
                "client_id": principal.client_id,
                "roles": sorted(principal.roles),
                "scope": principal.scope,
            }
        )
