"""The depression study's baseline: one row per patient, recorded before the first infusion.

What Lan et al. 2022 reads of each patient besides the rated scales: the investigator's pain
group (the paper gives no cut-offs, so it is the investigator's classification, not derived
from the SF-MPQ), suicidality and the psychotropic treatments at inclusion. Sex is the patient
file's; the SF-MPQ domains are the baseline ``SfMpqAssessment``. Only a study whose definition
collects it (``StudyDefinition.collects_depression_baseline``) has it; the services refuse it
for any other patient.
"""

from __future__ import annotations

from typing import Final

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from cohort.clinical import ClinicalModel
from cohort.models import Patient

PAIN_GROUPS: Final[tuple[tuple[str, str], ...]] = (
    ("none", gettext_noop("No pain")),
    ("mild", gettext_noop("Mild pain")),
    ("severe", gettext_noop("Severe pain")),
)
MAX_ANTIDEPRESSANTS: Final = 10


class DepressionBaseline(ClinicalModel):
    """The baseline of a patient of the depression study: pain group, suicidality, treatments."""

    patient = models.OneToOneField(
        Patient, on_delete=models.PROTECT, related_name="depression_baseline"
    )
    pain_group = models.CharField(
        _("pain group"),
        max_length=6,
        choices=[(code, _(label)) for code, label in PAIN_GROUPS],
        help_text=_("The investigator's classification of the pain at inclusion."),
    )
    suicidality = models.BooleanField(_("suicidal ideation"))
    antidepressants = models.PositiveSmallIntegerField(
        _("antidepressants taken"),
        validators=[MaxValueValidator(MAX_ANTIDEPRESSANTS)],
        help_text=_("Number of antidepressants taken at inclusion."),
    )
    mood_stabilisers = models.BooleanField(_("mood stabilisers"))
    benzodiazepines = models.BooleanField(_("benzodiazepines"))
    antipsychotics = models.BooleanField(_("antipsychotics"))
    version = models.PositiveIntegerField(
        _("version"), default=1, help_text=_("Incremented on each save; guards concurrent edits.")
    )

    class Meta:
        ordering = ["patient"]
        verbose_name = _("depression baseline")
        verbose_name_plural = _("depression baselines")
        constraints = [
            models.CheckConstraint(
                condition=Q(pain_group__in=[code for code, _label in PAIN_GROUPS]),
                name="depression_baseline_pain_group_valid",
                violation_error_message=_("The pain group is none, mild or severe."),
            ),
            models.CheckConstraint(
                condition=Q(antidepressants__lte=MAX_ANTIDEPRESSANTS),
                name="depression_baseline_antidepressants_range",
                violation_error_message=_("At most 10 antidepressants."),
            ),
        ]

    def __str__(self) -> str:
        return f"Depression baseline {self.patient_id}: {self.pain_group}"

    @property
    def two_or_more_antidepressants(self) -> bool:
        """Say whether the patient took two or more antidepressants (the paper's row)."""
        return self.antidepressants >= 2
