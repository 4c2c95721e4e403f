"""API serializers of the depression study's baseline; every write calls
``followup.services.depression_baseline_save``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import serializers

from cohort.clinical import REASON_MAX_LENGTH
from cohort.models import Patient
from config.api import service_errors
from followup import services
from followup.models import PAIN_GROUPS, DepressionBaseline
from followup.models.baseline import MAX_ANTIDEPRESSANTS

_VALUES = (
    "pain_group",
    "suicidality",
    "antidepressants",
    "mood_stabilisers",
    "benzodiazepines",
    "antipsychotics",
)


class DepressionBaselineSerializer(serializers.ModelSerializer):
    """A patient's depression baseline as recorded; ``version`` guards a correction."""

    study_code = serializers.CharField(source="patient.study_code", read_only=True)
    site_code = serializers.CharField(source="patient.site.code", read_only=True)
    study = serializers.CharField(
        source="patient.site.study.code", read_only=True, help_text="The patient's study."
    )
    two_or_more_antidepressants = serializers.BooleanField(
        read_only=True, help_text="Two or more antidepressants taken (the paper's row)."
    )

    class Meta:
        model = DepressionBaseline
        fields = (
            "id",
            "patient",
            "study_code",
            "site_code",
            "study",
            *_VALUES,
            "two_or_more_antidepressants",
            "version",
        )
        read_only_fields = fields


class _BaselineValuesSerializer(serializers.Serializer):
    pain_group = serializers.ChoiceField(
        choices=list(PAIN_GROUPS),
        help_text="The investigator's classification of the pain at inclusion.",
    )
    suicidality = serializers.BooleanField()
    antidepressants = serializers.IntegerField(min_value=0, max_value=MAX_ANTIDEPRESSANTS)
    mood_stabilisers = serializers.BooleanField()
    benzodiazepines = serializers.BooleanField()
    antipsychotics = serializers.BooleanField()

    def values(self, validated_data: dict[str, Any]) -> dict[str, Any]:
        return {name: validated_data[name] for name in _VALUES}


class DepressionBaselineCreateSerializer(_BaselineValuesSerializer):
    """The baseline of a patient of the user's sites whose study collects it, recorded once."""

    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.none())

    def __init__(self, *args: Any, patients: QuerySet[Patient] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if patients is not None:
            self.fields["patient"].queryset = patients  # type: ignore[attr-defined]

    def validate_patient(self, patient: Patient) -> Patient:
        if DepressionBaseline.objects.filter(patient=patient).exists():
            raise serializers.ValidationError(
                _("This patient's baseline is already recorded: correct it with a reason.")
            )
        return patient

    def create(self, validated_data: dict[str, Any]) -> DepressionBaseline:
        with service_errors():
            return services.depression_baseline_save(
                patient=validated_data["patient"],
                by=validated_data["by"],
                **self.values(validated_data),
            )


class DepressionBaselineUpdateSerializer(_BaselineValuesSerializer):
    """A correction: every value as it should be, the ``version`` read (409 if the baseline
    was saved since) and the ``reason`` for the change."""

    version = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)

    def update(self, instance: DepressionBaseline, validated_data: dict[str, Any]) -> Any:
        with service_errors():
            return services.depression_baseline_save(
                patient=instance.patient,
                by=validated_data["by"],
                reason=validated_data["reason"],
                expected_version=validated_data["version"],
                **self.values(validated_data),
            )
