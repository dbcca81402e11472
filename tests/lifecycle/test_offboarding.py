"""Offboarding: deleting an organisation leaves no row of it in any table, checked table by table from the model
registry; another organisation keeps every row; one audit event of the offboarding stays.

Every model with a foreign-key path to ``Organization`` is found by walking the registry (``organization_paths``),
and the world below must hold rows of each one: a new model fails ``test_the_world_fills_every_table`` until the
world fills it, and ``test_no_model_refers_to_an_organisation_in_a_way_the_check_cannot_see`` fails for a model
that names an organisation without a foreign key (an ``organization_id`` column of its own, a generic relation).
"""

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from oauth2_provider.models import DeviceGrant, get_access_token_model, get_grant_model, get_id_token_model
from oauth2_provider.models import get_refresh_token_model

from accounts import audit
from accounts.models import AuditEvent, Organization, SsoDomain, SsoIdentity, SsoProvider
from analytics import rollups
from analytics.models import AnalyticsSettings
from analytics.services import compute_judgment_list
from insights import suppressions
from insights.command_principal import command_principal
from lifecycle.offboarding import ORGANIZATION_OBJECT, delete_organization
from lifecycle.retention import set_retention
from oauth.models import AccessTokenId, RotatedRefreshToken
from tests.support import factories
from tests.support.api import Api
from tests.support.lifecycle import track_event, track_query
from tests.support.oauth_client import post_token

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
# Models whose rows name an organisation otherwise than by a foreign key, each with how this module checks them.
CHECKED_OTHERWISE = {
    "admin.LogEntry": "content_type and object_id: test_the_admin_log_forgets_the_organisation_s_objects",
    "accounts.AuditEvent": "object_id of the offboarding record: test_one_audit_event_of_the_offboarding_stays",
}


def organization_paths(model, seen=()) -> list[str]:
    """Every lookup from ``model`` to ``Organization`` along forward foreign keys and one-to-one fields."""
    paths = []
    for field in model._meta.get_fields():
        if not (field.is_relation and field.concrete and (field.many_to_one or field.one_to_one)):
            continue
        target = field.related_model
        if target is Organization:
            paths.append(field.name)
        elif target is not model and target not in seen:
            paths += [f"{field.name}__{path}" for path in organization_paths(target, (*seen, model))]
    return paths


def tenant_models() -> dict:
    """``{model: paths}`` of every installed model (through tables included) with a path to ``Organization``."""
    return {
        model: paths
        for model in apps.get_models(include_auto_created=True)
        if (paths := organization_paths(model))
    }


def rows_of(organization) -> dict[str, set]:
    """The primary keys of the organisation's rows, model by model, along every path."""
    rows = {}
    for model, paths in tenant_models().items():
        pks = set()
        for path in paths:
            pks.update(model._base_manager.filter(**{path: organization.pk}).values_list("pk", flat=True))
        rows[model._meta.label] = pks
    return rows


def rows_by_column(organization_id) -> dict[str, int]:
    """``{table: rows}`` of every table of the database with an ``organization_id`` column holding the
    organisation's id: the models' tables, and those no model describes (partitions, identifier tables)."""
    value = Organization._meta.pk.get_db_prep_value(organization_id, connection)
    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = {column.name for column in connection.introspection.get_table_description(cursor, table)}
            if "organization_id" in columns:
                cursor.execute(f'SELECT COUNT(*) FROM "{table}" WHERE organization_id = %s', [value])
                if count := cursor.fetchone()[0]:
                    counts[table] = count
    return counts


