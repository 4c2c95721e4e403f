"""REST endpoints of the MADRS and the SF-MPQ rated at visits: list, record, read, correct.

Scoped like the calls: the queryset is built from the user's patients, so another site's
assessment is a 404 and another site's patient an unknown one. Writes go through
``followup.services`` (a correction needs its ``reason`` and the ``version`` read: 409 if stale).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import OuterRef, QuerySet, Subquery
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import DATA_ENTRY_ROLES
from cohort.selectors import patients_for_user
from config.api import ALL_ROLES, IdFilter, StudyRolePermission
from followup.assessment_serializers import (
    AssessmentVoidSerializer,
    MadrsCreateSerializer,
    MadrsSerializer,
    MadrsUpdateSerializer,
    SfMpqCreateSerializer,
    SfMpqSerializer,
    SfMpqUpdateSerializer,
)
from followup.models import MadrsAssessment, SfMpqAssessment

CONFLICT = OpenApiResponse(description="The assessment was saved by someone else since `version`.")


class _AssessmentFilter(django_filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    site = django_filters.CharFilter(field_name="patient__site__code", help_text="Site code.")
    visit_code = django_filters.CharFilter(help_text="Visit code, e.g. BL.")


class MadrsFilter(_AssessmentFilter):
    class Meta:
        model = MadrsAssessment
        fields = ("patient", "site", "visit_code")


class SfMpqFilter(_AssessmentFilter):
    class Meta:
        model = SfMpqAssessment
        fields = ("patient", "site", "visit_code")


class _AssessmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [StudyRolePermission]
    read_roles = ALL_ROLES
    write_roles = frozenset(DATA_ENTRY_ROLES)
    http_method_names = ["get", "put", "post", "head", "options"]
    model: Any = None
    create_serializer: Any = None
    update_serializer: Any = None

    def get_queryset(self) -> QuerySet[Any]:
        patients = patients_for_user(self.request.user)
        return (
            self.model.objects.filter(patient__in=patients)
            .select_related("patient__site")
            .order_by("patient__study_code", "assessed_on", "pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record an assessment of one of the user's patients at one of the patient's visits."""
        serializer = self.create_serializer(
            data=request.data, patients=patients_for_user(request.user)
        )
        serializer.is_valid(raise_exception=True)
        saved = serializer.save(by=request.user)
        fresh = self.get_queryset().get(pk=saved.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Correct an assessment: every answer, the ``version`` read and the ``reason``."""
        assessment = self.get_object()
        serializer = self.update_serializer(assessment, data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save(by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=assessment.pk)).data)

    @extend_schema(request=AssessmentVoidSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        """Void an assessment entered in error, with the ``reason``: the visit is due again."""
        assessment = self.get_object()
        serializer = AssessmentVoidSerializer(assessment, data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save(by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=assessment.pk)).data)


@extend_schema_view(
    create=extend_schema(request=MadrsCreateSerializer, responses={201: MadrsSerializer}),
    update=extend_schema(
        request=MadrsUpdateSerializer, responses={200: MadrsSerializer, 409: CONFLICT}
    ),
)
class MadrsViewSet(_AssessmentViewSet):
    """MADRS ratings of the user's patients, one per patient and visit."""

    model = MadrsAssessment
    serializer_class = MadrsSerializer
    filterset_class = MadrsFilter
    create_serializer = MadrsCreateSerializer
    update_serializer = MadrsUpdateSerializer

    def get_queryset(self) -> QuerySet[Any]:
        baseline = MadrsAssessment.objects.filter(
            patient=OuterRef("patient"), visit_code="BL", voided_at__isnull=True
        ).values("total")[:1]
        return super().get_queryset().annotate(baseline_total=Subquery(baseline))


@extend_schema_view(
    create=extend_schema(request=SfMpqCreateSerializer, responses={201: SfMpqSerializer}),
    update=extend_schema(
        request=SfMpqUpdateSerializer, responses={200: SfMpqSerializer, 409: CONFLICT}
    ),
)
class SfMpqViewSet(_AssessmentViewSet):
    """SF-MPQ answers of the user's patients, one per patient and visit."""

    model = SfMpqAssessment
    serializer_class = SfMpqSerializer
    filterset_class = SfMpqFilter
    create_serializer = SfMpqCreateSerializer
    update_serializer = SfMpqUpdateSerializer
