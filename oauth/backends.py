"""How the token endpoint reads a request: a form-encoded body (RFC 6749) or a JSON object (reference/oauth.txt)."""

import json

from oauth2_provider.oauth2_backends import OAuthLibCore

from oauth.oauth_errors import InvalidRequest


def json_params(raw: bytes) -> list[tuple[str, str]]:
    """A JSON token request as oauthlib's ``(name, value)`` pairs. Only a flat object of strings is a request."""
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest(description="The request body is not valid JSON.") from None
    except RecursionError:  # nesting deeper than the parser's recursion: never a request, never a 500
        raise InvalidRequest(description="The request body is nested too deeply.") from None
    if not isinstance(data, dict):
        raise InvalidRequest(description="The request body must be a JSON object.")
    params = []
    for name, value in data.items():
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise InvalidRequest(description=f"The parameter {name!r} must be a string.")
        params.append((name, str(value)))
    return params


class FormOrJSONOAuthLibCore(OAuthLibCore):
    def extract_body(self, request):
        if request.content_type == "application/json":
            return json_params(request.body)
        return super().extract_body(request)

    def create_token_response(self, request):
        body = dict(self.extract_body(request))
        # oauthlib would treat a request without grant_type as an authorization-code exchange.
        if not body.get("grant_type"):
            raise InvalidRequest(description="Missing grant_type parameter.")
        # reference/oauth.txt: "A client_id is required for every grant", in the body or by HTTP Basic; without
        # one it is a missing parameter, as at the authorization endpoint (oauthlib would say invalid_client).
        if not body.get("client_id") and not request.headers.get("Authorization", "").lower().startswith("basic "):
            raise InvalidRequest(description="Missing client_id parameter.")
        return super().create_token_response(request)
