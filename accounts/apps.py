from django.apps import AppConfig
from django.db.models.signals import post_save


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from accounts import services
        from accounts.models import AppClient, User

        for model in (User, AppClient):
            post_save.connect(services.principal_saved, sender=model, dispatch_uid=f"principal_saved:{model.__name__}")
