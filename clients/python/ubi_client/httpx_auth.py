"""``OAuth2Auth``: an ``httpx`` auth flow that sends a bearer token of an ``OAuth2TokenService`` with each request::

    with httpx.Client(base_url=address, auth=OAuth2Auth(tokens)) as client:
        client.get("/api/v1/me")

With ``httpx.AsyncClient`` the token, when one must be fetched, is fetched in a worker thread, so the event loop
keeps running meanwhile.
"""

import anyio.to_thread
import httpx

from ubi_client.tokens import OAuth2TokenService


class OAuth2Auth(httpx.Auth):
    """Sets ``Authorization: Bearer <token>``; a token that cannot be had raises its ``TokenError``."""

    def __init__(self, tokens: OAuth2TokenService):
        self.tokens = tokens

    def sync_auth_flow(self, request: httpx.Request):
        request.headers["Authorization"] = f"Bearer {self.tokens.access_token()}"
        yield request

    async def async_auth_flow(self, request: httpx.Request):
        request.headers["Authorization"] = f"Bearer {await anyio.to_thread.run_sync(self.tokens.access_token)}"
        yield request
