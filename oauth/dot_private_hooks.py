"""The one place that reaches into django-oauth-toolkit's ``OAuth2Validator`` beyond oauthlib's public hooks.

django-oauth-toolkit's ``save_bearer_token`` opens a transaction and calls ``_save_bearer_token`` inside it; its
docstring asks subclasses to put their logic in ``_save_bearer_token`` and to leave ``save_bearer_token`` alone.
This class overrides both, and two more private methods, for reasons django-oauth-toolkit gives no public way to
serve:

- ``save_bearer_token``: an access token that comes alone (client credentials: no code, no refresh token) is one
  ``INSERT``, atomic by itself, so it is saved without the transaction (BEGIN and COMMIT are two of the three round
  trips to the database of a client's token request); every other grant keeps it.
- ``_save_bearer_token``: the code or refresh token that buys the tokens is consumed inside that transaction
  (``consume_grant``), so it is consumed exactly when its tokens are saved.
- ``_create_refresh_token``: the refresh token it creates is kept on the request (``request.issued_refresh_token``)
  for ``tokens_saved``.
- ``_load_application``: the client comes from this process's copies (``load_client``), not a query per request.

``oauth.validators.OAuth2Validator`` fills the hooks (``consume_grant``, ``tokens_saved``, ``grant_lost_race``,
``load_client``). ``tests/test_dot_private_hooks.py`` fails when django-oauth-toolkit renames one of these methods,
changes its signature, or stops calling ``_save_bearer_token`` from ``save_bearer_token``.
"""

from oauth2_provider import oauth2_validators

from oauth.oauth_errors import InvalidCode


class CodeRedeemedMeanwhile(InvalidCode):
    """A concurrent exchange redeemed the code between its validation and this one's claim."""


class DotPrivateHooksValidator(oauth2_validators.OAuth2Validator):
    def consume_grant(self, request) -> None:
        """Inside the transaction that saves the tokens: consume what buys them; ``CodeRedeemedMeanwhile`` when a
        concurrent exchange has redeemed the code."""

    def tokens_saved(self, token, request) -> None:
        """Inside the same transaction, once the tokens are saved."""

    def grant_lost_race(self, request) -> None:
        """After the transaction of a ``CodeRedeemedMeanwhile`` has rolled back (which would undo anything done
        inside it)."""

    def load_client(self, client_id, request) -> None:
        """Set ``request.client`` before django-oauth-toolkit queries it, if it can."""

    def save_bearer_token(self, token, request, *args, **kwargs):
        if request.grant_type == "client_credentials" and "refresh_token" not in token:
            return self._save_bearer_token(token, request, *args, **kwargs)
        try:
            return super().save_bearer_token(token, request, *args, **kwargs)
        except CodeRedeemedMeanwhile:
            self.grant_lost_race(request)
            raise InvalidCode() from None

    def _save_bearer_token(self, token, request, *args, **kwargs):
        self.consume_grant(request)
        super()._save_bearer_token(token, request, *args, **kwargs)
        self.tokens_saved(token, request)

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        request.issued_refresh_token = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous_refresh_token
        )
        return request.issued_refresh_token

    def _load_application(self, client_id, request):
        if not request.client:
            self.load_client(client_id, request)
        return super()._load_application(client_id, request)
