"""What the lifecycle commands share: domain errors as ``CommandError``\\ s, their messages keyed by the option."""

import contextlib

from django.core.management.base import CommandError

from project.errors import DomainError, InvalidInput


@contextlib.contextmanager
def domain_errors():
    """A service's refusal (an unknown organisation, an invalid value) as a ``CommandError`` with its message."""
    try:
        yield
    except InvalidInput as error:
        raise CommandError(
            "; ".join(f"--{name}: {' '.join(messages)}" for name, messages in error.errors.items())
        ) from None
    except DomainError as error:
        raise CommandError(str(error)) from None
