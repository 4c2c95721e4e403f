"""REST endpoints of the safety workflow: the alerts a user sees, and their acknowledgement."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Role
from cohort import vocabulary as voc
from config.api import ScopedFieldsMixin, StudyRolePermission, service_errors
from safety import selectors, services
from safety.models import SafetyAlert


class SafetyAlertSerializer(ScopedFieldsMixin, serializers.ModelSerializer):
    private_text_fields = ("assessment",)

    study_code = serializers.CharField(source="adverse_event.call.patient.study_code")
    site_code = serializers.CharField(source="site.code")
    timepoint = serializers.CharField(source="adverse_event.call.timepoint")
    type = serializers.CharField(source="adverse_event.type")
    severity = serializers.CharField(source="adverse_event.severity")
    serious = serializers.BooleanField(source="adverse_event.serious")
    relation = serializers.CharField(source="adverse_event.relation")
    action_taken = serializers.CharField(source="adverse_event.action_taken")
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = SafetyAlert
        fields = (
            "id",
            "adverse_event",
            "study_code",
            "site_code",
            "timepoint",
            "type",
            "severity",
            "serious",
            "reason",
            "raised_at",
            "acknowledged_at",
            "acknowledged_by",
            "relation_reported",
            "relation",
            "action_taken",
            "assessment",
            "escalated_at",
        )
        read_only_fields = fields


class AcknowledgeSerializer(serializers.Serializer):
    relation = serializers.ChoiceField(choices=list(voc.AE_RELATIONS))
    action_taken = serializers.ChoiceField(choices=list(voc.AE_ACTIONS))
    assessment = serializers.CharField(max_length=2000)


class SafetyAlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Safety alerts of the user's sites (clinicians) or of every site (data managers)."""

    permission_classes = [StudyRolePermission]
    read_roles = frozenset({Role.CLINICIAN, Role.DATA_MANAGER})
    write_roles = frozenset({Role.CLINICIAN})
    serializer_class = SafetyAlertSerializer
    queryset = SafetyAlert.objects.none()  # for the schema; get_queryset scopes to the user

    def get_queryset(self) -> QuerySet[SafetyAlert]:
        alerts = selectors.alerts_for_user(self.request.user).order_by("-raised_at", "pk")
        if self.request.query_params.get("open") in ("1", "true"):
            alerts = alerts.filter(acknowledged_at__isnull=True)
        return alerts

    @extend_schema(request=AcknowledgeSerializer, responses=SafetyAlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        """Acknowledge the alert with the causality, the action taken and an assessment."""
        alert = self.get_object()
        serializer = AcknowledgeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values: dict[str, Any] = serializer.validated_data
        with service_errors():
            services.alert_acknowledge(alert=alert, by=request.user, **values)
        fresh = self.get_queryset().get(pk=alert.pk)
        return Response(SafetyAlertSerializer(fresh, context=self.get_serializer_context()).data)
