"""Patients, their identifiers (apart, encrypted) and their ketamine administrations (sites and
studies: ``cohort.studies``)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q, Sum
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _

from cohort import vocabulary as voc
from cohort.call_times import is_preferred_time
from cohort.clinical import ClinicalModel, VoidableModel
from cohort.fields import EncryptedTextField
from cohort.plausible import DATE_CEILING, DATE_FLOOR
from cohort.studies import Site as Site
from cohort.studies import Study as Study


def _choices(vocabulary: voc.Vocabulary) -> list[tuple[str, str]]:
    return [(code, _(text)) for code, text in vocabulary]


def _in(field: str, vocabulary: voc.Vocabulary) -> Q:
    return Q(**{f"{field}__in": voc.codes(vocabulary)})


def _dated(field: str, *, nullable: bool = False) -> Q:
    """Return the database's bounds of a clinical date (``cohort.plausible``): 2000 to 2099."""
    bounded = Q(**{f"{field}__gte": DATE_FLOOR, f"{field}__lt": DATE_CEILING})
    return bounded | Q(**{f"{field}__isnull": True}) if nullable else bounded


def _between(field: str, low: float, high: float, *, nullable: bool = True) -> Q:
    bounded = Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return bounded | Q(**{f"{field}__isnull": True}) if nullable else bounded


