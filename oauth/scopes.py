"""Scopes are roles: a token may ask for a subset of its principal's roles, never more (django-oauth-toolkit's
``SCOPES_BACKEND_CLASS``).

Besides roles, a client with an ID-token algorithm (an OpenID Connect relying party, such as another deployment
using this one as its organisation's identity provider) may ask for the OpenID Connect scopes. They choose the ID
token's claims and never count as roles.
"""

from oauth2_provider.scopes import BaseScopes
from oauthlib.oauth2.rfc6749.errors import InvalidScopeError

from accounts.models import Role


# OpenID Connect Core §5.4: what each one adds to the ID token (oauth.validators.OAuth2Validator).
OPENID_SCOPES = {
    "openid": "Confirm who you are (an ID token).",
    "email": "Your email address.",
    "profile": "Your name.",
}


def openid_scopes(application) -> list[str]:
    """The OpenID Connect scopes ``application`` may ask for: all of them if it has an ID-token algorithm."""
    return list(OPENID_SCOPES) if application is not None and application.algorithm else []


def roles_of(scopes) -> list[str]:
    """The roles among granted scopes: the OpenID Connect ones are not roles."""
    return sorted(scope for scope in scopes if scope not in OPENID_SCOPES)


def _principal_roles(application, request) -> list[str]:
    user = getattr(request, "user", None)
    if getattr(user, "pk", None):
        return user.role_names()
    if getattr(request, "response_type", None):
        # An authorization request checked before anyone has signed in: the user, not the client, holds the roles.
        # The consent step narrows them to the user's (``user_roles``), and the code is issued for those.
        return list(Role.objects.values_list("name", flat=True))
    return application.role_names() if application is not None else []


def user_roles(user, *, requested: str | None, application=None) -> list[str]:
    """The roles a token of ``user`` carries: all of theirs, or the ``scope`` asked for if they hold every one;
    plus the OpenID Connect scopes asked for, when ``application`` may ask for them.

    Raises ``InvalidScopeError`` for a role the user lacks: a scope never widens the roles.
    """
    roles = user.role_names()
    wanted = set((requested or "").split())
    openid = wanted & set(openid_scopes(application))
    wanted -= openid
    if not wanted:
        return sorted({*roles, *openid})
    if not wanted <= set(roles):
        raise InvalidScopeError(description="The scope asks for a role this user does not have.")
    return sorted(wanted | openid)


def held_scopes(user, *, granted: list[str], application=None) -> list[str]:
    """The ``granted`` scopes ``user`` may still have (a refresh): their roles of now, and the OpenID Connect scopes
    ``application`` may ask for. A role lost since the grant is never granted again."""
    held = {*user.role_names(), *openid_scopes(application)}
    return [scope for scope in granted if scope in held]


class RoleScopes(BaseScopes):
    def get_all_scopes(self):
        return {**dict(Role.objects.values_list("name", "description")), **OPENID_SCOPES}

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return _principal_roles(application, request) + openid_scopes(application)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return _principal_roles(application, request)
