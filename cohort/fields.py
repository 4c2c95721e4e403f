"""A text field encrypted at rest with the identifier keys (Fernet: AES-128-CBC and HMAC)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"IDENTIFIER_KEYS holds an invalid Fernet key: {exc}") from exc


def cipher() -> MultiFernet:
    """Return the cipher for the configured keys (the first key encrypts, all decrypt)."""
    return _cipher(tuple(settings.IDENTIFIER_KEYS))


def encrypt(value: str) -> str:
    """Encrypt a string into a Fernet token."""
    return cipher().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """Decrypt a Fernet token made with any configured key."""
    try:
        return cipher().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "An identifier cannot be decrypted with IDENTIFIER_KEYS: was a key removed too early?"
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt a token with the newest key."""
    return cipher().rotate(token.encode("ascii")).decode("ascii")


class EncryptedTextField(models.TextField):
    """Store text encrypted; the value in Python is the clear text, the database holds a token.

    Encrypted values cannot be searched or ordered in SQL: look patients up by study code.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
