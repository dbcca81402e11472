"""Our rules inside oauthlib's flow: django-oauth-toolkit's validator, with reference/oauth.txt's errors.

django-oauth-toolkit builds it from ``OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"]``. Each method is one oauthlib hook;
where the contract names an error, the hook raises it (``oauth.oauth_errors``) instead of returning ``False``, which
oauthlib would answer with its generic code. The sign-in rules themselves are in ``oauth.login``.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone
from oauth2_provider.models import get_grant_model, get_refresh_token_model, refresh_token_expire_timedelta
from oauthlib.oauth2.rfc6749 import utils
from oauthlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestFatalError, UnauthorizedClientError

from accounts import sso_providers
from accounts.models import AppClient, is_secure_redirect_uri
from oauth import clients, login, redeemed_codes, refresh_rotation, revocation, throttling, token_ids
from oauth.dot_private_hooks import AnsweredMeanwhile, CodeRedeemedMeanwhile, DotPrivateHooksValidator
from oauth.oauth_errors import AccessDenied, InvalidClient, InvalidCode, InvalidRedirectUri, SsoRequired
from oauth.scopes import held_scopes
from oauth.tokens import token_checksum
from observability import metrics
from project.conf import ubi_settings

Grant = get_grant_model()
RefreshToken = get_refresh_token_model()

OTP_PARAMETER = "x-otp-code"


class OAuth2Validator(DotPrivateHooksValidator):
    # --- Clients and redirect URIs ----------------------------------------------------------------------------

    def authenticate_client(self, request, *args, **kwargs):
        """A confidential client's credentials; then one token request on its rate limit (``RateLimited``)."""
        authenticated = super().authenticate_client(request, *args, **kwargs)
        if authenticated:
            throttling.limit_token_client(request.client.client_id)
        return authenticated

    def load_client(self, client_id, request):
        """The client from this process's current copies (``oauth.clients``), not a query per token request."""
        try:
            request.client = clients.get(client_id)
        except ValueError:  # a client_id the database cannot hold (NUL): django-oauth-toolkit answers it as unknown
            pass

    def authenticate_client_id(self, client_id, request, *args, **kwargs):
        """A public client, known by its id alone; then one token request on its rate limit (``RateLimited``)."""
        authenticated = super().authenticate_client_id(client_id, request, *args, **kwargs)
        if authenticated:
            throttling.limit_token_client(request.client.client_id)
        return authenticated

    def validate_client_id(self, client_id, request, *args, **kwargs):
        """Authorization endpoint (RFC 6749 §4.1.2.1): an unknown or inactive client is never redirected to."""
        if not super().validate_client_id(client_id, request, *args, **kwargs):
            raise InvalidClient()
        return True

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        """The grants of the client's kind (``AppClient.allowed_grant_types``); others are ``unauthorized_client``."""
        return grant_type in client.allowed_grant_types()

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        """A registered URI; for a public client, ``http`` only to loopback (``is_secure_redirect_uri``), also when
        it was registered before that rule or around the model's validation."""
        if not super().validate_redirect_uri(client_id, redirect_uri, request, *args, **kwargs):
            raise InvalidRedirectUri()
        if request.client.client_type == AppClient.CLIENT_PUBLIC and not is_secure_redirect_uri(redirect_uri):
            raise InvalidRedirectUri(description="A public client's http:// redirect URI must be a loopback one.")
        return True

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        """reference/oauth.txt makes ``redirect_uri`` required: never fall back on a registered one."""
        raise InvalidRequestFatalError(description="Missing redirect_uri parameter.")

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, *args, **kwargs):
        """Token endpoint (RFC 6749 §4.1.3): the exchange names the redirect URI the code was issued for."""
        if not super().confirm_redirect_uri(client_id, code, redirect_uri, client, *args, **kwargs):
            raise InvalidRedirectUri(description="The redirect_uri differs from the authorization request's.")
        return True

    # --- Authorization codes ------------------------------------------------------------------------------------
    # A grant row keeps the digest of its code (``token_checksum``), never the code, so a copy of the database
    # redeems nothing (RFC 9700 §4.14, as django-oauth-toolkit's COMPLIANT_BCP_RFC9700_TOKEN_STORAGE does for
    # tokens, which does not cover grants). oauthlib hands the code from the request to every hook; the two that
    # receive it first turn it into its digest, and ``validate_code`` puts the digest in ``request.code`` for the
    # hooks after it (PKCE, the redirect URI, redeeming, the ID token's nonce).

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        try:
            login.check_client_allowed(request.user, request.client)
        except AccessDenied as error:
            # With the request, the error carries the client's ``state`` back on the redirect.
            raise AccessDenied(description=error.description, request=request) from None
        stored = {**code, "code": token_checksum(code["code"])}  # ``code`` itself goes to the browser
        super().save_authorization_code(client_id, stored, request, *args, **kwargs)

    def get_authorization_code_scopes(self, client_id, code, redirect_uri, request):
        """Read before the grant type is chosen (OpenID Connect or plain), from the code in the request body."""
        return super().get_authorization_code_scopes(client_id, token_checksum(code), redirect_uri, request)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        """A live code of this client; otherwise ``invalid_code``. A code already redeemed also revokes every token
        its first redemption led to (RFC 6749 §4.1.2)."""
        request.code = token_checksum(code)
        if super().validate_code(client_id, request.code, client, request, *args, **kwargs):
            return True
        self._revoke_tokens_of_redeemed_code(request.code)
        raise InvalidCode()

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        """Nothing left to do: ``_redeem_code`` consumed the code in the transaction that saved its tokens."""

    def _redeem_code(self, request):
        # Deleting the grant is the claim: of two concurrent exchanges one deletes it, the other deletes nothing.
        # The loser's revocation waits until its transaction has rolled back (``grant_lost_race``), which would
        # otherwise undo it.
        deleted, _ = Grant.objects.filter(code=request.code, application=request.client).delete()
        if not deleted:
            raise CodeRedeemedMeanwhile()

    def _revoke_tokens_of_redeemed_code(self, code):
        family = redeemed_codes.token_family(code)
        if family is not None:
            RefreshToken.revoke_family(family)

    # --- Users --------------------------------------------------------------------------------------------------

    def validate_user(self, username, password, client, request, *args, **kwargs):
        """Password grant: the sign-in rules (``oauth.login``), the one-time code in ``x-otp-code``."""
        # Before the password is tried: a client that may not use this grant makes no failed attempt.
        if not self.validate_grant_type(request.client_id, "password", client, request):
            raise UnauthorizedClientError(description="This client does not allow the password grant.")
        otp_code = dict(request.decoded_body or ()).get(OTP_PARAMETER)
        user = login.sign_in(
            email=username, password=password, otp_code=otp_code, request=self.build_http_request(request)
        )
        login.check_client_allowed(user, client)
        request.user = user
        return True

    # --- OpenID Connect (this deployment as an organisation's identity provider) -----------------------------

    def get_oidc_issuer_endpoint(self, request):
        """The ID token's ``iss``: the same issuer as the access tokens' and the discovery document's."""
        return settings.OAUTH_ISSUER

    def get_additional_claims(self, request):
        """OpenID Connect Core §5.4: ``email`` with the ``email`` scope, ``name`` with ``profile``. No
        ``email_verified``: administrators type addresses in, nothing here proves them."""
        claims = {"email": request.user.email}
        if request.user.full_name:
            claims["name"] = request.user.full_name
        return claims

    # --- Refresh tokens -----------------------------------------------------------------------------------------

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        """A live refresh token of this client, or one just rotated out and presented again within its grace period
        (``oauth.refresh_rotation``: ``request.kept_answer`` is then the answer). Any other spent or revoked one is
        taken for stolen: its whole family is revoked. Then two lifetimes: the token's,
        ``REFRESH_TOKEN_EXPIRE_SECONDS`` from its issue, and its sign-in's (the family),
        ``REFRESH_FAMILY_MAX_AGE_SECONDS`` from the grant that began it, so a refresh renews the token, never the
        sign-in; last, the user may still sign in as they did (``_check_user_may_refresh``).

        Each refusal is RFC 6749 §5.2 ``invalid_grant`` with its reason (``InvalidGrantError``)."""
        token = (
            RefreshToken.objects.filter(token_checksum=token_checksum(refresh_token))
            .select_related("user")
            .order_by(F("revoked").desc(nulls_first=True))  # the live one first, if a checksum is found twice
            .first()
        )
        if token is None:
            raise InvalidGrantError(description="Unknown refresh token.")
        if token.revoked is not None:
            request.kept_answer = refresh_rotation.kept_answer(token) if token.application_id == client.pk else None
            if request.kept_answer is None:
                revocation.revoke_refresh(token)
                raise InvalidGrantError(
                    description="The refresh token was already used or revoked: every token of its sign-in is revoked."
                )
        elif token.access_token_id is None:  # its access token deleted by hand: nothing to renew from
            raise InvalidGrantError(description="The refresh token has been revoked.")
        if token.application_id != client.pk:
            raise InvalidGrantError(description="The refresh token was issued to another client.")
        now = timezone.now()
        if token.created + refresh_token_expire_timedelta() <= now:
            raise InvalidGrantError(description="The refresh token has expired.")
        signed_in = _family_start(token)
        if signed_in + timedelta(seconds=ubi_settings.REFRESH_FAMILY_MAX_AGE_SECONDS) <= now:
            raise InvalidGrantError(description="This sign-in has reached its maximum age: sign in again.")
        _check_user_may_refresh(token.user, client, signed_in=signed_in)
        # What django-oauth-toolkit's own validation leaves for its other hooks (scopes, saving).
        request.user, request.refresh_token, request.refresh_token_instance = token.user, refresh_token, token
        return True

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        """RFC 6749 §6: the scopes of the grant, less the roles the user has lost since (``held_scopes``)."""
        granted = utils.scope_to_list(super().get_original_scopes(refresh_token, request, *args, **kwargs))
        return held_scopes(request.user, granted=granted or [], application=request.client)

    # --- Saving tokens (oauth.dot_private_hooks calls these) -----------------------------------------------------

    def consume_grant(self, request):
        if request.grant_type == "authorization_code":
            self._redeem_code(request)
        elif request.grant_type == "refresh_token":
            # Kept apart: django-oauth-toolkit's rotation clears request.refresh_token_instance.
            request.spent_refresh_token = request.refresh_token_instance
            answer = refresh_rotation.claim(request.spent_refresh_token)
            if answer is not None:
                raise AnsweredMeanwhile(answer)

    def tokens_saved(self, token, request):
        token_ids.remember(request.issued_access_token, token["access_token"])
        grant_type = request.grant_type  # one of the grants validate_grant_type let through
        transaction.on_commit(lambda: metrics.TOKENS_ISSUED.labels(grant_type).inc())
        if request.grant_type == "authorization_code":
            redeemed_codes.remember(request.code, token_family=request.issued_refresh_token.token_family)
        elif request.grant_type == "refresh_token":
            refresh_rotation.keep(request.spent_refresh_token, successor=request.issued_refresh_token, answer=token)

    def grant_lost_race(self, request):
        self._revoke_tokens_of_redeemed_code(request.code)