class Patient(ClinicalModel):
    """A pseudonymous study participant; identifiers live in PatientContact."""

    study_code = models.CharField(
        _("study code"),
        max_length=20,
        unique=True,
        validators=[
            RegexValidator(r"^[A-Z0-9]{2,8}-\d{4,6}$", _("Site code, a dash, 4 to 6 digits."))
        ],
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="patients")
    sex = models.CharField(_("sex"), max_length=1, choices=_choices(voc.SEXES))
    age = models.PositiveSmallIntegerField(_("age at inclusion (years)"))
    inclusion_date = models.DateField(_("inclusion date"))
    consent_date = models.DateField(_("non-opposition form signed on"))
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=5, decimal_places=1)
    # The chronic pain fields are the first study's; a study whose definition does not collect
    # them (``StudyDefinition.collects_pain_history``) leaves them empty, and the enrolment
    # service requires or refuses them by the patient's study.
    etiology = models.CharField(
        _("pain etiology"), max_length=60, blank=True, choices=_choices(voc.ETIOLOGIES)
    )
    pain_duration_months = models.PositiveSmallIntegerField(
        _("pain duration (months)"), null=True, blank=True
    )
    comorbidities = models.JSONField(
        _("medical history"),
        default=list,
        blank=True,
        help_text=_("Codes of the comorbidities; an empty list means none."),
    )
    ketamine_naive = models.BooleanField(_("ketamine naive"), null=True, blank=True)
    dn4 = models.PositiveSmallIntegerField(_("DN4 score"), null=True, blank=True)
    dn4_missing_reason = models.CharField(
        _("why DN4 is missing"), max_length=20, blank=True, choices=_choices(voc.MISSING_REASONS)
    )
    paroxysms_per_day = models.PositiveSmallIntegerField(
        _("pain paroxysms per day"), null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=12, choices=_choices(voc.PATIENT_STATUSES), default="active"
    )
    status_date = models.DateField(_("status date"), null=True, blank=True)
    status_reason = models.TextField(_("status reason"), blank=True)
    # When the patient prefers to be called (local time; no identifier, so not in the contact).
    call_from = models.TimeField(_("call from"), null=True, blank=True)
    call_to = models.TimeField(_("call until"), null=True, blank=True)
    call_days = models.CharField(
        _("call on"),
        max_length=7,
        blank=True,
        help_text=_("ISO weekdays (1 Monday .. 7 Sunday) as digits; empty means any day."),
    )
    call_note = models.CharField(_("note on calling"), max_length=200, blank=True)

    class Meta:
        ordering = ["study_code"]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        constraints = [
            models.CheckConstraint(condition=_in("sex", voc.SEXES), name="patient_sex_valid"),
            models.CheckConstraint(
                condition=Q(age__gte=18, age__lte=120),
                name="patient_age_adult",
                violation_error_message=_("Patients must be 18 or older (and at most 120)."),
            ),
            models.CheckConstraint(
                condition=Q(weight_kg__gte=20, weight_kg__lte=350), name="patient_weight_range"
            ),
            models.CheckConstraint(
                condition=_in("etiology", voc.ETIOLOGIES) | Q(etiology=""),
                name="patient_etiology_valid",
            ),
            models.CheckConstraint(
                condition=_between("pain_duration_months", 0, 1200),
                name="patient_pain_duration_range",
            ),
            models.CheckConstraint(condition=_between("dn4", 0, 10), name="patient_dn4_range"),
            models.CheckConstraint(
                condition=~Q(etiology="fibromyalgia") | Q(dn4__isnull=True),
                name="patient_dn4_not_for_fibromyalgia",
                violation_error_message=_("DN4 is not asked for fibromyalgia."),
            ),
            models.CheckConstraint(
                condition=_between("paroxysms_per_day", 0, 500), name="patient_paroxysms_range"
            ),
            models.CheckConstraint(
                condition=_in("status", voc.PATIENT_STATUSES), name="patient_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(consent_date__lte=models.F("inclusion_date")),
                name="patient_consent_before_inclusion",
                violation_error_message=_("Consent must be dated on or before inclusion."),
            ),
            models.CheckConstraint(
                condition=_dated("inclusion_date") & _dated("consent_date"),
                name="patient_dates_plausible",
                violation_error_message=_("Inclusion and consent must be dated 2000 to 2099."),
            ),
            models.CheckConstraint(
                condition=Q(status_date__isnull=True)
                | Q(status_date__gte=models.F("inclusion_date"), status_date__lt=DATE_CEILING),
                name="patient_status_after_inclusion",
                violation_error_message=_("The status date cannot precede inclusion."),
            ),
            models.CheckConstraint(
                condition=Q(call_from__isnull=True, call_to__isnull=True)
                | Q(
                    call_from__isnull=False,
                    call_to__isnull=False,
                    call_from__lt=models.F("call_to"),
                ),
                name="patient_call_window_ordered",
                violation_error_message=_("The preferred call time must end after it starts."),
            ),
        ]
        indexes = [
            # The worklist joins its calls to the active patients of the user's sites, ordered
            # by study code, and asks whether each prefers to be called now: PostgreSQL reads
            # all of it from these indexes, not the table; by patient (for every site), and by
            # site (a nurse of a few sites starts from her sites' patients).
            models.Index(
                fields=["id"],
                include=["site", "study_code", "call_from", "call_to", "call_days"],
                condition=Q(status="active"),
                name="patient_active_worklist",
            ),
            models.Index(
                fields=["site", "id"],
                include=["study_code", "call_from", "call_to", "call_days"],
                condition=Q(status="active"),
                name="patient_active_by_site",
            ),
        ]

    def __str__(self) -> str:
        return self.study_code

    def clean(self) -> None:
        errors: dict[str, str] = {}
        unknown = [c for c in self.comorbidities or [] if c not in voc.codes(voc.COMORBIDITIES)]
        if not isinstance(self.comorbidities, list) or unknown:
            errors["comorbidities"] = _("Unknown comorbidity codes: %(codes)s") % {
                "codes": ", ".join(map(str, unknown)) or repr(self.comorbidities)
            }
        if self.etiology in voc.DN4_NOT_ASKED_FOR and self.dn4 is not None:
            errors["dn4"] = _("DN4 is not asked for fibromyalgia.")
        if self.dn4 is not None and self.dn4_missing_reason:
            errors["dn4_missing_reason"] = _("Give a reason only when the value is missing.")
        if self.site_id and self.study_code and self.site.code != self.study_code.split("-")[0]:
            errors["study_code"] = _("The study code must start with the site code %(code)s.") % {
                "code": self.site.code
            }
        if errors:
            raise ValidationError(errors)

    @property
    def has_call_times(self) -> bool:
        """Say whether the patient gave a preferred time or days to be called."""
        return self.call_from is not None or bool(self.call_days)

    def call_weekdays(self) -> list[int]:
        """Return the preferred ISO weekdays (1 Monday .. 7 Sunday), empty for any day."""
        return [int(day) for day in self.call_days]

    def call_weekday_labels(self) -> list[str]:
        """Return the short translated names of the preferred weekdays."""
        return [str(WEEKDAYS_ABBR[day - 1]) for day in self.call_weekdays()]

    def is_call_time(self, at: dt.datetime) -> bool:
        """Say whether ``at`` (local time) falls in the patient's preferred call time."""
        return is_preferred_time(
            at, call_from=self.call_from, call_to=self.call_to, days=self.call_weekdays()
        )

    @property
    def is_followed(self) -> bool:
        """Say whether calls are still being made to this patient."""
        return self.status == "active"

    def follow_up_is_over(self) -> bool:
        """Say whether the follow-up has ended: the patient left it, or no call is left to make."""
        if self.status != "active":
            return True
        return not self.calls.filter(status__in=voc.OPEN_CALL_STATUSES).exists()

    def current_lock(self) -> PatientLock | None:
        """Return the patient's lock row when the follow-up is locked, else None."""
        lock = getattr(self, "lock", None)
        return lock if lock is not None and lock.locked else None

    def live_signature(self) -> Signature | None:
        """Return the signature not voided, if any."""
        return self.signatures.filter(voided_at__isnull=True).first()

    def cumulative_dose_mg(self, on: dt.date | None = None) -> Decimal:
        """Return the total ketamine received (mg) up to and including ``on`` (default: all)."""
        administrations = self.administrations.filter(voided_at__isnull=True)
        if on is not None:
            administrations = administrations.filter(date__lte=on)
        total = administrations.aggregate(total=Sum("total_mg"))["total"]
        return total or Decimal("0")

    @property
    def study(self) -> Study:
        """Return the patient's study: its site's (one column, on the site, not repeated here)."""
        return self.site.study

    def first_administration_date(self) -> dt.date | None:
        """Return the date of the first (non-voided) ketamine administration."""
        first = (
            self.administrations.filter(voided_at__isnull=True)
            .order_by("date")
            .values_list("date", flat=True)
            .first()
        )
        return first


