"""Scopes are roles: a token may ask for a subset of its principal's roles, never more (django-oauth-toolkit's
``SCOPES_BACKEND_CLASS``)."""

from oauth2_provider.scopes import BaseScopes
from oauthlib.oauth2.rfc6749.errors import InvalidScopeError

from accounts.models import Role


def _principal_roles(application, request) -> list[str]:
    user = getattr(request, "user", None)
    if getattr(user, "pk", None):
        return user.role_names()
    if getattr(request, "response_type", None):
        # An authorization request checked before anyone has signed in: the user, not the client, holds the roles.
        # The consent step narrows them to the user's (``user_roles``), and the code is issued for those.
        return list(Role.objects.values_list("name", flat=True))
    return application.role_names() if application is not None else []


def user_roles(user, *, requested: str | None) -> list[str]:
    """The roles a token of ``user`` carries: all of theirs, or the ``scope`` asked for if they hold every one.

    Raises ``InvalidScopeError`` for a role the user lacks: a scope never widens the roles.
    """
    roles = user.role_names()
    if not requested:
        return roles
    wanted = set(requested.split())
    if not wanted <= set(roles):
        raise InvalidScopeError(description="The scope asks for a role this user does not have.")
    return sorted(wanted)


class RoleScopes(BaseScopes):
    def get_all_scopes(self):
        return dict(Role.objects.values_list("name", "description"))

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return _principal_roles(application, request)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return _principal_roles(application, request)
