"""Scopes are roles: a token may ask for a subset of its principal's roles, never more (django-oauth-toolkit's
``SCOPES_BACKEND_CLASS``)."""

from oauth2_provider.scopes import BaseScopes

from accounts.models import Role


def _principal_roles(application, request) -> list[str]:
    user = getattr(request, "user", None)
    if getattr(user, "pk", None):
        return user.role_names()
    return application.role_names() if application is not None else []


class RoleScopes(BaseScopes):
    def get_all_scopes(self):
        return dict(Role.objects.values_list("name", "description"))

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return _principal_roles(application, request)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return _principal_roles(application, request)
