"""The pages people sign in with during the authorization-code flow, and the one where they enrol a second factor.

Thin: each page runs one step of ``oauth.login`` (the rules the password grant also runs) and shows its error in
the page's language. An address of an organisation with single sign-on leaves the login page for its identity
provider (``oauth.sso_sign_in``) and comes back to ``SsoCallbackView``, which signs the person in and resumes ``next``;
during an authorization request of such an organisation's client, the login page offers its provider first.
Django's session login happens only after the last step, in ``signed_in``, the one place a session is signed in;
until then the session remembers who passed which step, for a few minutes. Every page keeps ``next`` (where the
user was going: the authorization endpoint, or an admin page) and ``lang`` (``en`` or ``fr``, reference/oauth.txt) in
its query string. The admin has no login form of its own (``AdminLoginView``): administrators sign in here too.
"""

import time
from functools import cached_property
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import login as django_login
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django import forms
from django.template.response import TemplateResponse
from django.views import View
from django.views.generic import FormView, RedirectView

from accounts import services, sso_providers, totp
from accounts.models import SsoProvider, User
from accounts.sso_providers import SsoRefused
from oauth import login, sso_sign_in, throttling
from oauth.forms import LoginForm, OneTimeCodeForm
from oauth.oauth_errors import InvalidCredentials, OtpRequired, PasswordExpired, SsoRequired, TooManyAttempts
from project.errors import RateLimited

PENDING_SESSION_KEY = "oauth.sign_in_pending"
PENDING_SECONDS = 10 * 60  # time to find the phone, or to choose a new password
SECOND_FACTOR = "second_factor"
NEW_PASSWORD = "new_password"
# The login page's parameters: ``sso=1`` follows its "Sign in with …" to the provider ``offered_provider`` names;
# ``password=1`` shows the password form alone.
SSO_PARAMETER = "sso"
PASSWORD_PARAMETER = "password"

MESSAGES = {
    InvalidCredentials.error: _("Wrong email address, password or code."),
    TooManyAttempts.error: _("Too many failed attempts. Wait a few minutes, then try again."),
    OtpRequired.error: _("Enter the code from your authenticator app."),
    SsoRequired.error: _("Your organisation signs in through its identity provider."),
}
RATE_LIMITED = _("Too many sign-in attempts from your network. Wait a little, then try again.")


class LanguageMixin:
    """The page speaks the language of its ``lang`` parameter; without one, the browser's (``LocaleMiddleware``)."""

    def dispatch(self, request, *args, **kwargs):
        language = request.GET.get("lang")
        if language in dict(settings.LANGUAGES):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return super().dispatch(request, *args, **kwargs)


def sign_in_url(request, name: str = "oauth:login", **params) -> str:
    """The URL of the sign-in page ``name``, carrying the current request's ``next`` and ``lang`` along."""
    carried = {key: request.GET[key] for key in ("next", "lang") if request.GET.get(key)}
    query = urlencode({**carried, **params})
    return f"{reverse(name)}?{query}" if query else reverse(name)


# Passwords, codes and secrets stay out of error reports; the pages, and the secret on one of them, out of caches.
private_page = [never_cache, sensitive_post_parameters()]


