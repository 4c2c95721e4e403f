"""Remove a user's second-factor devices, for example after a lost phone."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.services import second_factor_reset


class Command(BaseCommand):
    help = (
        "Remove every authenticator of a user. At the next sign-in a user whose role requires a "
        "second factor is asked to set up a new one; check who asks before running this."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}.") from exc
        removed = second_factor_reset(user=user)
        self.stdout.write(
            self.style.SUCCESS(f"Removed {removed} second-factor device(s) of {username}.")
        )
