"""Small builders for the objects most tests need. Everything goes through the real services."""

import itertools

from accounts import services
from accounts.models import Organization, Role, User
from oauth.tokens import access_token_claims, sign

_sequence = itertools.count(1)


def make_org(name: str | None = None) -> Organization:
    return services.organization_get_or_create(name=name or f"Org {next(_sequence)}")


def ensure_roles(names) -> list[str]:
    """Roles come from a data migration, which transactional tests flush away: put back the ones asked for."""
    for name in names:
        Role.objects.get_or_create(name=name)
    return list(names)


def make_client(org: Organization | None = None, *, roles=("insights:read", "insights:write"), name=None):
    """An app client with its clear secret: ``.client`` and ``.client_secret``."""
    return services.app_client_create(
        organization=org or make_org(), name=name or f"client-{next(_sequence)}", roles=ensure_roles(roles)
    )


def make_public_client(
    org: Organization | None = None, *, redirect_uris=("https://app.example/callback",), name=None, **fields
):
    """A public client for people (authorization code with PKCE; the password grant with ``allow_password_grant``)."""
    return services.public_client_create(
        organization=org or make_org(), name=name or f"app-{next(_sequence)}", redirect_uris=list(redirect_uris), **fields
    )


def make_user(org: Organization | None = None, *, email=None, password="correct horse battery", roles=(), **fields):
    user = User.objects.create_user(
        email or f"user{next(_sequence)}@example.com", password, organization=org or make_org(), **fields
    )
    if roles:
        user.roles.set(services.roles_by_name(ensure_roles(roles)))
    return user


def bearer_for(client, *, roles=None, expires_in=3600, **claim_overrides) -> str:
    """A token signed exactly as the token endpoint signs, without an HTTP round trip."""
    role_names = client.role_names() if roles is None else list(roles)
    claims = access_token_claims(client=client, user=None, scopes=role_names, expires_in=expires_in)
    claims.update(claim_overrides)
    return sign(claims)


def make_ingest_key(organization: Organization, application: str, origins=(), **fields):
    """An active ingest key of ``organization`` for ``application``, usable from ``origins`` (a
    ``collector.models.IngestKey``; its ``collector_url`` is ``collector.keys.collector_url(key)``)."""
    from collector import services as collector_services

    return collector_services.ingest_key_create(
        organization=organization, application=application, origins=list(origins), **fields
    )
