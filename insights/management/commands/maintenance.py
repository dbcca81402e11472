"""``manage.py maintenance on|off|status``: the run-time maintenance switch, for every server process."""

from django.core.management.base import BaseCommand

from insights import maintenance
from project.conf import ubi_settings


class Command(BaseCommand):
    help = "Turn maintenance mode on or off for every server process (tracking answers 503 / UNAVAILABLE), or show it."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["on", "off", "status"])

    def handle(self, *, action, **options):
        if action != "status":
            maintenance.switch(on=action == "on")
        switch = "on" if maintenance.switch_is_on() else "off"
        if ubi_settings.MAINTENANCE_MODE:
            self.stdout.write(f"Maintenance mode on (the MAINTENANCE_MODE setting; the run-time switch is {switch}).")
        else:
            self.stdout.write(f"Maintenance mode {switch}.")
