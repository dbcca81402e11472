from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_save, pre_save


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from accounts import encryption, services, sso_providers, totp
        from accounts.models import AppClient, SsoDomain, SsoProvider, User

        encryption.register("accounts.User", "totp_secret", purpose=totp.ENCRYPTION_PURPOSE)
        encryption.register("accounts.SsoProvider", "client_secret_encrypted", purpose=sso_providers.SECRET_PURPOSE)

        for model in (User, AppClient):
            post_save.connect(services.principal_saved, sender=model, dispatch_uid=f"principal_saved:{model.__name__}")
        # The admin's own save paths, which call no service: what ends a user's tokens (accounts.services).
        pre_save.connect(services.user_saving, sender=User, dispatch_uid="user_saving")
        m2m_changed.connect(services.user_roles_changed, sender=User.roles.through, dispatch_uid="user_roles_changed")
        for model in (SsoProvider, SsoDomain):
            post_save.connect(services.sso_saved, sender=model, dispatch_uid=f"sso_saved:{model.__name__}")
