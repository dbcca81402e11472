"""gunicorn's logger with its records as the application's JSON lines (``gunicorn.conf.py``, ``LOG_FORMAT=json``).

gunicorn writes an access line per request only when ``accesslog`` (``ACCESS_LOG``) names a file, syslog is on, or
a logging configuration is given; this logger formats gunicorn's own handlers and leaves that choice to
``ACCESS_LOG``, so a deployment without it has one line a request, ``observability.access``'s. Loaded by gunicorn's
arbiter, which has not loaded Django: it imports gunicorn and ``observability.logs`` only.
"""

from gunicorn import glogging

from observability.logs import JsonFormatter


class JsonLogger(glogging.Logger):
    def setup(self, cfg):
        super().setup(cfg)
        formatter = JsonFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)
