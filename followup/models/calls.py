"""Follow-up calls and their attempts: one row per patient and timepoint, its window and state."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cohort import vocabulary as voc
from cohort.clinical import ClinicalModel
from cohort.models import Patient, _choices, _dated, _in
from cohort.plausible import DATE_CEILING, DATE_FLOOR
from followup.schedule import in_window, window_closed
from followup.visits import completing_instruments
from trials import definitions

# Every study's visit codes (``trials.definitions.timepoints``): the first study's in the order
# of ``cohort.vocabulary.TIMEPOINTS``, then the other studies' own codes. The column accepts
# them all; the schedule's services refuse a code that is not a visit of the patient's study.
TIMEPOINT_LABELS = {**definitions.labels(), **dict(voc.TIMEPOINTS)}
STUDY_TIMEPOINTS: voc.Vocabulary = tuple(
    (code, TIMEPOINT_LABELS[code]) for code in definitions.timepoints()
)
TIMEPOINT_ORDER = {code: index for index, code in enumerate(voc.codes(STUDY_TIMEPOINTS))}


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
    timepoint = models.CharField(_("timepoint"), max_length=3, choices=_choices(STUDY_TIMEPOINTS))
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
                condition=_in("timepoint", STUDY_TIMEPOINTS), name="call_timepoint_valid"
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
    def instruments(self) -> tuple[str, ...]:
        """Return what the patient's study collects at this visit (``NPRS``, ``MADRS``...)."""
        return self.patient.study.protocol.visit(self.timepoint).instruments

    @property
    def rated_instruments(self) -> tuple[str, ...]:
        """Return the rated instruments that complete this visit (``followup.visits``).

        Empty for a phone call and for a visit completed on the call's page; otherwise the
        visit is done when each of them is recorded, and is entered on the assessment pages.
        """
        return completing_instruments(self.patient.study.protocol, self.timepoint)

    @property
    def status_label(self) -> str:
        """Return the status in the reader's language; a rated visit made reads "Done"."""
        if self.status == "reached" and self.rated_instruments:
            return gettext("Done")
        return str(self.get_status_display())

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
