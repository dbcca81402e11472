"""The one place that reaches into django-oauth-toolkit's ``OAuth2Validator`` beyond oauthlib's public hooks.

django-oauth-toolkit's ``save_bearer_token`` opens a transaction and calls ``_save_bearer_token`` inside it; its
docstring asks subclasses to put their logic in ``_save_bearer_token`` and to leave ``save_bearer_token`` alone.
This class overrides both, and two more private methods, for reasons django-oauth-toolkit gives no public way to
serve:

- ``save_bearer_token``: an access token that comes alone (client credentials: no code, no refresh token) is one
  ``INSERT``, atomic by itself, so it is saved without the transaction (BEGIN and COMMIT are two of the three round
  trips to the database of a client's token request); every other grant keeps it.
- ``_save_bearer_token``: the code or refresh token that buys the tokens is consumed inside that transaction
  (``consume_grant``), so it is consumed exactly when its tokens are saved. A refresh token is consumed by marking
  it revoked there; django-oauth-toolkit's rotation then finds it revoked, so its ``RefreshToken.revoke()`` does
  nothing, and the access token issued beside it lives on until it expires (reference/oauth.txt: a refresh renews,
  it signs nobody out).
- ``_create_access_token`` and ``_create_refresh_token``: the tokens they create are kept on the request
  (``request.issued_access_token``, ``request.issued_refresh_token``) for ``tokens_saved``.
- ``_load_application``: the client comes from this process's copies (``load_client``), not a query per request.

A request may also be answered without saving anything: ``request.kept_answer`` (a retried refresh within its grace
period, ``oauth.refresh_rotation``), or ``AnsweredMeanwhile`` from ``consume_grant`` (a concurrent refresh spent the
token and committed its answer); the token response is then that answer.

``oauth.validators.OAuth2Validator`` fills the hooks (``consume_grant``, ``tokens_saved``, ``grant_lost_race``,
``load_client``). ``tests/test_dot_private_hooks.py`` fails when django-oauth-toolkit renames one of these methods,
changes its signature, or stops calling ``_save_bearer_token`` from ``save_bearer_token``; the refresh tests
(tests/oauth/test_refresh_rotation.py) fail when its rotation ends the previous access token again.
"""

from oauth2_provider import oauth2_validators

from oauth.oauth_errors import InvalidCode


class CodeRedeemedMeanwhile(InvalidCode):
    """A concurrent exchange redeemed the code between its validation and this one's claim."""


class AnsweredMeanwhile(Exception):  # noqa: N818 (a signal between two hooks, not an error)
    """A concurrent refresh spent the refresh token and committed ``answer``: this request answers the same."""

    def __init__(self, answer: dict):
        self.answer = answer
        super().__init__("answered by a concurrent refresh")


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
        kept_answer = getattr(request, "kept_answer", None)
        if kept_answer is not None:
            return _answer_with(token, kept_answer)
        if request.grant_type == "client_credentials" and "refresh_token" not in token:
            return self._save_bearer_token(token, request, *args, **kwargs)
        try:
            return super().save_bearer_token(token, request, *args, **kwargs)
        except CodeRedeemedMeanwhile:
            self.grant_lost_race(request)
            raise InvalidCode() from None
        except AnsweredMeanwhile as meanwhile:
            return _answer_with(token, meanwhile.answer)

    def _save_bearer_token(self, token, request, *args, **kwargs):
        self.consume_grant(request)
        super()._save_bearer_token(token, request, *args, **kwargs)
        self.tokens_saved(token, request)

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        request.issued_access_token = super()._create_access_token(
            expires, request, token, source_refresh_token=source_refresh_token
        )
        return request.issued_access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        request.issued_refresh_token = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous_refresh_token
        )
        return request.issued_refresh_token

    def _load_application(self, client_id, request):
        if not request.client:
            self.load_client(client_id, request)
        return super()._load_application(client_id, request)


def _answer_with(token: dict, answer: dict) -> None:
    """oauthlib answers the ``token`` dict it passed to ``save_bearer_token``: make it ``answer``."""
    token.clear()
    token.update(answer)
