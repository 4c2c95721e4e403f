"""Re-encrypt every stored identifier with the newest key of IDENTIFIER_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from cohort.fields import rotate
from cohort.models import PatientContact

FIELDS = ("first_name", "last_name", "phone", "phone_alt")


class Command(BaseCommand):
    help = (
        "Re-encrypt patient identifiers (and their history) with the first key of "
        "IDENTIFIER_KEYS. Put the new key first, keep the old ones after it, run this, then "
        "remove the old keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        quote = connection.ops.quote_name
        total = 0
        with transaction.atomic(), connection.cursor() as cursor:
            for model in (PatientContact, PatientContact.history.model):
                table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
                columns = ", ".join(quote(f) for f in FIELDS)
                assignments = ", ".join(f"{quote(f)} = %s" for f in FIELDS)
                # Raw SQL on purpose: the model field would decrypt the tokens on read.
                cursor.execute(f"SELECT {pk}, {columns} FROM {table}")
                for row in cursor.fetchall():
                    tokens = [rotate(value) if value else value for value in row[1:]]
                    cursor.execute(
                        f"UPDATE {table} SET {assignments} WHERE {pk} = %s",
                        [*tokens, row[0]],
                    )
                    total += 1
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} identifier rows."))
