from django.apps import AppConfig
from django.db.models.signals import post_delete


class OAuthConfig(AppConfig):
    name = "oauth"
    label = "oauth"
    verbose_name = "OAuth"

    def ready(self):
        from oauth2_provider.models import get_access_token_model

        from oauth import checks, revocation  # noqa: F401  (checks registers itself)

        post_delete.connect(revocation.access_token_deleted, sender=get_access_token_model())
