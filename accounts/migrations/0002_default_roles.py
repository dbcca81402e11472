from django.db import migrations

DEFAULT_ROLES = {
    "insights:write": "Track UBI queries and events.",
    "insights:read": "List, fetch and analyse UBI queries and events.",
}


def create_default_roles(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for name, description in DEFAULT_ROLES.items():
        Role.objects.get_or_create(name=name, defaults={"description": description})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_default_roles, migrations.RunPython.noop)]
