"""The forms of the sign-in pages and of the consent screen."""

from django import forms
from django.utils.translation import gettext_lazy as _
from oauth2_provider.forms import AllowForm


class LoginForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "username"}))
    # Not required: an address of an organisation with single sign-on goes to its identity provider without one.
    # The view asks for it when the address signs in with a password.
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
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
