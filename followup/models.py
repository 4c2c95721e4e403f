"""Follow-up calls, their attempts, and the answers collected at baseline and at each call.

Baseline (in hospital) and each telephone call are one ``FollowUpCall`` row per patient and
timepoint, so that every questionnaire hangs off the same kind of row. Raw item answers are
stored; scores are derived by ``followup.instruments`` and stored beside them for fast reads.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cohort import vocabulary as voc
from cohort.clinical import ClinicalModel, VoidableModel, clinical_history
from cohort.models import Patient, _between, _choices, _dated, _in
from cohort.plausible import DATE_CEILING, DATE_FLOOR
from followup.instruments import hads, missing, sf12
from followup.schedule import in_window, window_closed
from followup.validators import CRITERION_FIELDS, adverse_event_constraints

TIMEPOINT_ORDER = {code: index for index, code in enumerate(voc.codes(voc.TIMEPOINTS))}
TIMEPOINT_LABELS = dict(voc.TIMEPOINTS)


def window_opened_by(day: dt.date) -> Q:
    """Return the calls whose window has opened by ``day``: ``schedule.window_opened``."""
    return Q(window_start__lte=day)


def window_closed_by(day: dt.date) -> Q:
    """Return the calls whose window has closed by ``day``: ``schedule.window_closed``."""
    return Q(window_end__lt=day)


def window_contains(day: dt.date) -> Q:
    """Return the calls whose window contains ``day``: ``schedule.in_window`` as a filter.

    Opened and not closed, written as the two bounds an index reads.
    """
    return window_opened_by(day) & Q(window_end__gte=day)


class FollowUpCall(ClinicalModel):
    """The assessment of one patient at one timepoint: baseline in hospital, then by phone."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="calls")
    timepoint = models.CharField(_("timepoint"), max_length=3, choices=_choices(voc.TIMEPOINTS))
    sequence = models.PositiveSmallIntegerField(_("order"), editable=False)
    target_date = models.DateField(_("target date"))
    window_start = models.DateField(_("window opens"))
    window_end = models.DateField(_("window closes"))
    status = models.CharField(
        _("status"), max_length=12, choices=_choices(voc.CALL_STATUSES), default="due"
    )
    status_reason = models.TextField(_("status reason"), blank=True)
    call_date = models.DateField(_("date of the call"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="completed_calls",
    )
    needs_review = models.BooleanField(_("needs clinician review"), default=False)
    review_reasons = models.JSONField(_("review reasons"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    version = models.PositiveIntegerField(
        _("version"), default=1, help_text=_("Incremented on each save; guards concurrent edits.")
    )

    class Meta:
        ordering = ["patient", "sequence"]
        verbose_name = _("follow-up call")
        verbose_name_plural = _("follow-up calls")
        constraints = [
            models.UniqueConstraint(fields=["patient", "timepoint"], name="call_unique_timepoint"),
            models.CheckConstraint(
                condition=_in("timepoint", voc.TIMEPOINTS), name="call_timepoint_valid"
            ),
            models.CheckConstraint(
                condition=_in("status", voc.CALL_STATUSES), name="call_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(window_start__lte=models.F("target_date"))
                & Q(window_end__gte=models.F("target_date")),
                name="call_window_contains_target",
            ),
            models.CheckConstraint(
                condition=~Q(status="reached") | Q(call_date__isnull=False),
                name="call_reached_has_date",
                violation_error_message=_("A reached call needs the date of the call."),
            ),
            models.CheckConstraint(
                condition=_dated("target_date") & _dated("call_date", nullable=True),
                name="call_dates_plausible",
                violation_error_message=_("A call must be dated 2000 to 2099."),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "target_date"]),
            models.Index(fields=["patient", "sequence"]),
            # The worklist: open calls by target date, with what its sections and counts read
            # (PostgreSQL answers the counts from the index alone).
            models.Index(
                fields=["target_date"],
                include=["patient", "window_start", "window_end", "timepoint"],
                condition=Q(status="due"),
                name="call_open_by_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.timepoint}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.sequence = TIMEPOINT_ORDER[self.timepoint]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def timepoint_label(self) -> str:
        """Return the timepoint in the reader's language.

        What ``get_timepoint_display`` shows, in one catalogue lookup: that one builds the
        table of every timepoint's translated label on each call (a page of 100 calls, 1,400).
        """
        return gettext(TIMEPOINT_LABELS[self.timepoint])

    @property
    def is_baseline(self) -> bool:
        """Say whether this is the in-hospital baseline assessment."""
        return self.timepoint == "BL"

    @property
    def is_open(self) -> bool:
        """Say whether the call still has to be made."""
        return self.status in voc.OPEN_CALL_STATUSES

    def is_overdue(self, today: dt.date | None = None) -> bool:
        """Say whether the call is still open after its window closed."""
        today = today or timezone.localdate()
        return self.is_open and window_closed(today, self.window_end)

    def review_labels(self) -> list[str]:
        """Return the translated reasons this call was flagged for a clinician."""
        labels = dict(voc.REVIEW_REASONS)
        return [str(_(labels[code])) for code in self.review_reasons if code in labels]

    def is_outside_window(self) -> bool:
        """Say whether the call was made outside its window (flagged, not refused)."""
        if self.call_date is None or self.is_baseline:
            return False
        return not in_window(self.call_date, self.window_start, self.window_end)


class CallAttempt(ClinicalModel):
    """One try at reaching the patient for a call, reached or not."""

    call = models.ForeignKey(FollowUpCall, on_delete=models.PROTECT, related_name="attempts")
    attempted_at = models.DateTimeField(_("attempted at"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    outcome = models.CharField(_("outcome"), max_length=14, choices=_choices(voc.ATTEMPT_OUTCOMES))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["call", "attempted_at"]
        verbose_name = _("call attempt")
        verbose_name_plural = _("call attempts")
        constraints = [
            models.CheckConstraint(
                condition=_in("outcome", voc.ATTEMPT_OUTCOMES), name="attempt_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    attempted_at__gte=dt.datetime.combine(DATE_FLOOR, dt.time(), dt.UTC),
                    attempted_at__lt=dt.datetime.combine(DATE_CEILING, dt.time(), dt.UTC),
                ),
                name="attempt_time_plausible",
                violation_error_message=_("An attempt must be dated 2000 to 2099."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.call} {self.outcome} at {self.attempted_at:%Y-%m-%d %H:%M}"


class LostProposalDismissal(ClinicalModel):
    """A data manager's decision to keep following a patient proposed as lost to follow-up.

    The patient is proposed again only once a call after ``last_missed_call`` is missed too.
    """

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="lost_proposal_dismissals"
    )
    last_missed_call = models.ForeignKey(FollowUpCall, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    dismissed_at = models.DateTimeField(_("dismissed at"), default=timezone.now)

    class Meta:
        ordering = ["patient", "dismissed_at"]
        verbose_name = _("dismissed lost-to-follow-up proposal")
        verbose_name_plural = _("dismissed lost-to-follow-up proposals")

    def __str__(self) -> str:
        return f"{self.patient_id} kept in follow-up after {self.last_missed_call_id}"


class MissingReasonMixin(models.Model):
    """Why values are absent; stored apart from the values, never as a number.

    ``missing_reason`` says why the whole instrument is absent; ``item_reasons`` maps each blank
    item (field name as exported, ``hads_3``) to its reason. Both are part of the history row.
    """

    missing_reason = models.CharField(
        _("why missing"), max_length=20, blank=True, choices=_choices(voc.MISSING_REASONS)
    )
    item_reasons = models.JSONField(_("why each blank item is missing"), default=dict, blank=True)

    INSTRUMENT: str = ""

    class Meta:
        abstract = True

    def item_values(self) -> dict[str, int | None]:
        """Return the item answers keyed by their exported field names."""
        raise NotImplementedError

    def clean(self) -> None:
        super().clean()
        fields = missing.INSTRUMENT_FIELDS[self.INSTRUMENT]
        reasons = self.item_reasons if isinstance(self.item_reasons, dict) else None
        if reasons is None:
            raise ValidationError({"item_reasons": _("Item reasons must be a mapping.")})
        values = self.item_values()
        for field, reason in reasons.items():
            if field not in fields or reason not in missing.REASONS:
                raise ValidationError(
                    {"item_reasons": _("Unknown item or reason: %(item)s.") % {"item": field}}
                )
            if values[field] is not None:
                raise ValidationError(
                    {
                        "item_reasons": _("%(item)s has an answer: it needs no reason.")
                        % {"item": field}
                    }
                )

    def reason_of(self, field: str) -> str:
        """Return why one item is blank ('' when it is answered or no reason was given)."""
        if self.item_values()[field] is not None:
            return ""
        return str((self.item_reasons or {}).get(field) or self.missing_reason)


class NprsResponse(MissingReasonMixin, ClinicalModel):
    """Numerical pain rating (0-10): mean and maximal pain."""

    INSTRUMENT = "nprs"

    call = models.OneToOneField(FollowUpCall, on_delete=models.PROTECT, related_name="nprs")
    mean = models.PositiveSmallIntegerField(_("mean pain (0-10)"), null=True, blank=True)
    maximum = models.PositiveSmallIntegerField(_("maximal pain (0-10)"), null=True, blank=True)

    class Meta:
        verbose_name = _("NPRS answer")
        verbose_name_plural = _("NPRS answers")
        constraints = [
            models.CheckConstraint(
                condition=_between("mean", 0, 10),
                name="nprs_mean_range",
                violation_error_message=_("Mean pain must be an integer from 0 to 10."),
            ),
            models.CheckConstraint(
                condition=_between("maximum", 0, 10),
                name="nprs_max_range",
                violation_error_message=_("Maximal pain must be an integer from 0 to 10."),
            ),
        ]

    def __str__(self) -> str:
        return f"NPRS {self.call}: {self.mean}/{self.maximum}"

    def item_values(self) -> dict[str, int | None]:
        """Return the ratings keyed by their exported field names."""
        return {"nprs_mean": self.mean, "nprs_max": self.maximum}


HADS_ITEM_FIELDS = tuple(f"item_{n}" for n in range(1, 15))
SF12_ITEM_FIELDS = tuple(name.lower() for name in sf12.ITEMS)


def _hads_constraints() -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(
            condition=_between(field, 0, 3),
            name=f"hads_{field}_range",
            violation_error_message=_("HADS items are scored 0 to 3."),
        )
        for field in HADS_ITEM_FIELDS
    ]


def _sf12_constraints() -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(
            condition=_between(field, 1, sf12.RANGES[field.upper()]),
            name=f"sf12_{field}_range",
            violation_error_message=_("SF-12 answer out of the item's response codes."),
        )
        for field in SF12_ITEM_FIELDS
    ]


class HadsResponse(MissingReasonMixin, ClinicalModel):
    """Hospital Anxiety and Depression Scale: 14 keyed item scores (0-3) and derived subscores."""

    INSTRUMENT = "hads"

    call = models.OneToOneField(FollowUpCall, on_delete=models.PROTECT, related_name="hads")
    item_1 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_2 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_3 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_4 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_5 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_6 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_7 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_8 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_9 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_10 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_11 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_12 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_13 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_14 = models.PositiveSmallIntegerField(null=True, blank=True)
    anxiety = models.PositiveSmallIntegerField(_("HADS anxiety"), null=True, editable=False)
    depression = models.PositiveSmallIntegerField(_("HADS depression"), null=True, editable=False)

    class Meta:
        verbose_name = _("HADS answers")
        verbose_name_plural = _("HADS answers")
        constraints = _hads_constraints()

    def __str__(self) -> str:
        return f"HADS {self.call}: A {self.anxiety} D {self.depression}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.compute_scores()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def answers(self) -> dict[int, int | None]:
        """Return the item answers keyed by item number."""
        return {n: getattr(self, f"item_{n}") for n in range(1, 15)}

    def item_values(self) -> dict[str, int | None]:
        """Return the item answers keyed by their exported field names."""
        return {hads.field_name(n): value for n, value in self.answers().items()}

    def compute_scores(self) -> None:
        """Derive the subscores from the items (one missing item per subscale is prorated)."""
        errors = hads.validate_answers(self.answers())
        if errors:
            self.anxiety = self.depression = None
            return
        result = hads.score(self.answers())
        self.anxiety, self.depression = result.anxiety, result.depression


class Sf12Response(MissingReasonMixin, ClinicalModel):
    """SF-12 version 1: 12 answers as numbered on the form, PCS and MCS derived."""

    INSTRUMENT = "sf12"

    call = models.OneToOneField(FollowUpCall, on_delete=models.PROTECT, related_name="sf12")
    gh1 = models.PositiveSmallIntegerField("GH1", null=True, blank=True)
    pf02 = models.PositiveSmallIntegerField("PF02", null=True, blank=True)
    pf04 = models.PositiveSmallIntegerField("PF04", null=True, blank=True)
    rp2 = models.PositiveSmallIntegerField("RP2", null=True, blank=True)
    rp3 = models.PositiveSmallIntegerField("RP3", null=True, blank=True)
    re2 = models.PositiveSmallIntegerField("RE2", null=True, blank=True)
    re3 = models.PositiveSmallIntegerField("RE3", null=True, blank=True)
    bp2 = models.PositiveSmallIntegerField("BP2", null=True, blank=True)
    mh3 = models.PositiveSmallIntegerField("MH3", null=True, blank=True)
    vt2 = models.PositiveSmallIntegerField("VT2", null=True, blank=True)
    mh4 = models.PositiveSmallIntegerField("MH4", null=True, blank=True)
    sf2 = models.PositiveSmallIntegerField("SF2", null=True, blank=True)
    pcs = models.FloatField(_("SF-12 physical score (PCS)"), null=True, editable=False)
    mcs = models.FloatField(_("SF-12 mental score (MCS)"), null=True, editable=False)

    class Meta:
        verbose_name = _("SF-12 answers")
        verbose_name_plural = _("SF-12 answers")
        constraints = _sf12_constraints()

    def __str__(self) -> str:
        return f"SF-12 {self.call}: PCS {self.pcs} MCS {self.mcs}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.compute_scores()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def answers(self) -> dict[str, int | None]:
        """Return the answers keyed by the standard item names."""
        return {field.upper(): getattr(self, field) for field in SF12_ITEM_FIELDS}

    def item_values(self) -> dict[str, int | None]:
        """Return the answers keyed by their exported field names."""
        return {f"sf12_{field}": getattr(self, field) for field in SF12_ITEM_FIELDS}

    def compute_scores(self) -> None:
        """Derive PCS and MCS (none when an item is missing or invalid)."""
        if sf12.validate_answers(self.answers()):
            self.pcs = self.mcs = None
            return
        result = sf12.score(self.answers())
        self.pcs, self.mcs = result.pcs, result.mcs


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


class ItemWording(models.Model):
    """The licensed wording of a questionnaire item in one language, loaded by a data manager.

    The code ships neutral labels only (``followup.instruments.items``): HADS and SF-12 wordings
    are licensed per study. When a wording exists for an item and the user's language, the forms
    show it instead of the neutral label.
    """

    field = models.CharField(
        _("item"), max_length=20, help_text=_("Field name, e.g. hads_6 or sf12_gh1.")
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    text = models.TextField(_("wording"))
    options = models.JSONField(
        _("answer options"),
        default=list,
        blank=True,
        help_text=_("Wording of each answer, in the order of the stored codes."),
    )
    source = models.CharField(_("licence or source"), max_length=200, blank=True)
    history = clinical_history()

    class Meta:
        ordering = ["field", "language"]
        verbose_name = _("item wording")
        verbose_name_plural = _("item wordings")
        constraints = [
            models.UniqueConstraint(fields=["field", "language"], name="wording_unique_language")
        ]

    def __str__(self) -> str:
        return f"{self.field} ({self.language})"

    def clean(self) -> None:
        from followup.instruments import items

        known = {item.field: item for item in items.HADS + items.SF12}
        if self.field not in known:
            raise ValidationError({"field": _("Unknown questionnaire item.")})
        expected = known[self.field].options
        if self.options and len(self.options) != expected:
            raise ValidationError({"options": _("This item has %(n)s answers.") % {"n": expected}})
