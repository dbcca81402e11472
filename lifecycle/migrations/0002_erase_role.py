from django.db import migrations

ERASE_ROLE = "insights:erase"
DESCRIPTION = "Erase everything tracked for one user_id, client_id or session_id (DELETE /api/v1/ubi/subjects)."


def create_erase_role(apps, schema_editor):
    # Given to nobody: an administrator grants it to the client or person who answers erasure requests.
    Role = apps.get_model("accounts", "Role")
    Role.objects.get_or_create(name=ERASE_ROLE, defaults={"description": DESCRIPTION})


class Migration(migrations.Migration):
    dependencies = [("lifecycle", "0001_retention_policy"), ("accounts", "0010_rate_limit_help")]

    operations = [migrations.RunPython(create_erase_role, migrations.RunPython.noop)]
