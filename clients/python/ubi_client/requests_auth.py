"""``OAuth2Handler``: a ``requests`` auth that sends a bearer token of an ``OAuth2TokenService`` with each request,
the twin of the platform documents' C# ``OAuth2Handler``::

    session = requests.Session()
    session.auth = OAuth2Handler(OAuth2TokenService(f"{address}/oauth2/token", client_id, client_secret))
    session.get(f"{address}/api/v1/me")
"""

import requests

from ubi_client.tokens import OAuth2TokenService


class OAuth2Handler(requests.auth.AuthBase):
    """Sets ``Authorization: Bearer <token>``; a token that cannot be had raises its ``TokenError``."""

    def __init__(self, tokens: OAuth2TokenService):
        self.tokens = tokens

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.tokens.access_token()}"
        return request