@method_decorator(private_page, name="dispatch")
class SignInStep(LanguageMixin, FormView):
    """One page of the sign-in. ``stage`` names the step a user must have reached to see it (``None``: the first);
    ``title``, ``intro`` and ``submit_label`` are the page's words."""

    template_name = "oauth/sign_in_step.html"
    stage = None
    intro = ""

    def dispatch(self, request, *args, **kwargs):
        self.pending_user = self._pending_user() if self.stage else None
        if self.stage and self.pending_user is None:
            return redirect(sign_in_url(request))
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        """Every post counts against its source address first (``LOGIN_RATE_LIMIT_PER_ADDRESS``): one address trying
        a password on many accounts meets this limit, as one account's guesses meet the lockout."""
        try:
            throttling.limit_login_address(request)
        except RateLimited as limited:
            return self.refused(self.get_form(), TooManyAttempts(limited.retry_after), message=RATE_LIMITED)
        return super().post(request, *args, **kwargs)

    def refused(self, form, error, message=None):
        """The page again, with the error's message (or ``message``) and status, and ``Retry-After`` with a 429."""
        context = self.get_context_data(form=form, error=message or MESSAGES[error.error])
        response = self.render_to_response(context, status=error.status_code)
        if isinstance(error, TooManyAttempts):
            response["Retry-After"] = str(error.retry_after)
        return response

    def advance(self, user: User):
        """After a passed step: the next page, or signed in and on to ``next``."""
        if self.stage is None and user.has_totp:
            return self._pend(user, SECOND_FACTOR, "oauth:login-second-factor")
        try:
            login.finish_sign_in(user)
        except PasswordExpired:
            return self._pend(user, NEW_PASSWORD, "oauth:login-new-password")
        return signed_in(self.request, user, self.request.GET.get("next", ""))

    def _pend(self, user: User, stage: str, page: str):
        self.request.session[PENDING_SESSION_KEY] = {"user_id": user.pk, "stage": stage, "since": time.time()}
        return redirect(sign_in_url(self.request, page))

    def _pending_user(self) -> User | None:
        pending = self.request.session.get(PENDING_SESSION_KEY) or {}
        if pending.get("stage") != self.stage or time.time() - pending.get("since", 0) > PENDING_SECONDS:
            return None
        return User.objects.filter(pk=pending.get("user_id"), is_active=True).select_related("organization").first()

    def _next_url(self) -> str:
        return safe_next_url(self.request, self.request.GET.get("next", ""))


def safe_next_url(request, target: str) -> str:
    """``target`` if it stays on this site, else the two-step page (a signed-in user's own page)."""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("oauth:totp")


def signed_in(request, user: User, next_url: str):
    """The end of every sign-in: no step pending any more, Django's session login, and on to ``next_url``."""
    request.session.pop(PENDING_SESSION_KEY, None)
    django_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(safe_next_url(request, next_url))


def offered_provider(request) -> SsoProvider | None:
    """The provider the login page offers first: that of the organisation whose client's authorization request the
    sign-in resumes (``next``), unless the page was asked for the password form alone (``?password=1``, the way in
    of administrators, whom single sign-on never signs in)."""
    if request.GET.get(PASSWORD_PARAMETER):
        return None
    target = urlsplit(request.GET.get("next", ""))
    if target.path != reverse("oauth:authorize"):
        return None
    client_id = parse_qs(target.query).get("client_id", [""])[0]
    return sso_providers.provider_for_client(client_id)


class LoginView(SignInStep):
    """Email and password; an address of an organisation with single sign-on goes to its provider instead, and
    its password, if one was typed, is not looked at. During an authorization request of a client whose
    organisation has single sign-on, "Sign in with …" comes first (``offered_provider``; ``?sso=1`` follows it)."""

    form_class = LoginForm
    title = submit_label = _("Sign in")

    @cached_property
    def provider_offered(self) -> SsoProvider | None:
        return offered_provider(self.request)

    def get(self, request, *args, **kwargs):
        if self.provider_offered is not None and request.GET.get(SSO_PARAMETER):
            return self._to_provider(self.provider_offered, form=self.get_form())
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        if self.provider_offered is not None:
            kwargs.update(
                sso_provider=self.provider_offered, sso_url=sign_in_url(self.request, **{SSO_PARAMETER: "1"})
            )
        return super().get_context_data(**kwargs)

    def _to_provider(self, provider: SsoProvider, *, form, login_hint: str = ""):
        try:
            return sso_sign_in.authorize_redirect(
                self.request, provider, next_url=self._next_url(), login_hint=login_hint
            )
        except SsoRefused as failure:  # the provider cannot be reached
            return self.render_to_response(self.get_context_data(form=form, error=failure.detail), status=502)

    def form_valid(self, form):
        email, password = form.cleaned_data["email"], form.cleaned_data["password"]
        provider = login.sso_provider(email)
        if provider is not None:
            return self._to_provider(provider, form=form, login_hint=email)
        if not password:
            form.add_error("password", forms.Field.default_error_messages["required"])
            return self.form_invalid(form)
        try:
            user = login.check_password(email=email, password=password, request=self.request)
        except (InvalidCredentials, TooManyAttempts, SsoRequired) as error:
            return self.refused(form, error)
        return self.advance(user)


