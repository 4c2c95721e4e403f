"""Base of every clinical model: timestamps, history of every change, no hard deletion."""

from __future__ import annotations

from collections.abc import Collection
from functools import cached_property
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.dispatch import receiver
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.manager import HistoryDescriptor
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from cohort.constraints import constraints_validate

# The one limit on a typed reason for a change, from the history to the forms and serializers.
REASON_MAX_LENGTH = 500


def reason_checked(reason: str, field: str = "reason") -> str:
    """Return a typed reason for a change, or refuse one longer than the limit (on ``field``)."""
    if len(reason or "") > REASON_MAX_LENGTH:
        raise ValidationError(
            {
                field: gettext("Keep the reason to %(limit)d characters (it has %(length)d).")
                % {"limit": REASON_MAX_LENGTH, "length": len(reason)}
            }
        )
    return reason


def reason_required(reason: str, field: str = "reason") -> str:
    """Return the typed reason a correction of a recorded value needs: refused when blank, or
    longer than the limit (on ``field``)."""
    reason = reason_checked(reason, field)
    if not reason.strip():
        raise ValidationError({field: gettext("Give a reason for changing a recorded value.")})
    return reason


def history_stamp(instance: Any, *, by: Any, reason: str) -> None:
    """Attach the author and reason of a change, for the history row its save writes."""
    instance._history_user = by
    instance._change_reason = reason


class HistoryAuthor(models.Model):
    """Extra columns of every history row: the author's name as it was at the change."""

    history_user_name = models.CharField(_("changed by"), max_length=300, blank=True, default="")

    class Meta:
        abstract = True


class _HistoryDescriptor(HistoryDescriptor):
    """simple_history's ``Model.history``, its manager class built once rather than on every
    access (every history row written reads it: some 5% of a write's time)."""

    def __get__(self, instance: Any, owner: Any) -> Any:
        return self._manager_class(self.model, instance)

    @cached_property
    def _manager_class(self) -> Any:
        return self.manager_class.from_queryset(self.queryset_class)


class _ClinicalHistory(HistoricalRecords):
    """simple_history's history, whose ``history`` descriptor builds its manager class once."""

    def finalize(self, sender: Any, **kwargs: Any) -> None:
        super().finalize(sender, **kwargs)
        descriptor = sender.__dict__.get(self.manager_name)
        if type(descriptor) is HistoryDescriptor:
            cached = _HistoryDescriptor(
                descriptor.model,
                manager=descriptor.manager_class,
                queryset=descriptor.queryset_class,
            )
            setattr(sender, self.manager_name, cached)


def clinical_history(**options: Any) -> HistoricalRecords:
    """Return the history of a model: a reason column without a length of its own (the services
    hold the limit, and words they add to a typed reason must never make a save fail), and the
    author's name at the time of the change."""
    return _ClinicalHistory(
        history_change_reason_field=models.TextField(null=True),
        bases=[HistoryAuthor],
        **options,
    )


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

    history = clinical_history(inherit=True)
    objects: ClassVar[Any] = ClinicalQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise HardDeleteRefused(
            f"{self._meta.verbose_name} is clinical data and is never deleted; void it instead"
        )

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        """Validate the constraints as Django does, the check constraints in one statement."""
        constraints_validate(self, exclude)


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


@receiver(pre_create_historical_record, dispatch_uid="history_author_name")
def _history_author_name(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    """Keep, on each history row, the author's name as it is now: a later rename of the user
    does not rewrite who made past changes."""
    user = getattr(history_instance, "history_user", None)
    if user is not None and hasattr(history_instance, "history_user_name"):
        history_instance.history_user_name = user.get_full_name() or user.username
