"""API serializers of the follow-up questionnaires; writes are delegated to the services."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cohort import vocabulary as voc
from followup.instruments import hads, sf12
from followup.validators import HADS_FIELDS, SF12_FIELDS, questionnaire_errors

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
    reason = serializers.CharField(required=False, allow_blank=True, default="")

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
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = questionnaire_errors(attrs, complete=bool(attrs.get("complete")))
        if errors:
            raise serializers.ValidationError(
                {field: [message] for field, message in errors.items()}
            )
        return attrs
