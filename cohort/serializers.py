"""API serializers of the cohort: output serializers read, input serializers call the services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cohort import services
from cohort import vocabulary as voc
from cohort.clinical import REASON_MAX_LENGTH, reason_required
from cohort.models import KetamineAdministration, Patient, PatientContact, Site
from config.api import ScopedFieldsMixin, service_errors


def _choice(vocabulary: voc.Vocabulary, **kwargs: Any) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=list(vocabulary), **kwargs)


class SiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ("id", "code", "name", "city", "is_active", "is_demo")


class ContactSerializer(serializers.ModelSerializer):
    """Names and phones: only the staff of the patient's site ever receive them."""

    class Meta:
        model = PatientContact
        fields = ("first_name", "last_name", "phone", "phone_alt", "preferred_call_time")


class SignOffSerializer(serializers.Serializer):
    """Whether the follow-up is locked and signed (read only; the pages lock and sign)."""

    locked = serializers.BooleanField()
    locked_at = serializers.DateTimeField(allow_null=True)
    locked_by = serializers.CharField(allow_null=True, help_text="Name of the data manager.")
    signed = serializers.BooleanField(help_text="A signature stands (not voided by a change).")
    signed_at = serializers.DateTimeField(allow_null=True)
    signed_by = serializers.CharField(
        allow_null=True, help_text="Name of the clinician as it was at signing."
    )
    meaning = serializers.CharField(allow_null=True, help_text="What the signature attests.")


def sign_off_state(patient: Patient) -> dict[str, Any]:
    """Return the lock and live signature of a patient as the API shows them."""
    lock = patient.current_lock()
    live = getattr(patient, "live_signatures", None)
    signature = live[0] if live else (None if live is not None else patient.live_signature())
    by = lock.locked_by if lock else None
    return {
        "locked": lock is not None,
        "locked_at": lock.locked_at if lock else None,
        "locked_by": (by.get_full_name() or by.username) if by else None,
        "signed": signature is not None,
        "signed_at": signature.signed_at if signature else None,
        "signed_by": signature.signer_name if signature else None,
        "meaning": signature.meaning if signature else None,
    }


class PatientSerializer(ScopedFieldsMixin, serializers.ModelSerializer):
    """A patient as the pages show it; ``contact`` and free text for site staff only."""

    identifier_fields = ("contact",)
    private_text_fields = ("status_reason",)

    site_code = serializers.CharField(source="site.code", read_only=True)
    study = serializers.CharField(
        source="site.study.code", read_only=True, help_text="The code of the patient's study."
    )
    cumulative_dose_mg = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="Total ketamine of the non-voided administrations (mg); null before the first.",
    )
    # Declared so that the schema allows the blank of a DN4 that was given.
    dn4_missing_reason = _choice(voc.MISSING_REASONS, allow_blank=True, read_only=True)
    contact = ContactSerializer(
        read_only=True,
        help_text="Names and phones: only for nurses and clinicians of the patient's site.",
    )
    sign_off = serializers.SerializerMethodField(
        help_text="Lock and signature: while locked, every write about the patient is a 400."
    )

    class Meta:
        model = Patient
        fields = (
            "id",
            "study_code",
            "site",
            "site_code",
            "study",
            "sex",
            "age",
            "inclusion_date",
            "consent_date",
            "weight_kg",
            "etiology",
            "pain_duration_months",
            "comorbidities",
            "ketamine_naive",
            "dn4",
            "dn4_missing_reason",
            "paroxysms_per_day",
            "status",
            "status_date",
            "status_reason",
            "cumulative_dose_mg",
            "contact",
            "sign_off",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    @extend_schema_field(SignOffSerializer)
    def get_sign_off(self, patient: Patient) -> dict[str, Any]:
        return sign_off_state(patient)


class AdministrationInputSerializer(serializers.Serializer):
    """A ketamine administration as entered: a daily dose in mg or mg/kg on consecutive days."""

    date = serializers.DateField()
    route = _choice(voc.ROUTES)
    dose_unit = _choice(voc.DOSE_UNITS)
    dose_value = serializers.DecimalField(
        max_digits=8, decimal_places=3, min_value=Decimal("0.001")
    )
    days = serializers.IntegerField(min_value=1, max_value=60, default=1)
    infusion_minutes = serializers.IntegerField(
        min_value=1, max_value=24 * 60, required=False, allow_null=True
    )
    weight_kg = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        min_value=Decimal(20),
        max_value=Decimal(350),
        required=False,
        allow_null=True,
        help_text="Weight used for a dose in mg/kg; default: the patient's weight.",
    )


_PAIN_HISTORY_HELP = (
    "Chronic pain history: only for a site whose study collects it (VOUTE2023); a study that "
    "does not (LAN2022) refuses it."
)


