"""REST endpoints of the follow-up: calls with their questionnaires, attempts, adverse effects,
concomitant treatments. Writes go through ``followup.services`` with optimistic locking."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import DATA_ENTRY_ROLES
from accounts.roles import Role
from cohort import vocabulary as voc
from config.api import ALL_ROLES, IdFilter, StudyRolePermission, user_has_any_role
from followup import services
from followup.models import AdverseEvent, ConcomitantTreatment, FollowUpCall
from followup.models.calls import STUDY_TIMEPOINTS
from followup.selectors import calls_for_user
from followup.serializers import (
    AdverseEventFollowUpSerializer,
    AdverseEventSerializer,
    CallAttemptInputSerializer,
    CallAttemptSerializer,
    CallDetailSerializer,
    CallEntrySerializer,
    CallReviewSerializer,
    CallSerializer,
    TreatmentSerializer,
)

WRITE_ROLES = frozenset(DATA_ENTRY_ROLES)
CONFLICT = OpenApiResponse(description="The call was saved by someone else since `version`.")


class CallFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=list(voc.CALL_STATUSES))
    timepoint = django_filters.MultipleChoiceFilter(choices=list(STUDY_TIMEPOINTS))
    site = django_filters.CharFilter(field_name="patient__site__code", help_text="Site code.")
    study = django_filters.CharFilter(
        field_name="patient__site__study__code", help_text="Study code."
    )
    patient = IdFilter(field_name="patient_id")
    due_from = django_filters.DateFilter(
        field_name="target_date", lookup_expr="gte", help_text="Target date on or after."
    )
    due_to = django_filters.DateFilter(
        field_name="target_date", lookup_expr="lte", help_text="Target date on or before."
    )
    needs_review = django_filters.BooleanFilter()

    class Meta:
        model = FollowUpCall
        fields = (
            "status",
            "timepoint",
            "site",
            "study",
            "patient",
            "due_from",
            "due_to",
            "needs_review",
        )


class CallViewSet(viewsets.ReadOnlyModelViewSet):
    """Calls of the user's patients (baseline ``BL``, then the visits of the patient's study:
    ``W1``, ``M1``..``M12`` in the first study)."""

    permission_classes = [StudyRolePermission]
    read_roles = ALL_ROLES
    write_roles = WRITE_ROLES
    filterset_class = CallFilter

    def get_queryset(self) -> QuerySet[FollowUpCall]:
        calls = calls_for_user(self.request.user).select_related(
            "nprs", "hads", "sf12", "completed_by"
        )
        if self.action != "list":
            calls = calls.prefetch_related(
                "attempts__by", "adverse_events__call__patient", "treatments__call__patient"
            )
        return calls.order_by("patient__study_code", "sequence")

    def get_serializer_class(self) -> type[CallSerializer]:
        return CallSerializer if self.action == "list" else CallDetailSerializer

    def _detail(self, call: FollowUpCall, *, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=call.pk)
        return Response(
            CallDetailSerializer(fresh, context=self.get_serializer_context()).data, code
        )

    @extend_schema(
        request=CallEntrySerializer,
        responses={200: CallDetailSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["put"])
    def questionnaires(self, request: Request, pk: str | None = None) -> Response:
        """Save the call's answers (a draft, or the completed call with ``complete``)."""
        call = self.get_object()
        serializer = CallEntrySerializer(call, data=request.data)
        serializer.is_valid(raise_exception=True)
        saved = serializer.save(by=request.user)
        return self._detail(saved)

    @extend_schema(
        methods=["post"],
        request=CallAttemptInputSerializer,
        responses={201: CallAttemptSerializer, 409: CONFLICT},
    )
    @extend_schema(methods=["get"], responses=CallAttemptSerializer(many=True))
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def attempts(self, request: Request, pk: str | None = None) -> Response:
        """List the attempts of the call, or log an unreached one (no answer, refusal...)."""
        call = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            attempts = call.attempts.select_related("by").order_by("attempted_at", "pk")
            return Response(CallAttemptSerializer(attempts, many=True, context=context).data)
        serializer = CallAttemptInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attempt = serializer.save(call=call, by=request.user)
        return Response(
            CallAttemptSerializer(attempt, context=context).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=CallReviewSerializer, responses=CallDetailSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        """Mark a flagged call as reviewed (clinicians only)."""
        if not user_has_any_role(request.user, frozenset({Role.CLINICIAN})):
            raise PermissionDenied("Only clinicians review flagged calls.")
        call = self.get_object()
        serializer = CallReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.call_mark_reviewed(call=call, by=request.user, **serializer.validated_data)
        return self._detail(call)


class CallRowFilter(django_filters.FilterSet):
    """Filters of the rows recorded at calls (adverse effects, treatments)."""

    patient = IdFilter(field_name="call__patient_id")
    call = IdFilter(field_name="call_id")
    site = django_filters.CharFilter(field_name="call__patient__site__code")
    timepoint = django_filters.ChoiceFilter(
        field_name="call__timepoint", choices=list(STUDY_TIMEPOINTS)
    )
    voided = django_filters.BooleanFilter(
        field_name="voided_at", lookup_expr="isnull", exclude=True
    )


class AdverseEventFilter(CallRowFilter):
    class Meta:
        model = AdverseEvent
        fields = ("patient", "call", "site", "timepoint", "voided", "type", "serious")


class TreatmentFilter(CallRowFilter):
    class Meta:
        model = ConcomitantTreatment
        fields = ("patient", "call", "site", "timepoint", "voided", "kind", "code")


class _CallRowViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [StudyRolePermission]
    read_roles = ALL_ROLES
    model: Any = None

    def get_queryset(self) -> QuerySet[Any]:
        calls = calls_for_user(self.request.user)
        return (
            self.model.objects.filter(call__in=calls)
            .select_related("call__patient")
            .order_by("call__patient__study_code", "call__sequence", "pk")
        )


class AdverseEventViewSet(_CallRowViewSet):
    """Adverse effects reported at calls; recorded with the call's questionnaires."""

    model = AdverseEvent
    serializer_class = AdverseEventSerializer
    filterset_class = AdverseEventFilter
    write_roles = WRITE_ROLES

    @extend_schema(request=AdverseEventFollowUpSerializer, responses=AdverseEventSerializer)
    @action(detail=True, methods=["post"], url_path="follow-up")
    def follow_up(self, request: Request, pk: str | None = None) -> Response:
        """Record how the effect went (outcome, resolution date) or update its assessment."""
        effect = self.get_object()
        serializer = AdverseEventFollowUpSerializer(effect, data=request.data)
        serializer.is_valid(raise_exception=True)
        saved = serializer.save(by=request.user)
        fresh = self.get_queryset().get(pk=saved.pk)
        return Response(AdverseEventSerializer(fresh, context=self.get_serializer_context()).data)


class TreatmentViewSet(_CallRowViewSet):
    """Concomitant treatments recorded at calls (one row per drug or non-drug treatment)."""

    model = ConcomitantTreatment
    serializer_class = TreatmentSerializer
    filterset_class = TreatmentFilter
