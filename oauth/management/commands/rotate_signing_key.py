import time
from datetime import UTC, datetime

from django.core.management.base import CommandError

from accounts.audit import AuditedCommand
from oauth import key_rotation, keys
from project.conf import ubi_settings
from project.errors import DomainError


def _moment(timestamp: float) -> str:
    if timestamp in (float("inf"), float("-inf")):
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


class Command(AuditedCommand):
    help = (
        "Add a new key that signs access tokens: it is published in the JWKS at once, signs after the lead time, "
        "and the keys it replaces leave the JWKS once every token they signed has expired (docs/operations.md, "
        "\"Key rotation\")."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--publish-ahead", type=int, metavar="SECONDS",
            help="Seconds between publishing the new key and its first token (default: the setting "
            f"SIGNING_KEY_PUBLISH_AHEAD_SECONDS, {ubi_settings.SIGNING_KEY_PUBLISH_AHEAD_SECONDS}).",
        )
        parser.add_argument("--list", action="store_true", help="List the keys and their states; change nothing.")
        parser.add_argument(
            "--retire-now", metavar="KID",
            help="Retire this key at once (a compromised key): it leaves the JWKS and its tokens are refused. Write it "
            "--retire-now=KID: a key id may begin with a hyphen, which would otherwise read as an option.",
        )

    def handle(self, *args, **options):
        if options["list"]:
            if options["retire_now"] or options["publish_ahead"] is not None:
                raise CommandError("--list changes nothing: give it alone.")
            return self._list()
        if options["retire_now"] and options["publish_ahead"] is not None:
            raise CommandError("--retire-now takes no --publish-ahead.")
        try:
            if options["retire_now"]:
                retired, rotation = key_rotation.retire_now(options["retire_now"])
                self.stdout.write(f"Retired {retired.kid}: out of the JWKS, its tokens refused.")
                if rotation is not None:
                    self.stdout.write(f"{rotation.key.kid} signs from now on.")
                return
            rotation = key_rotation.rotate(publish_ahead=options["publish_ahead"])
        except DomainError as error:
            raise CommandError(str(error)) from None
        key = rotation.key
        self.stdout.write(
            f"Added {key.kid}: in the JWKS now, signs from {key.signs_from.isoformat(timespec='seconds')}."
        )
        for retiring in rotation.retiring:
            self.stdout.write(
                f"{retiring.kid} signs until then, and leaves the JWKS at "
                f"{retiring.retires_at.isoformat(timespec='seconds')}."
            )

    def _list(self):
        found = keys.stored_keys()
        now = time.time()
        self.stdout.write(f"{'kid':<44} {'state':<9} {'source':<10} {'signs from':<25} {'signs until':<25} retires at")
        for key in found:
            source = "configured" if key.configured else "rotated"
            signs_from = "the start" if key.signs_from <= keys.FROM_THE_START.timestamp() else _moment(key.signs_from)
            retires_at = "revoked" if key.revoked else _moment(key.retires_at)
            self.stdout.write(
                f"{key.kid:<44} {keys.state(key, found, now):<9} {source:<10} {signs_from:<25} "
                f"{_moment(key.signs_until):<25} {retires_at}"
            )
