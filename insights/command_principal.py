"""The principal a manage.py command acts as for one organisation.

Commands reach the data through the same services and selectors as REST and gRPC, which take a ``Principal``:
whoever runs ``manage.py`` already holds the database, so a command acts for the organisation it is told, with
the roles it needs and no token. ``kind`` is ``"command"`` and ``id`` the command's name.
"""

import uuid

from accounts.models import Organization
from oauth.principals import Principal
from project.errors import NotFound

COMMAND = "command"


def command_principal(organization: str, *, roles: tuple[str, ...], command: str) -> Principal:
    """A principal of the organisation named ``organization`` (its name, or its id), holding ``roles``.

    Raises ``NotFound`` for an unknown organisation: a command never creates one by a typo.
    """
    found = command_organization(organization)
    return Principal(
        kind=COMMAND,
        id=command,
        org_id=found.pk,
        roles=frozenset(roles),
        scope=" ".join(sorted(roles)),
        client_id=f"manage.py {command}",
        token_id="",
    )


def command_organization(organization: str) -> Organization:
    """The organisation named ``organization`` (its name, or its id). Raises ``NotFound`` for an unknown one."""
    found = Organization.objects.filter(name=organization).first()
    if found is None and _is_uuid(organization):
        found = Organization.objects.filter(pk=organization).first()
    if found is None:
        raise NotFound(f"No organisation {organization!r}.")
    return found


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
