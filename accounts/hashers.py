"""A hasher for machine-generated client secrets.

Password hashers spend a deliberate work factor (PBKDF2's hundreds of thousands of rounds) because people choose
guessable passwords. A client secret is 128 random characters: no dictionary or brute force gets near it, so a
single salted SHA-256 is as safe as PBKDF2 here and lets the token endpoint answer hundreds of requests a second.
Never use it for user passwords: ``PASSWORD_HASHERS`` lists it last, so ``make_password`` never picks it by default.
"""

import hashlib

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare


class ClientSecretHasher(BasePasswordHasher):
    algorithm = "client_secret_sha256"

    def encode(self, password, salt):
        self._check_encode_args(password, salt)
        digest = hashlib.sha256(f"{salt}${password}".encode()).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded):
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password, encoded):
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded):
        decoded = self.decode(encoded)
        return {"algorithm": decoded["algorithm"], "salt": mask_hash(decoded["salt"]), "hash": mask_hash(decoded["hash"])}

    def harden_runtime(self, password, encoded):
        pass