class AdminLoginView(RedirectView):
    """``/admin/login/``: the login page, keeping ``next`` (the admin page asked for, else the admin's index).

    The admin is entered through every check of the sign-in (password rules, lockout, second factor, single sign-on,
    password age, rate limit), so Django's own admin form, which asks a password alone, is never served, and a post
    to it signs nobody in. The admin still wants a staff account once signed in.
    """

    def get_redirect_url(self, *args, **kwargs):
        return sign_in_url(self.request, next=self.request.GET.get("next") or reverse("admin:index"))


@method_decorator(private_page, name="dispatch")
class SsoCallbackView(LanguageMixin, View):
    """``GET /v2/oauth/sso/callback``: the identity provider sends the browser back here. A verified identity is
    signed in and the sign-in resumes where it started (the authorization request, then consent); anything else
    is the login page again with the reason, and nobody is signed in."""

    def get(self, request, *args, **kwargs):
        pending = sso_sign_in.take_pending(request)
        if pending is None:
            return self._failed(_("This sign-in has expired or was not started here. Sign in again."), next_url="")
        try:
            user = sso_sign_in.complete(request, pending.provider)
        except SsoRefused as failure:
            return self._failed(failure.detail, next_url=pending.next_url)
        login.finish_sso_sign_in(user)
        return signed_in(request, user, pending.next_url)

    def _failed(self, message: str, *, next_url: str):
        """The login page's form, posting to the login page with the sign-in's ``next``, under the reason."""
        params = {"next": next_url} if next_url else {}
        if self.request.GET.get("lang"):
            params["lang"] = self.request.GET["lang"]
        action = reverse("oauth:login") + (f"?{urlencode(params)}" if params else "")
        context = {"view": LoginView, "form": LoginForm(), "error": message, "form_action": action}
        return TemplateResponse(self.request, "oauth/sign_in_step.html", context, status=400)


class SecondFactorView(SignInStep):
    stage = SECOND_FACTOR
    form_class = OneTimeCodeForm
    title = _("Two-step verification")
    intro = _("Enter the six-digit code your authenticator app shows for this account.")
    submit_label = _("Verify")

    def form_valid(self, form):
        try:
            login.check_second_factor(self.pending_user, otp_code=form.cleaned_data["code"])
        except (InvalidCredentials, TooManyAttempts, OtpRequired) as error:
            return self.refused(form, error)
        return self.advance(self.pending_user)


class NewPasswordView(SignInStep):
    """Offered when the password has expired (organisation maximum age, or an administrator's "must change")."""

    stage = NEW_PASSWORD
    form_class = SetPasswordForm
    title = _("Choose a new password")
    intro = _("Your password has expired. Choose a new one to finish signing in.")
    submit_label = _("Change my password")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.pending_user}

    def form_valid(self, form):
        try:
            services.password_change(self.pending_user, new_password=form.cleaned_data["new_password1"])
        except ValidationError as error:
            form.add_error("new_password2", error)
            return self.form_invalid(form)
        return self.advance(self.pending_user)


@method_decorator(private_page, name="dispatch")
class TotpEnrolmentView(LanguageMixin, LoginRequiredMixin, FormView):
    """A signed-in user turns on the one-time-code second factor: a QR code and the secret, then one valid code."""

    template_name = "oauth/totp_enrolment.html"
    form_class = OneTimeCodeForm

    def get(self, request, *args, **kwargs):
        if request.user.has_totp:
            return self.render_to_response({"enabled": True})
        secret = services.totp_begin_enrolment(request.user)
        return self.render_to_response(self.get_context_data(**self._secret_context(secret)))

    def form_valid(self, form):
        user = self.request.user
        if services.totp_confirm(user, code=form.cleaned_data["code"]):
            return self.render_to_response({"enabled": True})
        form.add_error("code", _("That code is not valid. Check the time on your phone and try the next one."))
        return self.form_invalid(form)

    def form_invalid(self, form):
        secret = totp.decrypt(self.request.user.totp_secret)
        if secret is None or self.request.user.has_totp:
            return redirect(self.request.get_full_path())
        return self.render_to_response(self.get_context_data(form=form, **self._secret_context(secret)))

    def _secret_context(self, secret: str) -> dict:
        uri = totp.provisioning_uri(secret, account=self.request.user.email)
        return {"secret": secret, "qr_code": totp.qr_code_data_uri(uri)}
