from django.apps import AppConfig


class CollectorConfig(AppConfig):
    name = "collector"
    verbose_name = "Browser collection"

    def ready(self):
        from collector import keys

        keys.connect_signals()
