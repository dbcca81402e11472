"""The forms of the sign-in pages and of the consent screen."""

from django import forms
from django.utils.translation import gettext_lazy as _
from oauth2_provider.forms import AllowForm


class LoginForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class OneTimeCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ConsentForm(AllowForm):
    # A user without roles may still sign in (the token then carries none), so the hidden scope may be empty.
    scope = forms.CharField(required=False, widget=forms.HiddenInput())
