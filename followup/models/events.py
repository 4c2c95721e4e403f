"""Adverse effects reported at a call and the concomitant treatments."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cohort import vocabulary as voc
from cohort.clinical import VoidableModel
from cohort.models import _choices, _dated, _in
from followup.models.calls import FollowUpCall
from followup.validators import CRITERION_FIELDS, adverse_event_constraints


class AdverseEvent(VoidableModel):
    """An adverse effect reported at a call (since the previous call), followed to resolution.

    The rules of the record are written once in ``followup.validators``; the CHECK constraints
    below repeat them in the database.
    """

    call = models.ForeignKey(FollowUpCall, on_delete=models.PROTECT, related_name="adverse_events")
    type = models.CharField(_("type"), max_length=30, choices=_choices(voc.ADVERSE_EFFECTS))
    other_text = models.CharField(_("other (describe)"), max_length=200, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=_choices(voc.SEVERITIES))
    serious = models.BooleanField(_("serious"), default=False)
    criterion_death = models.BooleanField(_("results in death"), default=False)
    criterion_life_threatening = models.BooleanField(_("life-threatening"), default=False)
    criterion_hospitalisation = models.BooleanField(
        _("hospitalisation or its prolongation"), default=False
    )
    criterion_disability = models.BooleanField(
        _("persistent or significant disability"), default=False
    )
    criterion_congenital_anomaly = models.BooleanField(_("congenital anomaly"), default=False)
    criterion_other_important = models.BooleanField(
        _("other important medical event"), default=False
    )
    start_date = models.DateField(_("onset date"), null=True, blank=True)
    relation = models.CharField(
        _("relation to ketamine"), max_length=12, blank=True, choices=_choices(voc.AE_RELATIONS)
    )
    expected = models.BooleanField(
        _("expected"),
        null=True,
        blank=True,
        help_text=_("Whether the effect is on the study's list of expected effects of ketamine."),
    )
    action_taken = models.CharField(
        _("action taken"), max_length=16, blank=True, choices=_choices(voc.AE_ACTIONS)
    )
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=_choices(voc.AE_OUTCOMES), default="not_recovered"
    )
    resolution_date = models.DateField(_("resolution date"), null=True, blank=True)

    class Meta:
        ordering = ["call", "type"]
        verbose_name = _("adverse event")
        verbose_name_plural = _("adverse events")
        constraints = [
            models.CheckConstraint(
                condition=_in("type", voc.ADVERSE_EFFECTS), name="ae_type_valid"
            ),
            models.CheckConstraint(
                condition=_in("severity", voc.SEVERITIES), name="ae_severity_valid"
            ),
            models.CheckConstraint(
                condition=~Q(type="other") | ~Q(other_text=""),
                name="ae_other_described",
                violation_error_message=_("Describe the adverse effect when its type is Other."),
            ),
            models.CheckConstraint(
                condition=_dated("start_date", nullable=True)
                & _dated("resolution_date", nullable=True),
                name="ae_dates_plausible",
                violation_error_message=_("An adverse effect must be dated 2000 to 2099."),
            ),
            *adverse_event_constraints(),
        ]

    def __str__(self) -> str:
        return f"{self.call}: {self.type} ({self.severity})"

    @property
    def criteria(self) -> list[str]:
        """Return the codes of the seriousness criteria met."""
        return [f.removeprefix("criterion_") for f in CRITERION_FIELDS if getattr(self, f)]

    def criteria_labels(self) -> list[str]:
        """Return the translated seriousness criteria met."""
        labels = dict(voc.SERIOUSNESS_CRITERIA)
        return [str(_(labels[code])) for code in self.criteria]

    @property
    def is_open(self) -> bool:
        """Say whether the effect is still present and must be asked about at the next call."""
        return self.voided_at is None and self.outcome in voc.AE_OPEN_OUTCOMES

    @property
    def needs_alert(self) -> bool:
        """Say whether the effect raises a safety alert: serious, or severe."""
        return self.voided_at is None and (self.serious or self.severity == "severe")

    def label(self) -> str:
        """Return the effect's translated name (the description for Other)."""
        if self.type == "other" and self.other_text:
            return self.other_text
        return str(_(voc.label(voc.ADVERSE_EFFECTS, self.type)))


class ConcomitantTreatment(VoidableModel):
    """A drug (by class, optionally named) or a non-drug treatment taken at a timepoint.

    Two drugs of one class are two rows, so that the number of treatments can be counted.
    """

    KINDS = (("drug", _("Drug")), ("non_drug", _("Non-drug treatment")))

    call = models.ForeignKey(FollowUpCall, on_delete=models.PROTECT, related_name="treatments")
    kind = models.CharField(_("kind"), max_length=8, choices=_choices(KINDS))
    code = models.CharField(_("treatment"), max_length=40)
    name = models.CharField(_("drug name"), max_length=120, blank=True)
    other_text = models.CharField(_("other (describe)"), max_length=200, blank=True)

    class Meta:
        ordering = ["call", "kind", "code"]
        verbose_name = _("concomitant treatment")
        verbose_name_plural = _("concomitant treatments")
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="drug") & _in("code", voc.DRUG_CLASSES))
                | (Q(kind="non_drug") & _in("code", voc.NON_DRUG_TREATMENTS)),
                name="treatment_code_valid",
                violation_error_message=_("Unknown treatment for its kind."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.call}: {self.kind} {self.code}"
