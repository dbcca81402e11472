from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "observability"
    verbose_name = "Observability"

    def ready(self):
        import logging

        from observability import checks, metrics  # noqa: F401 (registers the checks, connects the signal)

        # Python's warnings become log records, so that they too are JSON lines.
        logging.captureWarnings(True)
