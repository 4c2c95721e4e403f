"""Base of every clinical model: timestamps, history of every change, no hard deletion."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class HardDeleteRefused(Exception):
    """Raised when code tries to delete clinical data; void it instead."""


class ClinicalQuerySet(models.QuerySet):
    """A queryset whose ``delete()`` is refused: clinical rows are voided, never deleted."""

    def delete(self) -> tuple[int, dict[str, int]]:
        raise HardDeleteRefused(
            f"{self.model._meta.verbose_name_plural} are clinical data and are never deleted"
        )


class ClinicalModel(models.Model):
    """Abstract base: created/updated times and a history row (who, when, what, why) per change.

    The reason of a change is given with ``instance._change_reason = "..."`` before saving (the
    services do it); the user comes from the request (middleware) or ``instance._history_user``.
    """

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(inherit=True)
    objects: ClassVar[Any] = ClinicalQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise HardDeleteRefused(
            f"{self._meta.verbose_name} is clinical data and is never deleted; void it instead"
        )


class VoidableModel(ClinicalModel):
    """A clinical row that can be voided (kept, flagged, with a reason) instead of deleted."""

    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.TextField(_("reason for voiding"), blank=True)

    class Meta:
        abstract = True

    @property
    def is_voided(self) -> bool:
        """Say whether the row was voided."""
        return self.voided_at is not None
