"""API serializers of the follow-up: calls, questionnaires, attempts; writes call the services."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cohort import vocabulary as voc
from cohort.clinical import REASON_MAX_LENGTH
from config.api import ScopedFieldsMixin, service_errors
from followup import services
from followup.instruments import hads, missing, sf12
from followup.models import (
    SF12_ITEM_FIELDS,
    AdverseEvent,
    CallAttempt,
    ConcomitantTreatment,
    FollowUpCall,
)
from followup.validators import (
    HADS_FIELDS,
    ITEM_REASON_FIELDS,
    NPRS_FIELDS,
    SF12_FIELDS,
    adverse_event_record_errors,
    questionnaire_errors,
)

_REASONS = [("", ""), *voc.MISSING_REASONS]


class QuestionnaireSerializer(serializers.Serializer):
    """The NPRS, HADS and SF-12 answers of one call, flat, with the export field names."""

    nprs_mean = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=10)
    nprs_max = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=10)
    nprs_missing_reason = serializers.ChoiceField(
        choices=_REASONS, required=False, allow_blank=True
    )
    hads_missing_reason = serializers.ChoiceField(
        choices=_REASONS, required=False, allow_blank=True
    )
    sf12_missing_reason = serializers.ChoiceField(
        choices=_REASONS, required=False, allow_blank=True
    )
    complete = serializers.BooleanField(required=False, default=False)
    version = serializers.IntegerField(required=False, min_value=1)
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=REASON_MAX_LENGTH
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for field in HADS_FIELDS:
            fields[field] = serializers.IntegerField(
                required=False, allow_null=True, min_value=hads.ITEM_MIN, max_value=hads.ITEM_MAX
            )
        for item, field in zip(sf12.ITEMS, SF12_FIELDS, strict=True):
            fields[field] = serializers.IntegerField(
                required=False, allow_null=True, min_value=1, max_value=sf12.RANGES[item]
            )
        for field in ITEM_REASON_FIELDS:
            fields[field] = serializers.ChoiceField(
                choices=_REASONS, required=False, allow_blank=True
            )
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = questionnaire_errors(attrs, complete=bool(attrs.get("complete")))
        if errors:
            raise serializers.ValidationError(
                {field: [message] for field, message in errors.items()}
            )
        return attrs


class QuestionnaireAnswersSerializer(serializers.Serializer):
    """The stored answers of a call, flat, with the derived scores (read only)."""

    nprs_mean = serializers.IntegerField(allow_null=True)
    nprs_max = serializers.IntegerField(allow_null=True)
    nprs_missing_reason = serializers.CharField(allow_blank=True)
    hads_missing_reason = serializers.CharField(allow_blank=True)
    hads_anxiety = serializers.IntegerField(allow_null=True)
    hads_depression = serializers.IntegerField(allow_null=True)
    sf12_missing_reason = serializers.CharField(allow_blank=True)
    sf12_pcs = serializers.FloatField(allow_null=True)
    sf12_mcs = serializers.FloatField(allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for field in (*HADS_FIELDS, *SF12_FIELDS):
            fields[field] = serializers.IntegerField(allow_null=True)
        for field in ITEM_REASON_FIELDS:
            fields[field] = serializers.CharField(allow_blank=True)
        return fields


def _related(call: FollowUpCall, name: str) -> Any:
    try:
        return getattr(call, name)
    except ObjectDoesNotExist:
        return None


def questionnaire_answers(call: FollowUpCall) -> dict[str, Any]:
    """Return the stored answers and scores of a call, keyed by the export field names."""
    nprs_row, hads_row, sf12_row = (_related(call, name) for name in ("nprs", "hads", "sf12"))
    answers: dict[str, Any] = {
        "nprs_mean": nprs_row.mean if nprs_row else None,
        "nprs_max": nprs_row.maximum if nprs_row else None,
        "nprs_missing_reason": nprs_row.missing_reason if nprs_row else "",
        "hads_missing_reason": hads_row.missing_reason if hads_row else "",
        "hads_anxiety": hads_row.anxiety if hads_row else None,
        "hads_depression": hads_row.depression if hads_row else None,
        "sf12_missing_reason": sf12_row.missing_reason if sf12_row else "",
        "sf12_pcs": sf12_row.pcs if sf12_row else None,
        "sf12_mcs": sf12_row.mcs if sf12_row else None,
    }
    for n, field in enumerate(HADS_FIELDS, start=1):
        answers[field] = getattr(hads_row, f"item_{n}") if hads_row else None
    for model_field, field in zip(SF12_ITEM_FIELDS, SF12_FIELDS, strict=True):
        answers[field] = getattr(sf12_row, model_field) if sf12_row else None
    for row, fields in ((nprs_row, NPRS_FIELDS), (hads_row, HADS_FIELDS), (sf12_row, SF12_FIELDS)):
        for field in fields:
            answers[missing.reason_field(field)] = row.reason_of(field) if row else ""
    return answers


class CallAttemptSerializer(ScopedFieldsMixin, serializers.ModelSerializer):
    private_text_fields = ("note",)

    by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CallAttempt
        fields = ("id", "call", "attempted_at", "by", "outcome", "note")
        read_only_fields = fields


class AdverseEventSerializer(ScopedFieldsMixin, serializers.ModelSerializer):
    private_text_fields = ("other_text", "void_reason")

    study_code = serializers.CharField(source="call.patient.study_code", read_only=True)
    timepoint = serializers.CharField(source="call.timepoint", read_only=True)
    criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=list(voc.SERIOUSNESS_CRITERIA)), read_only=True
    )

    class Meta:
        model = AdverseEvent
        fields = (
            "id",
            "call",
            "study_code",
            "timepoint",
            "type",
            "other_text",
            "severity",
            "serious",
            "start_date",
            "voided_at",
            "void_reason",
            "criteria",
            "relation",
            "expected",
            "action_taken",
            "outcome",
            "resolution_date",
        )
        read_only_fields = fields


class AdverseEventFollowUpSerializer(serializers.Serializer):
    """How an effect went since it was reported (``outcome``, ``resolution_date``), or its
    assessment; only the fields sent change. The record's rules apply."""

    severity = serializers.ChoiceField(choices=list(voc.SEVERITIES), required=False)
    serious = serializers.BooleanField(required=False)
    criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=list(voc.SERIOUSNESS_CRITERIA)), required=False
    )
    start_date = serializers.DateField(required=False, allow_null=True)
    relation = serializers.ChoiceField(
        choices=list(voc.AE_RELATIONS), required=False, allow_blank=True
    )
    action_taken = serializers.ChoiceField(
        choices=list(voc.AE_ACTIONS), required=False, allow_blank=True
    )
    outcome = serializers.ChoiceField(choices=list(voc.AE_OUTCOMES), required=False)
    resolution_date = serializers.DateField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)

    def update(self, instance: AdverseEvent, validated_data: dict[str, Any]) -> AdverseEvent:
        values = dict(validated_data)
        by, reason = values.pop("by"), values.pop("reason", "")
        with service_errors():
            return services.adverse_event_update(
                adverse_event=instance, values=values, by=by, reason=reason
            )


