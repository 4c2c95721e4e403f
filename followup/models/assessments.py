"""Rated assessments held by patient and visit: the MADRS and the SF-MPQ.

Unlike the NPRS, HADS and SF-12, which hang off a follow-up call, these are collected at a
study's visits (baseline, the morning after each infusion, day 26 in Lan et al. 2022), so a row
is keyed by the patient and a visit code; which codes a patient may have is the study's and is
checked by the services. Raw item ratings are stored; the totals are derived by
``followup.instruments`` and stored beside them for fast reads.

The ranges are held three times: the forms and serializers (``followup.validators``), the
fields' validators (``full_clean``) and the database's CHECK constraints.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cohort.clinical import VoidableModel
from cohort.models import Patient, _between, _dated
from followup.instruments import items, madrs, sf_mpq

VISIT_CODE_MAX_LENGTH = 8
MADRS_ITEM_FIELDS = tuple(f"item_{n}" for n in madrs.ITEMS)
SF_MPQ_DESCRIPTOR_FIELDS = tuple(f"descriptor_{n}" for n in sf_mpq.DESCRIPTORS)


def _label(labels: tuple[items.ItemLabel, ...], index: int) -> Any:
    """Return the neutral label of an item (``followup.instruments.items``), translated."""
    return _(labels[index].label)


def _rating(label: Any, low: int, high: int) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        label,
        null=True,
        blank=True,
        validators=[MinValueValidator(low), MaxValueValidator(high)],
    )


def _range_constraints(
    prefix: str, fields: tuple[str, ...], low: int, high: int, message: Any
) -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(
            condition=_between(field, low, high),
            name=f"{prefix}_{field}_range",
            violation_error_message=message,
        )
        for field in fields
    ]


class VisitAssessment(VoidableModel):
    """What a rated assessment at a visit has: the patient, the visit, the day, a version."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    visit_code = models.CharField(_("visit"), max_length=VISIT_CODE_MAX_LENGTH)
    assessed_on = models.DateField(_("date of the assessment"))
    version = models.PositiveIntegerField(
        _("version"), default=1, help_text=_("Incremented on each save; guards concurrent edits.")
    )

    INSTRUMENT: str = ""

    class Meta:
        abstract = True

    def item_values(self) -> dict[str, int | None]:
        """Return the answers keyed by their form and API field names (``madrs_3``)."""
        raise NotImplementedError

    def compute_scores(self) -> None:
        """Derive the stored scores from the answers."""
        raise NotImplementedError

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.compute_scores()
        super().save(*args, **kwargs)


def _live_unique(prefix: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["patient", "visit_code"],
        condition=Q(voided_at__isnull=True),
        name=f"{prefix}_unique_visit",
        violation_error_message=_("This visit already has this assessment: edit it instead."),
    )


