import django.db.models.deletion
from django.db import migrations, models
from oauth2_provider.settings import oauth2_settings


class Migration(migrations.Migration):

    dependencies = [
        ("oauth", "0001_durable_memory"),
        migrations.swappable_dependency(oauth2_settings.ACCESS_TOKEN_MODEL),
        migrations.swappable_dependency(oauth2_settings.REFRESH_TOKEN_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AccessTokenId",
            fields=[
                ("jti", models.UUIDField(primary_key=True, serialize=False)),
                (
                    "access_token",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=oauth2_settings.ACCESS_TOKEN_MODEL,
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="RotatedRefreshToken",
            fields=[
                (
                    "refresh_token",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to=oauth2_settings.REFRESH_TOKEN_MODEL,
                    ),
                ),
                ("answer", models.TextField()),
                ("expires", models.DateTimeField(db_index=True)),
                (
                    "successor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=oauth2_settings.REFRESH_TOKEN_MODEL,
                    ),
                ),
            ],
        ),
    ]