class PatientContact(ClinicalModel):
    """Identifiers of a patient: encrypted at rest, shown only to staff of the patient's site."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="contact")
    first_name = EncryptedTextField(_("first name"))
    last_name = EncryptedTextField(_("last name"))
    phone = EncryptedTextField(_("phone"))
    phone_alt = EncryptedTextField(_("other phone"), blank=True)
    preferred_call_time = models.CharField(_("preferred call time"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("patient contact")
        verbose_name_plural = _("patient contacts")

    def __str__(self) -> str:
        return f"{self.patient.study_code} contact"


MG = Decimal("0.01")


def dose_in_mg(*, unit: str, value: Decimal, weight_kg: Decimal | None) -> Decimal:
    """Convert a dose as entered (mg, or mg/kg with the recorded weight) to mg, 2 decimals."""
    if unit == "mg":
        return Decimal(value).quantize(MG, rounding=ROUND_HALF_UP)
    if unit == "mg_per_kg":
        if weight_kg is None:
            raise ValueError("a dose in mg/kg needs the patient's weight")
        return (Decimal(value) * Decimal(weight_kg)).quantize(MG, rounding=ROUND_HALF_UP)
    raise ValueError(f"unknown dose unit {unit!r}")


class KetamineAdministration(VoidableModel):
    """One ketamine administration: a daily dose given on ``days`` consecutive days.

    ``dose_mg`` is the daily dose in mg (converted from mg/kg with the weight recorded at the time);
    ``total_mg = dose_mg x days`` is what the cumulative dose adds up.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="administrations")
    date = models.DateField(_("date (first day)"))
    route = models.CharField(_("route"), max_length=12, choices=_choices(voc.ROUTES))
    dose_unit = models.CharField(_("dose unit"), max_length=10, choices=_choices(voc.DOSE_UNITS))
    dose_value = models.DecimalField(_("dose as entered"), max_digits=8, decimal_places=3)
    weight_kg = models.DecimalField(
        _("weight used for conversion (kg)"), max_digits=5, decimal_places=1
    )
    dose_mg = models.DecimalField(_("daily dose (mg)"), max_digits=9, decimal_places=2)
    days = models.PositiveSmallIntegerField(_("number of days"), default=1)
    total_mg = models.DecimalField(_("total dose (mg)"), max_digits=10, decimal_places=2)
    infusion_minutes = models.PositiveSmallIntegerField(
        _("infusion length (minutes)"), null=True, blank=True
    )

    class Meta:
        ordering = ["patient", "date"]
        verbose_name = _("ketamine administration")
        verbose_name_plural = _("ketamine administrations")
        constraints = [
            models.CheckConstraint(condition=_in("route", voc.ROUTES), name="admin_route_valid"),
            models.CheckConstraint(
                condition=_in("dose_unit", voc.DOSE_UNITS), name="admin_unit_valid"
            ),
            models.CheckConstraint(
                condition=Q(dose_value__gt=0),
                name="admin_dose_positive",
                violation_error_message=_("The dose must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(dose_mg__gt=0, dose_mg__lte=5000),
                name="admin_dose_mg_range",
                violation_error_message=_("A daily dose must be between 0 and 5,000 mg."),
            ),
            models.CheckConstraint(condition=Q(days__gte=1, days__lte=60), name="admin_days_range"),
            models.CheckConstraint(
                condition=_between("infusion_minutes", 1, 24 * 60),
                name="admin_infusion_minutes_range",
            ),
            models.CheckConstraint(
                condition=Q(weight_kg__gte=20, weight_kg__lte=350), name="admin_weight_range"
            ),
            models.CheckConstraint(
                condition=_dated("date"),
                name="admin_date_plausible",
                violation_error_message=_("An administration must be dated 2000 to 2099."),
            ),
        ]
        indexes = [models.Index(fields=["patient", "date"])]

    def __str__(self) -> str:
        return f"{self.patient_id}: {self.date} {self.total_mg} mg {self.route}"

    def compute_doses(self) -> None:
        """Derive ``dose_mg`` and ``total_mg`` from the dose as entered and the weight."""
        self.dose_mg = dose_in_mg(
            unit=self.dose_unit, value=self.dose_value, weight_kg=self.weight_kg
        )
        self.total_mg = (self.dose_mg * self.days).quantize(MG)

    def clean(self) -> None:
        if self.dose_unit and self.dose_value is not None and self.weight_kg is not None:
            self.compute_doses()


class EnrolmentKey(models.Model):
    """A key sent with an enrolment (the form's token, an API ``Idempotency-Key``).

    The same key sent again by the same user returns the patient it created instead of
    enrolling a second one. ``fingerprint`` hashes what the API sent, so that a key reused for
    another enrolment is refused rather than answered with the wrong patient.
    """

    key = models.CharField(_("key"), max_length=100, unique=True)
    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="enrolment_key")
    fingerprint = models.CharField(_("fingerprint"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("enrolment key")
        verbose_name_plural = _("enrolment keys")

    def __str__(self) -> str:
        return f"{self.key} -> {self.patient_id}"


class PatientLock(ClinicalModel):
    """Whether a patient's follow-up is locked; the history keeps every lock and unlock.

    One row per patient, created at the first lock. While ``locked`` is true, every service that
    writes the patient's clinical data refuses (``cohort.services.patient_guard_edit``).
    """

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="lock")
    locked = models.BooleanField(_("locked"), default=False)
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("locked by"),
    )
    unlocked_at = models.DateTimeField(_("unlocked at"), null=True, blank=True)
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unlocked by"),
    )
    unlock_reason = models.TextField(_("reason for unlocking"), blank=True)

    class Meta:
        verbose_name = _("follow-up lock")
        verbose_name_plural = _("follow-up locks")
        constraints = [
            models.CheckConstraint(
                condition=Q(locked=False) | Q(locked_at__isnull=False, locked_by__isnull=False),
                name="lock_says_who_and_when",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {'locked' if self.locked else 'unlocked'}"


# The statement a clinician attests by signing, unless the study gives another.
DEFAULT_SIGNATURE_MEANING = _(
    "I confirm that the follow-up data of this patient are complete and accurate."
)


class Signature(VoidableModel):
    """A clinician's electronic signature of a locked follow-up, with what it attests.

    ``signer_name`` keeps the name as it was at signing. A change to the patient's data after
    the signature voids it: ``voided_at``, ``voided_by``, ``voided_change`` (what was changed,
    e.g. ``call:M3``) and ``void_reason`` (the reason the change gave) say how.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="signatures",
        verbose_name=_("signer"),
    )
    signer_name = models.CharField(_("name of the signer at signing"), max_length=300)
    signed_at = models.DateTimeField(_("signed at"))
    meaning = models.TextField(_("meaning of the signature"))
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("voided by"),
    )
    voided_change = models.CharField(_("change that voided it"), max_length=60, blank=True)

    class Meta:
        ordering = ["patient", "-signed_at"]
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(voided_at__isnull=True),
                name="signature_one_live_per_patient",
            ),
            models.CheckConstraint(condition=~Q(meaning=""), name="signature_states_its_meaning"),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} signed by {self.signer_name}"

    def voided_change_label(self) -> str:
        """Return what the voiding change touched, in words (``call:M3`` -> "call M3")."""
        kind, _sep, detail = self.voided_change.partition(":")
        if kind == "call":
            return str(_("call %(timepoint)s") % {"timepoint": detail})
        if kind == "administration":
            return str(_("the administration of %(date)s") % {"date": detail})
        return str(_("the patient file"))