class MadrsAssessment(VisitAssessment):
    """Montgomery-Asberg Depression Rating Scale: ten ratings 0-6 by a rater, the total derived."""

    INSTRUMENT = "madrs"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="madrs_assessments")
    rater = models.CharField(_("rater"), max_length=60, help_text=_("Name or initials."))
    item_1 = _rating(_label(items.MADRS, 0), madrs.ITEM_MIN, madrs.ITEM_MAX)
    item_2 = _rating(_label(items.MADRS, 1), madrs.ITEM_MIN, madrs.ITEM_MAX)
    item_3 = _rating(_label(items.MADRS, 2), madrs.ITEM_MIN, madrs.ITEM_MAX)
    item_4 = _rating(_label(items.MADRS, 3), madrs.ITEM_MIN, madrs.ITEM_MAX)
    item_5 = _rating(_label(items.MADRS, 4), madrs.ITEM_MIN, madrs.ITEM_MAX)
    item_6 = _rating(_label(items.MADRS, 5), madrs.ITEM_MIN, madrs.ITEM_MAX)
    item_7 = _rating(_label(items.MADRS, 6), madrs.ITEM_MIN, madrs.ITEM_MAX)
    item_8 = _rating(_label(items.MADRS, 7), madrs.ITEM_MIN, madrs.ITEM_MAX)
    item_9 = _rating(_label(items.MADRS, 8), madrs.ITEM_MIN, madrs.ITEM_MAX)
    item_10 = _rating(_label(items.MADRS, 9), madrs.ITEM_MIN, madrs.ITEM_MAX)
    total = models.PositiveSmallIntegerField(_("MADRS total"), null=True, editable=False)

    class Meta:
        ordering = ["patient", "assessed_on", "pk"]
        verbose_name = _("MADRS assessment")
        verbose_name_plural = _("MADRS assessments")
        constraints = [
            _live_unique("madrs"),
            *_range_constraints(
                "madrs",
                MADRS_ITEM_FIELDS,
                madrs.ITEM_MIN,
                madrs.ITEM_MAX,
                _("MADRS items are rated 0 to 6."),
            ),
            models.CheckConstraint(
                condition=_between("total", 0, madrs.TOTAL_MAX), name="madrs_total_range"
            ),
            models.CheckConstraint(
                condition=_dated("assessed_on"),
                name="madrs_date_plausible",
                violation_error_message=_("An assessment must be dated 2000 to 2099."),
            ),
        ]

    def __str__(self) -> str:
        return f"MADRS {self.patient_id} {self.visit_code}: {self.total}"

    def answers(self) -> dict[int, int | None]:
        """Return the ratings keyed by item number."""
        return {n: getattr(self, f"item_{n}") for n in madrs.ITEMS}

    def item_values(self) -> dict[str, int | None]:
        return {madrs.field_name(n): value for n, value in self.answers().items()}

    def response(self, baseline_total: int | None) -> bool | None:
        """Say whether this total fell by at least 50% from ``baseline_total`` (the scale's)."""
        return madrs.response(baseline_total, self.total)

    def remission(self) -> bool | None:
        """Say whether this total is a remission (10 or less); None when it is missing."""
        return madrs.remission(self.total)

    def compute_scores(self) -> None:
        """Derive the total (None unless all ten items are rated, or if one is invalid)."""
        answers = self.answers()
        self.total = None if madrs.validate_answers(answers) else madrs.total(answers)