class TreatmentSerializer(ScopedFieldsMixin, serializers.ModelSerializer):
    private_text_fields = ("name", "other_text", "void_reason")

    study_code = serializers.CharField(source="call.patient.study_code", read_only=True)
    timepoint = serializers.CharField(source="call.timepoint", read_only=True)

    class Meta:
        model = ConcomitantTreatment
        fields = (
            "id",
            "call",
            "study_code",
            "timepoint",
            "kind",
            "code",
            "name",
            "other_text",
            "voided_at",
            "void_reason",
        )
        read_only_fields = fields


class CallSerializer(ScopedFieldsMixin, serializers.ModelSerializer):
    """A call (baseline or by phone) with its questionnaires; ``version`` guards edits."""

    private_text_fields = ("status_reason", "notes")

    study_code = serializers.CharField(source="patient.study_code", read_only=True)
    site_code = serializers.CharField(source="patient.site.code", read_only=True)
    completed_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    overdue = serializers.SerializerMethodField()
    outside_window = serializers.SerializerMethodField()
    questionnaires = serializers.SerializerMethodField()

    class Meta:
        model = FollowUpCall
        fields = (
            "id",
            "patient",
            "study_code",
            "site_code",
            "timepoint",
            "target_date",
            "window_start",
            "window_end",
            "status",
            "status_reason",
            "call_date",
            "completed_at",
            "completed_by",
            "needs_review",
            "review_reasons",
            "notes",
            "version",
            "overdue",
            "outside_window",
            "questionnaires",
        )
        read_only_fields = fields

    def get_overdue(self, call: FollowUpCall) -> bool:
        return call.is_overdue()

    def get_outside_window(self, call: FollowUpCall) -> bool:
        return call.is_outside_window()

    @extend_schema_field(QuestionnaireAnswersSerializer)
    def get_questionnaires(self, call: FollowUpCall) -> dict[str, Any]:
        return questionnaire_answers(call)


