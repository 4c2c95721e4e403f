"""Safety: the study's list of expected effects, and the alerts raised by adverse effects.

A serious or severe adverse effect raises one ``SafetyAlert`` for the clinicians of the
patient's site. A clinician acknowledges it with an assessment; an alert left unacknowledged for
``SAFETY_ACK_HOURS`` is escalated to the data managers. Every change is in the history.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cohort import vocabulary as voc
from cohort.clinical import ClinicalModel
from cohort.models import Site, _choices, _in
from followup.models import AdverseEvent


class ExpectedEffect(models.Model):
    """An adverse effect the study expects of ketamine (its reference list, kept as data)."""

    type = models.CharField(
        _("type"), max_length=30, unique=True, choices=_choices(voc.ADVERSE_EFFECTS)
    )
    source = models.CharField(_("reference"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["type"]
        verbose_name = _("expected effect of ketamine")
        verbose_name_plural = _("expected effects of ketamine")
        constraints = [
            models.CheckConstraint(
                condition=_in("type", voc.ADVERSE_EFFECTS) & ~Q(type="other"),
                name="expected_effect_type_valid",
            )
        ]

    def __str__(self) -> str:
        return self.type


class SafetyAlert(ClinicalModel):
    """A safety alert raised by one serious or severe adverse effect."""

    adverse_event = models.OneToOneField(
        AdverseEvent, on_delete=models.PROTECT, related_name="safety_alert"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="safety_alerts")
    reason = models.CharField(
        _("reason"), max_length=10, choices=_choices(voc.SAFETY_ALERT_REASONS)
    )
    raised_at = models.DateTimeField(_("raised at"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("raised by"),
    )
    emailed_to = models.PositiveSmallIntegerField(_("clinicians e-mailed"), default=0)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    relation_reported = models.CharField(
        _("relation before the assessment"),
        max_length=12,
        blank=True,
        choices=_choices(voc.AE_RELATIONS),
    )
    assessment = models.TextField(_("assessment"), blank=True)
    escalated_at = models.DateTimeField(
        _("escalated to the data managers at"), null=True, blank=True
    )

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("safety alert")
        verbose_name_plural = _("safety alerts")
        constraints = [
            models.CheckConstraint(
                condition=_in("reason", voc.SAFETY_ALERT_REASONS), name="alert_reason_valid"
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True)
                | (Q(acknowledged_by__isnull=False) & ~Q(assessment="")),
                name="alert_acknowledged_with_assessment",
                violation_error_message=_("An acknowledgement needs its author and assessment."),
            ),
        ]
        indexes = [models.Index(fields=["site", "acknowledged_at"])]

    def __str__(self) -> str:
        return f"alert {self.pk} ({self.reason})"

    @property
    def is_open(self) -> bool:
        """Say whether no clinician has acknowledged the alert yet."""
        return self.acknowledged_at is None

    def hours_to_acknowledge(self) -> float | None:
        """Return the hours from raising to acknowledgement (None while open)."""
        if self.acknowledged_at is None:
            return None
        return (self.acknowledged_at - self.raised_at) / dt.timedelta(hours=1)
