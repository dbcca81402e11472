"""The pages people sign in with during the authorization-code flow, and the one where they enrol a second factor.

Thin: each page runs one step of ``oauth.login`` (the rules the password grant also runs) and shows its error in
the page's language. Django's session login happens only after the last step; until then the session remembers who
passed which step, for a few minutes. Every page keeps ``next`` (where the user was going, usually the authorization
endpoint) and ``lang`` (``en`` or ``fr``, reference/oauth.txt) in its query string.
"""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login as django_login
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView

from accounts import services, totp
from accounts.models import User
from oauth import login
from oauth.errors import InvalidCredentials, OtpRequired, PasswordExpired, TooManyAttempts
from oauth.forms import LoginForm, OneTimeCodeForm

PENDING_SESSION_KEY = "oauth.sign_in_pending"
PENDING_SECONDS = 10 * 60  # time to find the phone, or to choose a new password
SECOND_FACTOR = "second_factor"
NEW_PASSWORD = "new_password"

MESSAGES = {
    InvalidCredentials.error: _("Wrong email address, password or code."),
    TooManyAttempts.error: _("Too many failed attempts. Wait a few minutes, then try again."),
    OtpRequired.error: _("Enter the code from your authenticator app."),
}


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

    def refused(self, form, error):
        """The page again, with the error's message and status (and ``Retry-After`` while locked out)."""
        context = self.get_context_data(form=form, error=MESSAGES[error.error])
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
        self.request.session.pop(PENDING_SESSION_KEY, None)
        django_login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(self._next_url())

    def _pend(self, user: User, stage: str, page: str):
        self.request.session[PENDING_SESSION_KEY] = {"user_id": user.pk, "stage": stage, "since": time.time()}
        return redirect(sign_in_url(self.request, page))

    def _pending_user(self) -> User | None:
        pending = self.request.session.get(PENDING_SESSION_KEY) or {}
        if pending.get("stage") != self.stage or time.time() - pending.get("since", 0) > PENDING_SECONDS:
            return None
        return User.objects.filter(pk=pending.get("user_id"), is_active=True).select_related("organization").first()

    def _next_url(self) -> str:
        target = self.request.GET.get("next", "")
        if url_has_allowed_host_and_scheme(
            target, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return target
        return reverse("oauth:totp")


class LoginView(SignInStep):
    form_class = LoginForm
    title = submit_label = _("Sign in")

    def form_valid(self, form):
        try:
            user = login.check_password(
                email=form.cleaned_data["email"], password=form.cleaned_data["password"], request=self.request
            )
        except (InvalidCredentials, TooManyAttempts) as error:
            return self.refused(form, error)
        return self.advance(user)


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
    login_url = reverse_lazy("oauth:login")

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
