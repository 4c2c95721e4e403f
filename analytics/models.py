"""Analysis runs: the hand-off between a data change and the worker, and the results it stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cohort.models import Study
from cohort.studies import first_study_id


class AnalysisRun(models.Model):
    """One re-analysis of one study's live data: queued, run by the worker, kept with its results.

    Per study, at most one run waits in the queue and at most one runs at a time (database
    constraints): a burst of saves joins the waiting run, and a change made during a run queues
    exactly one more. The study's newest succeeded run is what pages, exports and the API show;
    a failed run records its error and leaves that one in place. The study's definition names
    the analysis plan the worker runs (``analytics.plans``).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        UNCHANGED = "unchanged", _("Unchanged data")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        DATA_CHANGE = "data_change", _("Data changed")
        NIGHTLY = "nightly", _("Nightly")
        MANUAL = "manual", _("Requested by a user")
        COMMAND = "command", _("Command line")

    # A run saved without a study is the first study's, as a new site is (``save``): code
    # written for one study (the importer, the demo, the tests) keeps analysing it.
    study = models.ForeignKey(
        Study, verbose_name=_("study"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.QUEUED
    )
    trigger = models.CharField(_("trigger"), max_length=12, choices=Trigger.choices)
    force = models.BooleanField(_("recompute even if the data are unchanged"), default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    not_before = models.DateTimeField(
        _("not before"), default=timezone.now, help_text=_("Saves until then join this run.")
    )
    dispatched_at = models.DateTimeField(_("sent to the worker at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    step = models.CharField(_("current step"), max_length=60, blank=True)
    steps_done = models.PositiveSmallIntegerField(_("steps done"), default=0)
    steps_total = models.PositiveSmallIntegerField(_("steps in all"), default=0)
    fingerprint = models.CharField(_("data fingerprint"), max_length=64, blank=True)
    same_as = models.ForeignKey(
        "self",
        verbose_name=_("results of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The earlier run on the same data, when this one found nothing changed."),
    )
    n_patients = models.PositiveIntegerField(_("patients"), null=True, blank=True)
    n_calls = models.PositiveIntegerField(_("calls made"), null=True, blank=True)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    versions = models.JSONField(_("library versions"), default=dict, blank=True)
    timings = models.JSONField(_("seconds per step"), default=dict, blank=True)
    report = models.JSONField(_("report"), null=True, blank=True)
    # The report without the per-patient trajectory memberships (stored as TrajectoryMembership
    # rows): what the dashboard reads, so that a page view does not load one entry per patient.
    # Null for runs stored before it existed; readers then fall back on the report.
    summary = models.JSONField(_("report summary"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    error_detail = models.TextField(_("error detail"), blank=True)

    class Meta:
        verbose_name = _("analysis run")
        verbose_name_plural = _("analysis runs")
        ordering = ("-requested_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["study", "status"],
                condition=models.Q(status="queued"),
                name="analysis_run_one_queued_per_study",
                violation_error_message=_("Another analysis run of this study is already waiting."),
            ),
            models.UniqueConstraint(
                fields=["study", "status"],
                condition=models.Q(status="running"),
                name="analysis_run_one_running_per_study",
                violation_error_message=_("Another analysis run of this study is already running."),
            ),
        ]
        indexes = [
            models.Index(
                fields=["study", "status", "-finished_at"], name="analysis_run_study_status"
            )
        ]

    def __str__(self) -> str:
        return f"Analysis run {self.pk} ({self.get_status_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.study_id is None:
            self.study_id = first_study_id()
        super().save(*args, **kwargs)

    @property
    def duration(self) -> timedelta | None:
        """Return how long the run took (or has been taking)."""
        if self.started_at is None:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    @property
    def is_finished(self) -> bool:
        """Say whether the worker is done with this run, whatever the outcome."""
        return self.status in (self.Status.SUCCEEDED, self.Status.UNCHANGED, self.Status.FAILED)

    @property
    def progress(self) -> dict[str, Any]:
        """Return the step and the share done, for progress bars."""
        share = self.steps_done / self.steps_total if self.steps_total else 0.0
        if self.is_finished:
            share = 1.0
        return {
            "status": self.status,
            "step": self.step,
            "done": self.steps_done,
            "total": self.steps_total,
            "share": round(share, 3),
        }

    def results_run(self) -> AnalysisRun | None:
        """Return the run whose report stands for this one (itself, or the run it matched)."""
        if self.status == self.Status.SUCCEEDED:
            return self
        if self.status == self.Status.UNCHANGED:
            return self.same_as
        return None


class TrajectoryMembership(models.Model):
    """One patient's trajectory group in one successful run, written with the run's report.

    The report holds the same table (one column per field, every analysed patient): these rows
    let a page read one patient's group, or one group's patients, without loading it. Only the
    newest successful run's rows are kept (pages read no other; each report keeps its table).
    """

    run = models.ForeignKey(
        AnalysisRun, verbose_name=_("analysis run"), on_delete=models.CASCADE, related_name="+"
    )
    patient = models.ForeignKey(
        "cohort.Patient", verbose_name=_("patient"), on_delete=models.CASCADE, related_name="+"
    )
    group = models.CharField(_("trajectory group"), max_length=60)
    posterior = models.FloatField(_("posterior probability"), null=True, blank=True)
    # The model the group comes from (the report's memberships_model): "group_based" or
    # "latent_class_mixed"; blank for rows written before the run chose between them.
    model = models.CharField(_("trajectory model"), max_length=40, blank=True, default="")

    class Meta:
        verbose_name = _("trajectory membership")
        verbose_name_plural = _("trajectory memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "patient"], name="trajectory_membership_one_per_run"
            )
        ]
        indexes = [models.Index(fields=["run", "group"], name="trajectory_membership_group")]

    def __str__(self) -> str:
        return f"{self.patient_id}: {self.group} (run {self.run_id})"


class ExportLog(models.Model):
    """One download of the study data: who, when, which layout and format, how many rows."""

    class Source(models.TextChoices):
        WEB = "web", _("Web page")
        API = "api", _("API")
        COMMAND = "command", _("Command line")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    exported_at = models.DateTimeField(_("exported at"), default=timezone.now)
    source = models.CharField(_("from"), max_length=8, choices=Source.choices)
    layout = models.CharField(_("layout"), max_length=20)
    format = models.CharField(_("format"), max_length=10)
    items = models.BooleanField(_("with item answers"), default=False)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    filename = models.CharField(_("file"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ("-exported_at", "-id")

    def __str__(self) -> str:
        return f"{self.layout}.{self.format} at {self.exported_at:%Y-%m-%d %H:%M}"
