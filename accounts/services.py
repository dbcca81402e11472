"""Writes on organisations, users and app clients. The admin and the manage.py commands both call these."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from accounts.models import AppClient, Organization, Role


class UnknownRoles(ValueError):
    pass


def roles_by_name(names: list[str]) -> list[Role]:
    wanted = {name.strip() for name in names if name.strip()}
    roles = list(Role.objects.filter(name__in=wanted))
    missing = wanted - {role.name for role in roles}
    if missing:
        raise UnknownRoles(f"Unknown role(s): {', '.join(sorted(missing))}")
    return roles


def organization_get_or_create(*, name: str) -> Organization:
    organization, _created = Organization.objects.get_or_create(name=name)
    return organization


@dataclass(frozen=True)
class NewAppClient:
    """A client just created, with its secret in clear: the only moment anyone sees it."""

    client: AppClient
    client_secret: str


def set_new_client_secret(client: AppClient) -> str:
    """Give ``client`` a fresh random secret (hashed when saved) and return it in clear, for showing once."""
    secret = generate_client_secret()
    client.client_secret = secret
    client.hash_client_secret = True
    return secret


@transaction.atomic
def app_client_create(*, organization: Organization, name: str, roles: list[str]) -> NewAppClient:
    """A confidential machine client for the client-credentials grant. The secret is stored only as a hash."""
    client = AppClient(
        organization=organization,
        name=name,
        client_type=AppClient.CLIENT_CONFIDENTIAL,
        authorization_grant_type=AppClient.GRANT_CLIENT_CREDENTIALS,
    )
    secret = set_new_client_secret(client)
    client.full_clean()
    client.save()
    client.roles.set(roles_by_name(roles))
    return NewAppClient(client=client, client_secret=secret)


@transaction.atomic
def tokens_revoke_all(*, client: AppClient | None = None, user=None) -> None:
    """End every token of a client or a user being deactivated.

    Deleting the access-token rows is what puts them on the revocation list every server process checks.
    """
    owner = {"application": client} if client is not None else {"user": user}
    get_refresh_token_model().objects.filter(revoked__isnull=True, **owner).update(revoked=timezone.now())
    get_access_token_model().objects.filter(**owner).delete()