def fill(organization) -> None:
    """A row of every table that can hold one of the organisation's."""
    writer = command_principal(str(organization.pk), roles=("insights:write",), command="tests")
    user = factories.make_user(organization, roles=["insights:read"], is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=f"staff of {organization}")[0])
    user.user_permissions.add(Permission.objects.get(codename="view_event"))
    client = factories.make_client(organization).client
    with audit.acting(user):
        audit.record(AuditEvent.Action.CHANGED, client)
    with audit.acting(client):
        audit.record(AuditEvent.Action.CHANGED, user)
    provider = SsoProvider.objects.create(organization=organization, issuer="https://id.example", client_id="ubi")
    provider.default_roles.set(user.roles.all())
    SsoDomain.objects.create(provider=provider, domain=f"{uuid.uuid4().hex}.example")
    SsoIdentity.objects.create(issuer="https://id.example", subject=uuid.uuid4().hex, user=user)
    _tokens(user, client)
    LogEntry.objects.create(
        user=user, content_type=ContentType.objects.get_for_model(Organization), object_id=str(organization.pk),
        object_repr=str(organization), action_flag=ADDITION,
    )
    query_id = track_query(organization, AT, query_response_hit_ids=["sku-1"])
    track_event(organization, AT, query_id=query_id)
    AnalyticsSettings.objects.create(organization=organization)
    compute_judgment_list(writer, name="clicks", model="coec", filters={})  # refreshes the rollups first
    set_retention(organization, days=400)
    factories.make_ingest_key(organization, "shop", ["https://shop.example"])
    suppressions.suppress(organization.pk, "user_id", "someone")


def _tokens(user, client) -> None:
    expires = timezone.now() + timedelta(hours=1)

    def token():
        value = secrets.token_urlsafe(24)
        return {"token": value, "token_checksum": hashlib.sha256(value.encode()).hexdigest()}

    id_token = get_id_token_model().objects.create(user=user, application=client, expires=expires)
    access = get_access_token_model().objects.create(
        user=user, application=client, expires=expires, id_token=id_token, **token()
    )
    AccessTokenId.objects.create(jti=uuid.uuid4(), access_token=access)
    refresh = get_refresh_token_model().objects.create(user=user, application=client, access_token=access, **token())
    successor = get_refresh_token_model().objects.create(user=user, application=client, **token())
    RotatedRefreshToken.objects.create(refresh_token=refresh, successor=successor, answer="x", expires=expires)
    get_grant_model().objects.create(
        user=user, application=client, code=secrets.token_urlsafe(16), expires=expires, redirect_uri="https://a.example"
    )
    DeviceGrant.objects.create(
        user=user, device_code=secrets.token_urlsafe(16), user_code=secrets.token_urlsafe(6), expires=expires,
        client_id=client.client_id,
    )


@pytest.fixture
def world(db):
    leaving, staying = factories.make_org("Leaving"), factories.make_org("Staying")
    fill(leaving)
    fill(staying)
    for organization in (leaving, staying):  # a day without rows, whose pair days wait for a refresh with pairs
        rollups.mark_stale(organization.pk, start=AT + timedelta(days=1), end=AT + timedelta(days=2))
    rollups.refresh(pairs=False)
    for organization in (leaving, staying):  # after every refresh, which takes the stale ranges away
        rollups.mark_stale(organization.pk, start=AT, end=AT + timedelta(hours=1))
    return leaving, staying


def test_the_world_fills_every_table(world):
    leaving, _staying = world
    empty = sorted(label for label, pks in rows_of(leaving).items() if not pks)
    assert empty == [], "fill() holds no row of these models: give it one, and check that offboarding removes it"


def test_no_model_refers_to_an_organisation_in_a_way_the_check_cannot_see():
    unseen = []
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label
        for field in model._meta.get_fields(include_hidden=True):
            named = "organization" in field.name or field.name.startswith("org")
            if named and not field.is_relation and label not in CHECKED_OTHERWISE:
                unseen.append(f"{label}.{field.name}")
        generic = any(isinstance(field, GenericForeignKey) for field in model._meta.private_fields)
        by_content_type = any(field.is_relation and field.related_model is ContentType for field in model._meta.fields)
        if (generic or by_content_type) and label not in CHECKED_OTHERWISE and model is not Permission:
            unseen.append(f"{label} (a generic relation)")
    assert unseen == []


