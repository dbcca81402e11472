from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class OAuthConfig(AppConfig):
    name = "oauth"
    label = "oauth"
    verbose_name = "OAuth"

    def ready(self):
        from oauth2_provider.models import get_access_token_model

        from accounts import encryption
        from accounts.models import AppClient, Organization, Role
        from oauth import checks, clients, keys, revocation  # noqa: F401  (checks registers itself)

        encryption.register("oauth.SigningKey", "private_key", purpose=keys.PRIVATE_KEY_PURPOSE)

        post_delete.connect(revocation.access_token_deleted, sender=get_access_token_model())
        # What a loaded client carries: itself, its roles and their names, its organisation.
        for model in (AppClient, Role, Organization):
            for signal in (post_save, post_delete):
                signal.connect(clients.changed, sender=model, dispatch_uid=f"clients.changed:{model.__name__}")
        m2m_changed.connect(clients.changed, sender=AppClient.roles.through, dispatch_uid="clients.changed:roles")
