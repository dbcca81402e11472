"""What the manage.py commands of ``accounts`` share besides ``accounts.audit.AuditedCommand``.

Kept apart from ``accounts.audit``, which ``accounts.services`` imports: ``service_errors`` needs the services.
"""

import contextlib

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from accounts import services


@contextlib.contextmanager
def service_errors():
    """Turn a service's refusal (invalid values, unknown roles) into a ``CommandError`` with its message."""
    try:
        yield
    except ValidationError as error:
        raise CommandError(" ".join(error.messages)) from None
    except services.UnknownRoles as error:
        raise CommandError(str(error)) from None