class PatientEnrolSerializer(serializers.Serializer):
    """Enrolment: eligibility, identifiers (kept apart, encrypted), first administration."""

    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.none())
    sex = _choice(voc.SEXES)
    age = serializers.IntegerField(min_value=0, max_value=120)
    inclusion_date = serializers.DateField()
    consent_date = serializers.DateField(allow_null=True)
    weight_kg = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=Decimal(20), max_value=Decimal(350)
    )
    etiology = _choice(
        voc.ETIOLOGIES,
        required=False,
        allow_blank=True,
        help_text=_PAIN_HISTORY_HELP + " Required by such a study.",
    )
    pain_duration_months = serializers.IntegerField(
        min_value=0,
        max_value=1200,
        required=False,
        allow_null=True,
        help_text=_PAIN_HISTORY_HELP + " Required by such a study: more than 6 months.",
    )
    first_name = serializers.CharField(max_length=120)
    last_name = serializers.CharField(max_length=120)
    phone = serializers.CharField(max_length=40)
    phone_alt = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)
    comorbidities = serializers.ListField(
        child=_choice(voc.COMORBIDITIES), required=False, default=list
    )
    ketamine_naive = serializers.BooleanField(required=False, allow_null=True, default=None)
    dn4 = serializers.IntegerField(min_value=0, max_value=10, required=False, allow_null=True)
    dn4_missing_reason = _choice(voc.MISSING_REASONS, required=False, allow_blank=True)
    paroxysms_per_day = serializers.IntegerField(
        min_value=0, max_value=500, required=False, allow_null=True
    )
    first_administration = AdministrationInputSerializer(
        required=False,
        help_text="The first ketamine administration; the call schedule starts from its date.",
    )

    def __init__(self, *args: Any, sites: QuerySet[Site] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if sites is not None:
            self.fields["site"].queryset = sites

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        site = attrs["site"]
        problems = services.site_eligibility_errors(
            site,
            age=attrs.get("age"),
            pain_duration_months=attrs.get("pain_duration_months"),
            consent_date=attrs.get("consent_date"),
            inclusion_date=attrs.get("inclusion_date"),
        )
        given = {name: attrs.get(name) for name in services.PAIN_HISTORY_FIELDS}
        problems = services.pain_history_errors(site, **given) | problems
        if attrs.get("etiology") in voc.DN4_NOT_ASKED_FOR and attrs.get("dn4") is not None:
            problems.setdefault("dn4", _("DN4 is not asked for fibromyalgia."))
        if problems:
            raise serializers.ValidationError({k: [v] for k, v in problems.items()})
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Patient:
        values = dict(validated_data)
        administration = values.pop("first_administration", None)
        values.setdefault("dn4_missing_reason", "")
        chronic_pain = values["site"].study.protocol.collects_pain_history
        dn4_asked = values.get("etiology") not in voc.DN4_NOT_ASKED_FOR
        if chronic_pain and dn4_asked and values.get("dn4") is None:
            values["dn4_missing_reason"] = values["dn4_missing_reason"] or "not_asked"
        with service_errors():
            if administration:
                return services.patient_enrol_with_administration(
                    administration=_administration_values(administration), **values
                )
            return services.patient_enrol(**values)


def _administration_values(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


class PatientStatusSerializer(serializers.Serializer):
    """The patient leaves the follow-up (or completes it): the remaining calls are closed."""

    status = _choice(voc.PATIENT_STATUSES)
    date = serializers.DateField()
    reason = serializers.CharField(allow_blank=True, default="", max_length=REASON_MAX_LENGTH)

    def update(self, instance: Patient, validated_data: dict[str, Any]) -> Patient:
        with service_errors():
            return services.patient_set_status(patient=instance, **validated_data)


class AdministrationSerializer(ScopedFieldsMixin, serializers.ModelSerializer):
    """A recorded administration with its doses in mg; voided ones stay, flagged."""

    private_text_fields = ("void_reason",)

    study_code = serializers.CharField(source="patient.study_code", read_only=True)

    class Meta:
        model = KetamineAdministration
        fields = (
            "id",
            "patient",
            "study_code",
            "date",
            "route",
            "dose_unit",
            "dose_value",
            "weight_kg",
            "dose_mg",
            "days",
            "total_mg",
            "infusion_minutes",
            "voided_at",
            "void_reason",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class AdministrationCreateSerializer(AdministrationInputSerializer):
    """Record an administration of a patient the user may see; an earlier first one moves calls."""

    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.none())

    def __init__(
        self, *args: Any, patients: QuerySet[Patient] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if patients is not None:
            self.fields["patient"].queryset = patients

    def create(self, validated_data: dict[str, Any]) -> KetamineAdministration:
        with service_errors():
            return services.administration_record(**_administration_values(validated_data))


class AdministrationUpdateSerializer(AdministrationInputSerializer):
    """Correct a recorded administration: the changed fields and the reason for the change."""

    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)
    expected_updated_at = serializers.DateTimeField(
        required=False,
        write_only=True,
        help_text=(
            "The updated_at the client read. When given and the administration was saved since, "
            "nothing is written and the answer is 409."
        ),
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name, field in fields.items():
            if name != "reason":
                field.required = False
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A partial update skips required fields: the service's rule for the reason runs here.
        with service_errors():
            reason_required(str(attrs.get("reason") or ""))
        if self.instance is not None and self.instance.is_voided:
            raise serializers.ValidationError(
                {"non_field_errors": [_("A voided administration cannot be changed.")]}
            )
        return attrs

    def update(
        self, instance: KetamineAdministration, validated_data: dict[str, Any]
    ) -> KetamineAdministration:
        changes = dict(validated_data)
        by, reason = changes.pop("by"), changes.pop("reason")
        expected = changes.pop("expected_updated_at", None)
        if changes.get("weight_kg") is None:
            changes.pop("weight_kg", None)
        with service_errors():
            return services.administration_update(
                administration=instance,
                by=by,
                reason=reason,
                expected_updated_at=expected,
                **changes,
            )


class AdministrationVoidSerializer(serializers.Serializer):
    """Void an administration entered in error: kept, flagged, left out of every dose."""

    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)

    def update(
        self, instance: KetamineAdministration, validated_data: dict[str, Any]
    ) -> KetamineAdministration:
        if instance.is_voided:
            raise serializers.ValidationError(
                {"non_field_errors": [_("This administration is already voided.")]}
            )
        with service_errors():
            return services.administration_void(administration=instance, **validated_data)
