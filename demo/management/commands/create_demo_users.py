"""Create the demo logins (nurse, clinician, statistician, datamanager) for the embedded demo."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.services import DEMO_PASSWORD, demo_users_create


class Command(BaseCommand):
    help = "Create the four demo users with a known password (development only: needs DEBUG=1)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "Refused: demo users have a published password and are created only when DEBUG "
                "is on (the embedded development setup)."
            )
        users = demo_users_create()
        for user in users:
            roles = ", ".join(sorted(role.value for role in user.roles))
            self.stdout.write(f"  {user.username:<13} {roles:<13} {user.sites.count()} sites")
        self.stdout.write(self.style.SUCCESS(f"Demo users ready; password: {DEMO_PASSWORD}"))
