"""API serializers of the MADRS and the SF-MPQ rated at visits; writes call the services.

The answers are flat, with the field names of the forms and the exports (``madrs_3``,
``sf_mpq_12``, ``sf_mpq_vas``, ``sf_mpq_ppi``). The ranges are refused here (the fields' bounds,
then ``followup.validators``), by the models' validators and by the database.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cohort.clinical import REASON_MAX_LENGTH
from cohort.models import Patient
from config.api import service_errors
from followup import services, visits
from followup.instruments import items, madrs, sf_mpq
from followup.models import VISIT_CODE_MAX_LENGTH, MadrsAssessment, SfMpqAssessment
from followup.validators import madrs_errors, sf_mpq_errors

_MODEL_FIELD = {
    **{madrs.field_name(n): f"item_{n}" for n in madrs.ITEMS},
    **{sf_mpq.field_name(n): f"descriptor_{n}" for n in sf_mpq.DESCRIPTORS},
    sf_mpq.VAS_FIELD: "vas_mm",
    sf_mpq.PPI_FIELD: "ppi",
}
_LABELS = {visits.MADRS: items.MADRS, visits.SF_MPQ: items.SF_MPQ}
_ERRORS = {visits.MADRS: madrs_errors, visits.SF_MPQ: sf_mpq_errors}
_MODELS = {visits.MADRS: MadrsAssessment, visits.SF_MPQ: SfMpqAssessment}


def _answer_fields(instrument: str, *, read_only: bool = False) -> dict[str, serializers.Field]:
    fields: dict[str, serializers.Field] = {}
    for item in _LABELS[instrument]:
        last = item.first_code + item.options - 1
        if read_only:
            fields[item.field] = serializers.IntegerField(
                source=_MODEL_FIELD[item.field], read_only=True, allow_null=True
            )
        else:
            fields[item.field] = serializers.IntegerField(
                required=False, allow_null=True, min_value=item.first_code, max_value=last
            )
    return fields


class _AssessmentSerializer(serializers.ModelSerializer):
    """A recorded assessment: the visit, the date, the answers and the derived scores."""

    INSTRUMENT = ""

    study_code = serializers.CharField(source="patient.study_code", read_only=True)
    site_code = serializers.CharField(source="patient.site.code", read_only=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        answers = _answer_fields(self.INSTRUMENT, read_only=True)
        ordered = {name: field for name, field in fields.items() if name != "version"}
        return ordered | answers | {"version": fields["version"]}


_COMMON = ("id", "patient", "study_code", "site_code", "visit_code", "assessed_on")


class MadrsSerializer(_AssessmentSerializer):
    """A MADRS: ``total`` is derived (None unless all ten items are rated); ``response`` and
    ``remission`` compare it with the patient's baseline (visit BL), by the scale's rules."""

    INSTRUMENT = visits.MADRS

    response = serializers.SerializerMethodField()
    remission = serializers.SerializerMethodField()

    class Meta:
        model = MadrsAssessment
        fields = (*_COMMON, "rater", "total", "response", "remission", "voided_at", "version")
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_response(self, assessment: MadrsAssessment) -> bool | None:
        if assessment.visit_code == "BL":
            return None
        return assessment.response(getattr(assessment, "baseline_total", None))

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_remission(self, assessment: MadrsAssessment) -> bool | None:
        return assessment.remission()


class SfMpqSerializer(_AssessmentSerializer):
    """An SF-MPQ: the sensory (1-11), affective (12-15) and total scores are derived."""

    INSTRUMENT = visits.SF_MPQ

    class Meta:
        model = SfMpqAssessment
        fields = (*_COMMON, "sensory", "affective", "total", "voided_at", "version")
        read_only_fields = fields


class _AssessmentInputSerializer(serializers.Serializer):
    INSTRUMENT = ""

    assessed_on = serializers.DateField()

    def get_fields(self) -> dict[str, serializers.Field]:
        return super().get_fields() | _answer_fields(self.INSTRUMENT)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = _ERRORS[self.INSTRUMENT](attrs)
        if errors:
            raise serializers.ValidationError(
                {field: [message] for field, message in errors.items()}
            )
        return attrs

    def answers(self, values: dict[str, Any]) -> dict[str, Any]:
        names = [item.field for item in _LABELS[self.INSTRUMENT]]
        answers = {name: values.get(name) for name in names}
        if "rater" in values:
            answers["rater"] = values["rater"]
        return answers


class AssessmentCreateSerializer(_AssessmentInputSerializer):
    """A new assessment of a patient (of the user's sites) at one of the patient's visits."""

    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.none())
    visit_code = serializers.CharField(max_length=VISIT_CODE_MAX_LENGTH)

    def __init__(self, *args: Any, patients: QuerySet[Patient] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if patients is not None:
            self.fields["patient"].queryset = patients  # type: ignore[attr-defined]

    def create(self, validated_data: dict[str, Any]) -> Any:
        patient = validated_data["patient"]
        with service_errors():
            return services.assessment_record(
                model=_MODELS[self.INSTRUMENT],
                patient=patient,
                visit_code=validated_data["visit_code"],
                assessed_on=validated_data["assessed_on"],
                data=self.answers(validated_data),
                allowed_visits=visits.assessment_visits(patient, self.INSTRUMENT),
                by=validated_data["by"],
            )


class AssessmentUpdateSerializer(_AssessmentInputSerializer):
    """A correction: every answer as it should be (an absent one is cleared), the ``version``
    read (409 if the assessment was saved since) and the ``reason`` for the change."""

    version = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)

    def update(self, instance: Any, validated_data: dict[str, Any]) -> Any:
        with service_errors():
            return services.assessment_update(
                assessment=instance,
                assessed_on=validated_data["assessed_on"],
                data=self.answers(validated_data),
                by=validated_data["by"],
                reason=validated_data["reason"],
                expected_version=validated_data["version"],
            )


class AssessmentVoidSerializer(serializers.Serializer):
    """Void an assessment entered in error (wrong patient or visit), with the reason: kept,
    flagged, left out of every read; the visit it completed is due again."""

    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)

    def update(self, instance: Any, validated_data: dict[str, Any]) -> Any:
        if instance.is_voided:
            raise serializers.ValidationError(
                {"non_field_errors": [_("This assessment is already voided.")]}
            )
        with service_errors():
            return services.assessment_void(assessment=instance, **validated_data)


class _MadrsAnswers(serializers.Serializer):
    rater = serializers.CharField(max_length=60)


class MadrsCreateSerializer(_MadrsAnswers, AssessmentCreateSerializer):
    INSTRUMENT = visits.MADRS


class MadrsUpdateSerializer(_MadrsAnswers, AssessmentUpdateSerializer):
    INSTRUMENT = visits.MADRS


class SfMpqCreateSerializer(AssessmentCreateSerializer):
    INSTRUMENT = visits.SF_MPQ


class SfMpqUpdateSerializer(AssessmentUpdateSerializer):
    INSTRUMENT = visits.SF_MPQ
