"""The sign-in rules: single sign-on, lockout, password, one-time code, password age. Written once, used by both
ways in.

The password grant (``oauth.validators``) calls ``sign_in`` with everything at once; the login page
(``oauth.sign_in_views``) first asks ``sso_provider`` whether the address signs in at its organisation's identity
provider (then ``oauth.sso_sign_in`` takes over), and otherwise calls the same steps one page at a time:
``check_password``, then ``check_second_factor`` when the account has one, then ``finish_sign_in``. Each step
raises the error of reference/oauth.txt that it detects (``oauth.oauth_errors``), so both ways in refuse exactly alike.
"""

from datetime import timedelta

from django.contrib.auth import authenticate
from django.utils import timezone

from accounts import services, sso_providers
from accounts.models import AppClient, SsoProvider, User
from oauth import lockout
from oauth.oauth_errors import AccessDenied, InvalidCredentials, OtpRequired, PasswordExpired, SsoRequired


def sign_in(*, email: str, password: str, otp_code: str | None, request=None) -> User:
    """Every step in one call (the password grant). Raises ``TooManyAttempts``, ``InvalidCredentials``,
    ``OtpRequired`` or ``PasswordExpired``; returns the user."""
    user = check_password(email=email, password=password, request=request)
    check_second_factor(user, otp_code=otp_code)
    return finish_sign_in(user)


def check_password(*, email: str, password: str, request=None) -> User:
    """First step. Raises ``TooManyAttempts`` while the account is locked, even for the right password, and
    ``InvalidCredentials`` (counted) for an unknown, inactive or wrong one."""
    email = email.strip().lower()
    check_password_allowed(email)
    lockout.begin_attempt(email)  # before the password hash, so parallel guesses cannot outrun the count
    # A NUL byte cannot be in an address, and PostgreSQL refuses it in a query instead of finding no one.
    user = None if "\x00" in email else authenticate(request, username=email, password=password)
    if user is None:
        lockout.record_failure(email)
        raise InvalidCredentials()
    lockout.attempt_passed(email)
    return user


def sso_provider(email: str) -> SsoProvider | None:
    """The identity provider an address signs in at, when its domain belongs to an organisation with single
    sign-on (reference/oauth.txt, "SSO Authentication"); ``None``: it signs in with a password.

    Every address of such a domain goes there from the login page, known or not, except the accounts its provider
    never signs in (``accounts.sso_providers.provider_for_email``: administrators, other organisations' accounts).
    """
    return sso_providers.provider_for_email(email)  # its domain is normalised there


def check_password_allowed(email: str) -> None:
    """Mandatory single sign-on: the password of an address the organisation's provider signs in is never looked at
    (``SsoRequired``), except a service account's, which scripts use with the password grant.

    Decided before the password is checked, so a refused password is not even a failed attempt, and the password
    grant cannot be used to guess it.
    """
    provider = sso_providers.provider_for_email(email)
    if provider is None or not provider.mandatory:
        return
    service_account = User.objects.filter(
        email=email, organization_id=provider.organization_id, is_service_account=True, is_active=True
    ).exists()
    if not service_account:
        raise SsoRequired()


def check_second_factor(user: User, *, otp_code: str | None) -> None:
    """Second step, for an account with a confirmed one-time-code secret; nothing to do for the others.

    A missing code is ``OtpRequired`` and is not a failure (clients learn of the factor that way); a wrong or
    replayed code is ``InvalidCredentials`` and counts towards the lockout like a wrong password.
    """
    if not user.has_totp:
        return
    if not otp_code:
        raise OtpRequired()
    lockout.begin_attempt(user.email)
    if not services.totp_verify(user, code=otp_code):
        lockout.record_failure(user.email)
        raise InvalidCredentials()
    lockout.attempt_passed(user.email)


def finish_sso_sign_in(user: User) -> User:
    """Last step of a sign-in at the organisation's identity provider, which checked the person its own way
    (password, second factor, age are its business): ends any run of password failures on the account."""
    lockout.record_success(user.email)
    return user


def finish_sign_in(user: User) -> User:
    """Last step, once the user is authenticated: ends the run of failures, then raises ``PasswordExpired`` when
    the password must be changed first (the login page offers the change; the password grant cannot)."""
    lockout.record_success(user.email)
    if password_expired(user):
        raise PasswordExpired()
    return user


def password_expired(user: User) -> bool:
    """An administrator asked for a change, or the password is older than the organisation allows."""
    if user.must_change_password:
        return True
    max_age_days = user.organization.password_max_age_days if user.organization else None  # a platform superuser
    return bool(max_age_days) and user.password_changed_at + timedelta(days=max_age_days) <= timezone.now()


def check_client_allowed(user: User, client: AppClient) -> None:
    """A user signs in only through a client of their own organisation: its administrators chose to trust it."""
    if user.organization_id != client.organization_id:
        raise AccessDenied()
