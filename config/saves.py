"""Saves the database refuses: one transaction, a clear message, the input kept, a log line.

A page that writes wraps its service calls in ``database_save(request)`` and catches
``SaveRefused`` by showing its bound form again with ``SaveRefused.status`` (503). Everything in
the block is one transaction, so a refusal leaves nothing half saved. The log line names the
page and the database's first line of error (never the values typed, nor the SQL). The API
answers the same refusal with 503 and the same sentence (``config.api.handle_exception``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.forms import Form
from django.http import HttpRequest
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class SaveRefused(Exception):
    """The database refused a save; nothing was saved."""

    status = 503


class StaleWriteError(Exception):
    """A row was saved by someone else since the editor loaded it; nothing was saved.

    The services raise a subclass (``followup.services.StaleCallError``); the API answers 409.
    """

    status = 409


def refusal_message() -> str:
    """Return what the user reads when the database refused the save."""
    return _(
        "The database did not accept the save (it may be busy for a moment). Nothing was "
        "saved, and your input is still here: try again."
    )


def log_refusal(request: Any, exc: DatabaseError) -> None:
    """Log a refused save: the page and the database's first line, never the input or SQL."""
    text = str(exc).strip()
    logger.error(
        "The database refused a save: %s %s (%s: %s)",
        request.method,
        request.path,
        type(exc).__name__,
        text.splitlines()[0] if text else "",
    )


@contextmanager
def database_save(request: HttpRequest) -> Iterator[None]:
    """Run the block in one transaction; turn a database error into ``SaveRefused``."""
    try:
        with transaction.atomic():
            yield
    except DatabaseError as exc:
        log_refusal(request, exc)
        messages.error(request, refusal_message())
        raise SaveRefused from exc


def form_add_errors(form: Form, exc: ValidationError, prefix: str = "") -> None:
    """Put a service's refusal on the form that asked for the save, so the page can show it.

    Each message goes beside its field (the service's field name less ``prefix``); messages
    about no field of the form go at its top.
    """
    for field, problems in exc.message_dict.items():
        name = field.removeprefix(prefix)
        form.add_error(name if name in form.fields else None, problems)
