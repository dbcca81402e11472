from django.core.management.base import CommandError

from accounts.audit import AuditedCommand
from accounts.reencryption import reencrypt_secrets


class Command(AuditedCommand):
    help = (
        "Re-encrypt every stored secret (two-step verification, SSO client secrets, signing keys) under the current "
        "SECRET_KEY, reading old ones with SECRET_KEY_FALLBACKS. Safe to run again: what is current is left alone."
    )

    def handle(self, *args, **options):
        def progress(report, done, total):
            if done == total or done % 500 == 0:
                self.stdout.write(f"{report.name}: {done}/{total}")

        reports = reencrypt_secrets(progress=progress)
        for report in reports:
            self.stdout.write(
                f"{report.name}: {report.reencrypted} re-encrypted, {report.current} already current, "
                f"{len(report.unreadable)} unreadable"
            )
        unreadable = [f"{report.name} of {', '.join(report.unreadable)}" for report in reports if report.unreadable]
        if unreadable:
            raise CommandError(
                "No key in SECRET_KEY or SECRET_KEY_FALLBACKS reads: " + "; ".join(unreadable)
                + ". Put the key they were encrypted with in SECRET_KEY_FALLBACKS, or have them entered again."
            )