def test_offboarding_leaves_no_row_of_the_organisation_in_any_table(world):
    leaving, staying = world
    before, staying_before = rows_of(leaving), rows_of(staying)
    assert {"insights_event", "insights_query", "accounts_appclient"} <= set(rows_by_column(leaving.pk))

    delete_organization(leaving)

    left = {}
    for model, paths in tenant_models().items():
        label = model._meta.label
        if model._base_manager.filter(pk__in=before[label]).exists():
            left[label] = "rows of before"
        for path in paths:
            if model._base_manager.filter(**{path: leaving.pk}).exists():
                left[label] = path
    assert left == {}
    assert rows_by_column(leaving.pk) == {}
    assert not Organization.objects.filter(pk=leaving.pk).exists()
    assert rows_of(staying) == staying_before


def test_one_audit_event_of_the_offboarding_stays(world):
    leaving, _staying = world
    counts = delete_organization(leaving, exported_to="/srv/exports/leaving")
    record = AuditEvent.objects.get(object_id=str(leaving.pk))
    assert (record.object_type, record.object_repr, record.organization_id) == (
        ORGANIZATION_OBJECT, "Leaving", None
    )
    assert record.changes == {"rows": counts, "exported_to": "/srv/exports/leaving"}
    assert counts["insights.Event"] == 1 and counts["insights.Query"] == 1 and counts["accounts.User"] == 1
    assert not AuditEvent.objects.filter(organization=leaving.pk).exists()


def test_the_admin_log_forgets_the_organisation_s_objects(world):
    leaving, _staying = world
    root = factories.make_user(None, email="root@example.com", is_superuser=True, is_staff=True)
    client = leaving.app_clients.get()
    LogEntry.objects.create(
        user=root, content_type=ContentType.objects.get_for_model(client), object_id=str(client.pk),
        object_repr=str(client), action_flag=ADDITION,
    )
    delete_organization(leaving)
    assert not LogEntry.objects.filter(object_repr=str(client)).exists()
    assert not LogEntry.objects.filter(object_id=str(leaving.pk)).exists()


def test_the_organisation_s_tokens_stop_working(live_server, db):
    organization = factories.make_org("Leaving")
    made = factories.make_client(organization)
    issued = post_token(
        live_server, grant_type="client_credentials", client_id=made.client.client_id, client_secret=made.client_secret
    )
    api = Api(live_server.url, issued.json()["access_token"])
    assert api.get("/api/v1/ubi/events").status_code == 200
    delete_organization(organization)
    assert api.get("/api/v1/ubi/events").status_code == 401


def test_rows_go_in_batches_with_progress(world, settings):
    settings.UBI = {**getattr(django_settings, "UBI", {}), "LIFECYCLE_BATCH_SIZE": 1}
    leaving, _staying = world
    track_event(leaving, AT)
    batches = []
    delete_organization(leaving, progress=batches.append)
    assert batches == [1, 1, 1, 1]  # a query, two events, a judgment


# The command.


def test_the_command_wants_confirm(world):
    leaving, _staying = world
    with pytest.raises(CommandError, match="Run again with --confirm"):
        call_command("delete_organization", "--org", "Leaving")
    assert Organization.objects.filter(pk=leaving.pk).exists()


def test_the_command_exports_then_deletes(world, tmp_path, capsys):
    leaving, _staying = world
    call_command("delete_organization", "--org", "Leaving", "--confirm", "--export", str(tmp_path / "out"))
    out = capsys.readouterr().out
    assert out.startswith(f"1 queries: {tmp_path / 'out' / 'ubi_queries.ndjson'}\n")
    assert "insights.Event: 1\n" in out and out.endswith(f"Organisation Leaving ({leaving.pk}) deleted.\n")
    assert len((tmp_path / "out" / "ubi_events.ndjson").read_text().splitlines()) == 2
    assert not Organization.objects.filter(pk=leaving.pk).exists()
    record = AuditEvent.objects.get(object_id=str(leaving.pk))
    assert record.actor == "manage.py delete_organization"
    assert record.changes["exported_to"] == str(tmp_path / "out")