class CallDetailSerializer(CallSerializer):
    """A call with its attempts, adverse effects and treatments."""

    attempts = CallAttemptSerializer(many=True, read_only=True)
    adverse_events = AdverseEventSerializer(many=True, read_only=True)
    treatments = TreatmentSerializer(many=True, read_only=True)

    class Meta(CallSerializer.Meta):
        fields = (*CallSerializer.Meta.fields, "attempts", "adverse_events", "treatments")
        read_only_fields = fields


class AdverseEventInputSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=list(voc.ADVERSE_EFFECTS))
    severity = serializers.ChoiceField(choices=list(voc.SEVERITIES))
    serious = serializers.BooleanField(default=False)
    other_text = serializers.CharField(max_length=200, required=False, allow_blank=True)
    criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=list(voc.SERIOUSNESS_CRITERIA)), required=False
    )
    start_date = serializers.DateField(required=False, allow_null=True)
    outcome = serializers.ChoiceField(choices=list(voc.AE_OUTCOMES), required=False)
    resolution_date = serializers.DateField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = adverse_event_record_errors(attrs)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class TreatmentInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(ConcomitantTreatment.KINDS))
    code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    other_text = serializers.CharField(max_length=200, required=False, allow_blank=True)


class CallEntrySerializer(QuestionnaireSerializer):
    """Everything said during a call: a draft, or the completed call (``complete``).

    The answers replace those stored (an absent answer is cleared). ``version`` is the one the
    client read: if the call was saved since, nothing is written and the answer is 409.
    ``adverse_events`` and ``treatments``, when given, become the call's lists (others voided).
    """

    version = serializers.IntegerField(min_value=1)
    call_date = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    adverse_events = AdverseEventInputSerializer(many=True, required=False)
    treatments = TreatmentInputSerializer(many=True, required=False)

    def update(self, instance: FollowUpCall, validated_data: dict[str, Any]) -> FollowUpCall:
        answers = dict(validated_data)
        options = {
            name: answers.pop(name)
            for name in ("by", "adverse_events", "treatments", "call_date", "reason", "note")
            if name in answers
        }
        expected_version = answers.pop("version")
        complete = answers.pop("complete", False)
        with service_errors():
            return services.call_save(
                call=instance,
                data=answers,
                expected_version=expected_version,
                complete=complete,
                **options,
            )


class CallAttemptInputSerializer(serializers.Serializer):
    """An unreached attempt (a reached call is recorded by completing its questionnaires)."""

    outcome = serializers.ChoiceField(
        choices=[(code, text) for code, text in voc.ATTEMPT_OUTCOMES if code != "reached"]
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    at = serializers.DateTimeField(required=False, allow_null=True)
    version = serializers.IntegerField(min_value=1)

    def create(self, validated_data: dict[str, Any]) -> CallAttempt:
        values = dict(validated_data)
        with service_errors():
            return services.call_record_attempt(
                call=values.pop("call"),
                outcome=values["outcome"],
                by=values["by"],
                at=values.get("at"),
                note=values["note"],
                expected_version=values["version"],
            )


class CallReviewSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=REASON_MAX_LENGTH
    )
