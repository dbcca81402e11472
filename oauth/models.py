"""What the authorization server must remember beyond a cache: the shared cache may drop any entry (the embedded
default's file cache culls a third of itself when full, a Redis may be flushed or restarted), and none of these may
be forgotten while it matters. Each row is kept only as long as that, then purged (see each module)."""

from django.db import models
from oauth2_provider.settings import oauth2_settings


class RevokedToken(models.Model):
    """An access token ended before its expiry (``oauth.revocation``): the SHA-256 of the token, until it would
    have expired anyway. Processes load the rows by ``id``, in the order they were committed."""

    digest = models.CharField(max_length=64)
    expires = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"revoked token #{self.pk}"


class SignInAttempts(models.Model):
    """The run of sign-in attempts of one address (``oauth.lockout``), known account or not: counted before the
    password or code is checked, and forgotten by a success, by the end of the window, or after a lock."""

    digest = models.CharField(max_length=64, primary_key=True)  # SHA-256 of the normalised address
    attempts = models.PositiveIntegerField(default=0)
    run_started = models.DateTimeField(db_index=True)
    locked_until = models.DateTimeField(null=True, db_index=True)

    class Meta:
        verbose_name_plural = "sign-in attempts"

    def __str__(self):
        return f"sign-in attempts {self.digest[:12]}"


class RedeemedCode(models.Model):
    """An authorization code already exchanged (``oauth.redeemed_codes``): the SHA-256 of the code and the
    refresh-token family its exchange started, for as long as that family can live."""

    digest = models.CharField(max_length=64, primary_key=True)
    token_family = models.UUIDField()
    expires = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"redeemed code {self.digest[:12]}"


class AccessTokenId(models.Model):
    """The ``jti`` of an issued access token (``oauth.token_ids``), so ``DELETE /v2/auth/token/<jti>`` finds its
    row by one primary-key lookup: the row keeps a digest of the token, and the claim is inside the token."""

    jti = models.UUIDField(primary_key=True)
    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL, on_delete=models.CASCADE, related_name="+"
    )

    def __str__(self):
        return f"access token id {self.jti}"


class RotatedRefreshToken(models.Model):
    """A refresh token just rotated out, with the answer its rotation gave (``oauth.refresh_rotation``), encrypted:
    the same token presented again within ``REFRESH_TOKEN_REUSE_GRACE_SECONDS`` gets that answer back while its new
    refresh token (``successor``) lives. Deleted once the grace period is over."""

    refresh_token = models.OneToOneField(
        oauth2_settings.REFRESH_TOKEN_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    successor = models.ForeignKey(oauth2_settings.REFRESH_TOKEN_MODEL, on_delete=models.CASCADE, related_name="+")
    answer = models.TextField()  # Fernet (accounts.encryption) of the token response's JSON
    expires = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"rotated refresh token #{self.pk}"


class SigningKey(models.Model):
    """A key that signs access tokens, added by a rotation (``oauth.key_rotation``); ``oauth.keys`` reads them.

    Published in the JWKS from ``created``, it signs from ``signs_from`` (a lead time later, so that clients caching
    the JWKS know it before its first token) until ``signs_until`` (when a newer key takes over), and leaves the JWKS
    at ``retires_at`` (once every token it signed has expired), after which its tokens are refused. ``revoked``:
    retired at once, its tokens refused before their expiry (a compromised key). The configured key
    (``JWT_PRIVATE_KEY`` or its file) gets a row without its private key at the first rotation, which records its
    retirement.
    """

    kid = models.CharField(max_length=64, primary_key=True)  # RFC 7638 thumbprint of the public key
    public_key = models.TextField()  # PEM
    private_key = models.TextField(blank=True)  # Fernet (accounts.encryption) of the PEM; empty: the configured key
    created = models.DateTimeField()
    signs_from = models.DateTimeField()
    signs_until = models.DateTimeField(null=True, blank=True)
    retires_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        ordering = ["signs_from", "kid"]

    def __str__(self):
        return f"signing key {self.kid}"