def _family_start(token) -> datetime:
    """When the sign-in ``token`` belongs to began: the creation of its family's first refresh token, which stays
    (revoked) while the family lives."""
    if token.token_family is None:
        return token.created
    return RefreshToken.objects.filter(token_family=token.token_family).aggregate(first=Min("created"))["first"]


def _check_user_may_refresh(user, client, *, signed_in: datetime) -> None:
    """A refresh is a sign-in without the password: refused (``InvalidGrantError``) when the user cannot sign in
    that way today. Inactive; outside the client's organisation; the password due a change (an
    account without one signs in at its identity provider, where its age is not ours to judge); or single
    sign-on made mandatory for their address (a service account excepted, as ``login.check_password_allowed``
    decides) since the sign-in began. A sign-in begun after the provider last changed went through it: while it
    is mandatory, no password is accepted for the address."""
    if not user.is_active:
        raise InvalidGrantError(description="The account is inactive.")
    try:
        login.check_client_allowed(user, client)
    except AccessDenied:
        raise InvalidGrantError(description="The account does not belong to this client's organisation.") from None
    if user.has_usable_password() and login.password_expired(user):
        raise InvalidGrantError(description="The password must be changed: sign in again.")
    try:
        login.check_password_allowed(user.email)
    except SsoRequired:
        if signed_in <= sso_providers.provider_for_email(user.email).updated:
            raise InvalidGrantError(
                description="This organisation signs in through its identity provider: sign in there."
            ) from None