class SfMpqAssessment(VisitAssessment):
    """Short-form McGill Pain Questionnaire: 15 descriptors 0-3, the VAS and the PPI."""

    INSTRUMENT = "sf_mpq"

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="sf_mpq_assessments"
    )
    descriptor_1 = _rating(_label(items.SF_MPQ, 0), 0, sf_mpq.DESCRIPTOR_MAX)
    descriptor_2 = _rating(_label(items.SF_MPQ, 1), 0, sf_mpq.DESCRIPTOR_MAX)
    descriptor_3 = _rating(_label(items.SF_MPQ, 2), 0, sf_mpq.DESCRIPTOR_MAX)
    descriptor_4 = _rating(_label(items.SF_MPQ, 3), 0, sf_mpq.DESCRIPTOR_MAX)
    descriptor_5 = _rating(_label(items.SF_MPQ, 4), 0, sf_mpq.DESCRIPTOR_MAX)
    descriptor_6 = _rating(_label(items.SF_MPQ, 5), 0, sf_mpq.DESCRIPTOR_MAX)
    descriptor_7 = _rating(_label(items.SF_MPQ, 6), 0, sf_mpq.DESCRIPTOR_MAX)
    descriptor_8 = _rating(_label(items.SF_MPQ, 7), 0, sf_mpq.DESCRIPTOR_MAX)
    descriptor_9 = _rating(_label(items.SF_MPQ, 8), 0, sf_mpq.DESCRIPTOR_MAX)
    descriptor_10 = _rating(_label(items.SF_MPQ, 9), 0, sf_mpq.DESCRIPTOR_MAX)
    descriptor_11 = _rating(_label(items.SF_MPQ, 10), 0, sf_mpq.DESCRIPTOR_MAX)
    descriptor_12 = _rating(_label(items.SF_MPQ, 11), 0, sf_mpq.DESCRIPTOR_MAX)
    descriptor_13 = _rating(_label(items.SF_MPQ, 12), 0, sf_mpq.DESCRIPTOR_MAX)
    descriptor_14 = _rating(_label(items.SF_MPQ, 13), 0, sf_mpq.DESCRIPTOR_MAX)
    descriptor_15 = _rating(_label(items.SF_MPQ, 14), 0, sf_mpq.DESCRIPTOR_MAX)
    vas_mm = _rating(_label(items.SF_MPQ, 15), sf_mpq.VAS_MIN, sf_mpq.VAS_MAX)
    ppi = _rating(_label(items.SF_MPQ, 16), sf_mpq.PPI_MIN, sf_mpq.PPI_MAX)
    sensory = models.PositiveSmallIntegerField(_("SF-MPQ sensory"), null=True, editable=False)
    affective = models.PositiveSmallIntegerField(_("SF-MPQ affective"), null=True, editable=False)
    total = models.PositiveSmallIntegerField(_("SF-MPQ total"), null=True, editable=False)

    class Meta:
        ordering = ["patient", "assessed_on", "pk"]
        verbose_name = _("SF-MPQ assessment")
        verbose_name_plural = _("SF-MPQ assessments")
        constraints = [
            _live_unique("sf_mpq"),
            *_range_constraints(
                "sf_mpq",
                SF_MPQ_DESCRIPTOR_FIELDS,
                sf_mpq.DESCRIPTOR_MIN,
                sf_mpq.DESCRIPTOR_MAX,
                _("SF-MPQ descriptors are rated 0 to 3."),
            ),
            models.CheckConstraint(
                condition=_between("vas_mm", sf_mpq.VAS_MIN, sf_mpq.VAS_MAX),
                name="sf_mpq_vas_range",
                violation_error_message=_("The pain VAS is 0 to 100 mm."),
            ),
            models.CheckConstraint(
                condition=_between("ppi", sf_mpq.PPI_MIN, sf_mpq.PPI_MAX),
                name="sf_mpq_ppi_range",
                violation_error_message=_("The present pain intensity is 0 to 5."),
            ),
            models.CheckConstraint(
                condition=_between("sensory", 0, sf_mpq.SENSORY_MAX)
                & _between("affective", 0, sf_mpq.AFFECTIVE_MAX)
                & _between("total", 0, sf_mpq.TOTAL_MAX),
                name="sf_mpq_scores_range",
            ),
            models.CheckConstraint(
                condition=_dated("assessed_on"),
                name="sf_mpq_date_plausible",
                violation_error_message=_("An assessment must be dated 2000 to 2099."),
            ),
        ]

    def __str__(self) -> str:
        return f"SF-MPQ {self.patient_id} {self.visit_code}: {self.total}"

    def descriptors(self) -> dict[int, int | None]:
        """Return the descriptor ratings keyed by descriptor number."""
        return {n: getattr(self, f"descriptor_{n}") for n in sf_mpq.DESCRIPTORS}

    def item_values(self) -> dict[str, int | None]:
        values = {sf_mpq.field_name(n): value for n, value in self.descriptors().items()}
        return values | {sf_mpq.VAS_FIELD: self.vas_mm, sf_mpq.PPI_FIELD: self.ppi}

    def compute_scores(self) -> None:
        """Derive the sensory, affective and total scores (None when a descriptor is blank)."""
        descriptors = self.descriptors()
        if sf_mpq.validate(descriptors, self.vas_mm, self.ppi):
            self.sensory = self.affective = self.total = None
            return
        result = sf_mpq.score(descriptors, self.vas_mm, self.ppi)
        self.sensory, self.affective, self.total = result.sensory, result.affective, result.total
