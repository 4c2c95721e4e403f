"""Queries on recorded values: raised by data managers or by the data-quality rules.

A query points at one value: a row (generic content type and id: a call, a patient, an
administration, an adverse event) and the name of a field of that row as the pages name it
(``nprs_mean``, ``hads_3``, ``sf12_gh1``, ``call_date``, ``dn4``, ``dose_value``...). The patient
and the call are kept beside the target so that queries are scoped and listed without joins
through the generic key. Every step (raised, answered, corrected, closed, reopened, resolved)
is one ``QueryMessage``: the thread is the history.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cohort.models import Patient
from followup.models import FollowUpCall


class Query(models.Model):
    """A question about one recorded value, from its raising to its closing."""

    class Kind(models.TextChoices):
        MISSING = "missing", _("Missing value")
        OUT_OF_RANGE = "out_of_range", _("Out of range")
        INCONSISTENT = "inconsistent", _("Inconsistent")
        OTHER = "other", _("Other")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="queries")
    call = models.ForeignKey(
        FollowUpCall, on_delete=models.PROTECT, null=True, blank=True, related_name="queries"
    )
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    target_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("target_type", "target_id")
    field = models.CharField(_("field"), max_length=40)
    kind = models.CharField(_("type"), max_length=14, choices=Kind.choices)
    text = models.TextField(_("question"))
    # An automatic query's words, to show in the reader's language (quality.rules.MESSAGES).
    template = models.CharField(_("message"), max_length=40, blank=True)
    params = models.JSONField(_("message values"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default="open")
    value_at_raise = models.CharField(_("value when raised"), max_length=200, blank=True)
    automatic = models.BooleanField(_("raised by a data-quality rule"), default=False)
    rule = models.CharField(_("rule"), max_length=40, blank=True)
    key = models.CharField(
        _("finding key"),
        max_length=200,
        blank=True,
        help_text=_("Stable key of an automatic query's finding, so that reruns do not repeat it."),
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="raised_queries",
    )
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        verbose_name = _("query")
        verbose_name_plural = _("queries")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["open", "answered", "closed"]),
                name="query_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["missing", "out_of_range", "inconsistent", "other"]),
                name="query_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(automatic=False) | ~Q(rule="") & ~Q(key=""),
                name="query_automatic_has_rule_and_key",
            ),
            models.UniqueConstraint(
                fields=["key"], condition=~Q(key=""), name="query_unique_finding_key"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "patient"]),
            models.Index(fields=["call", "state"]),
        ]

    def __str__(self) -> str:
        return f"Query {self.pk} on {self.field} ({self.state})"

    @property
    def is_open(self) -> bool:
        """Say whether the query waits for the site's answer."""
        return self.state == self.State.OPEN


class QueryMessage(models.Model):
    """One step of a query's thread: who, when, what was said, and the state it left."""

    class Action(models.TextChoices):
        RAISE = "raise", _("Raised")
        ANSWER = "answer", _("Answered")
        CORRECT = "correct", _("Value corrected")
        CLOSE = "close", _("Closed")
        REOPEN = "reopen", _("Reopened")
        RESOLVE = "resolve", _("Resolved by data correction")
        REAPPEAR = "reappear", _("Finding back: reopened")

    query = models.ForeignKey(Query, on_delete=models.PROTECT, related_name="messages")
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    text = models.TextField(_("message"), blank=True)
    state = models.CharField(_("state after"), max_length=10, choices=Query.State.choices)

    class Meta:
        ordering = ["query", "at", "pk"]
        verbose_name = _("query message")
        verbose_name_plural = _("query messages")

    def __str__(self) -> str:
        return f"{self.query_id} {self.action} at {self.at:%Y-%m-%d %H:%M}"


class MonitoringSnapshot(models.Model):
    """Central monitoring computed by the worker with an analysis run, stored for the page.

    ``result`` holds the figures in no language (site rows, flags with their kind and
    parameters, the plots' data); the page words them in the reader's language.
    """

    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)
    as_of = models.DateField(_("data as of"))
    run = models.ForeignKey(
        "analytics.AnalysisRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="monitoring_snapshots",
        verbose_name=_("analysis run"),
    )
    patients = models.PositiveIntegerField(_("patients"), default=0)
    seconds = models.FloatField(_("duration (s)"), default=0.0)
    result = models.JSONField(_("result"), default=dict)

    class Meta:
        ordering = ["-computed_at", "-pk"]
        get_latest_by = ["computed_at", "pk"]
        verbose_name = _("monitoring snapshot")
        verbose_name_plural = _("monitoring snapshots")

    def __str__(self) -> str:
        return f"Monitoring as of {self.as_of} ({self.computed_at:%Y-%m-%d %H:%M})"
