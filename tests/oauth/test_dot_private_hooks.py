"""``oauth/dot_private_hooks.py`` is the one place that overrides django-oauth-toolkit's ``OAuth2Validator`` beyond
oauthlib's public hooks. These tests fail when django-oauth-toolkit renames one of the methods it overrides,
changes their signatures, or stops calling ``_save_bearer_token`` from ``save_bearer_token`` inside its
transaction."""

import inspect
from types import SimpleNamespace

import pytest
from django.db import transaction
from oauth2_provider.oauth2_validators import OAuth2Validator as DotValidator

from oauth.dot_private_hooks import DotPrivateHooksValidator
from oauth.validators import OAuth2Validator

OVERRIDDEN = {
    "save_bearer_token": ["self", "token", "request", "args", "kwargs"],
    "_save_bearer_token": ["self", "token", "request", "args", "kwargs"],
    "_create_access_token": ["self", "expires", "request", "token", "source_refresh_token"],
    "_create_refresh_token": ["self", "request", "refresh_token_code", "access_token", "previous_refresh_token"],
    "_load_application": ["self", "client_id", "request"],
}


@pytest.mark.parametrize("name", sorted(OVERRIDDEN))
def test_django_oauth_toolkit_still_has_each_overridden_method_with_its_signature(name):
    assert list(inspect.signature(getattr(DotValidator, name)).parameters) == OVERRIDDEN[name]


def test_the_private_overrides_live_in_the_hooks_module_only():
    for name in OVERRIDDEN:
        assert name in DotPrivateHooksValidator.__dict__
        assert name not in OAuth2Validator.__dict__


@pytest.mark.django_db(transaction=True)
def test_save_bearer_token_calls_save_bearer_token_private_inside_a_transaction(monkeypatch):
    """django-oauth-toolkit's own ``save_bearer_token`` (the one every grant but a lone client-credentials token
    goes through) delegates to ``_save_bearer_token`` within ``transaction.atomic``."""
    seen = []

    def recording(self, token, request, *args, **kwargs):
        seen.append((token, request, transaction.get_connection().in_atomic_block))

    monkeypatch.setattr(DotValidator, "_save_bearer_token", recording)
    token, request = {"access_token": "a"}, SimpleNamespace(grant_type="refresh_token")
    DotValidator().save_bearer_token(token, request)
    assert seen == [(token, request, True)]
