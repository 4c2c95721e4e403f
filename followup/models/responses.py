"""The answers collected at baseline and at each call: NPRS, HADS, SF-12, missing reasons."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from cohort import vocabulary as voc
from cohort.clinical import ClinicalModel
from cohort.models import _between, _choices
from followup.instruments import hads, missing, sf12
from followup.models.calls import FollowUpCall


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
