from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "observability"
    verbose_name = "Observability"

    def ready(self):
        import logging

        from observability import checks, metrics  # noqa: F401 (registers the checks, connects the signal)

        # Python's warnings become log records, so that they too are JSON lines.
        logging.captureWarnings(True)
        # Neither format (observability.logs) writes a thread's or a process's name: a record need not look them up,
        # a saving on every request's access line (the logging HOWTO's "Optimization"). The process id stays.
        logging.logThreads = False
        logging.logMultiprocessing = False
