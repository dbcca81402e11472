"""Time-based one-time codes (RFC 6238): secrets kept encrypted, codes checked once, QR codes for enrolment.

The secret is what an authenticator app holds; anyone who reads it can make valid codes. So it is stored encrypted
(``accounts.encryption``, a key derived from ``SECRET_KEY``: a database dump alone yields nothing), shown once when
it is created, and never logged. Rotating ``SECRET_KEY`` makes stored secrets unreadable: users then enrol again
after an admin reset.
"""

import base64
import io

import pyotp
import qrcode
import qrcode.image.svg
from django.utils import timezone

from accounts import encryption
from project.conf import ubi_settings

# One code either side of now: a phone clock a little off, or a code typed as it rolled over.
VALID_WINDOW = 1
# The purpose the key is derived for; changing it would make every stored secret unreadable.
ENCRYPTION_PURPOSE = "accounts.totp.secret-encryption"


def new_secret() -> str:
    """A fresh base32 secret, in clear: the caller shows it once and stores ``encrypt(secret)``."""
    return pyotp.random_base32()


def encrypt(secret: str) -> str:
    return encryption.encrypt(secret, purpose=ENCRYPTION_PURPOSE)


def decrypt(stored: str) -> str | None:
    """The clear secret, or ``None`` when nothing (readable) is stored."""
    return encryption.decrypt(stored, purpose=ENCRYPTION_PURPOSE)


def matching_step(secret: str, code: str) -> int | None:
    """The RFC 6238 time step that ``code`` is valid for (within the window), or ``None``."""
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(timezone.now())
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def provisioning_uri(secret: str, *, account: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ubi_settings.TOTP_ISSUER)


def qr_code_data_uri(text: str) -> str:
    """``text`` as an inline SVG QR code (``data:`` URI), so the page needs no image endpoint."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
