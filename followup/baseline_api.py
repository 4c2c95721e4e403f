"""REST endpoint of the depression study's baseline: list, record, read, correct.

Scoped like the rated assessments: the queryset is built from the user's patients, so another
site's baseline is a 404 and another site's patient an unknown one. Writes go through
``followup.services.depression_baseline_save`` (a correction needs its ``reason`` and the
``version`` read: 409 if stale).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import DATA_ENTRY_ROLES
from cohort.selectors import patients_for_user
from config.api import ALL_ROLES, IdFilter, StudyRolePermission
from followup.baseline_serializers import (
    DepressionBaselineCreateSerializer,
    DepressionBaselineSerializer,
    DepressionBaselineUpdateSerializer,
)
from followup.models import DepressionBaseline

CONFLICT = OpenApiResponse(description="The baseline was saved by someone else since `version`.")


class DepressionBaselineFilter(django_filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    site = django_filters.CharFilter(field_name="patient__site__code", help_text="Site code.")
    study = django_filters.CharFilter(
        field_name="patient__site__study__code", help_text="Study code, e.g. LAN2022."
    )
    pain_group = django_filters.ChoiceFilter(
        choices=DepressionBaseline._meta.get_field("pain_group").choices
    )

    class Meta:
        model = DepressionBaseline
        fields = ("patient", "site", "study", "pain_group")


@extend_schema_view(
    create=extend_schema(
        request=DepressionBaselineCreateSerializer, responses={201: DepressionBaselineSerializer}
    ),
    update=extend_schema(
        request=DepressionBaselineUpdateSerializer,
        responses={200: DepressionBaselineSerializer, 409: CONFLICT},
    ),
)
class DepressionBaselineViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Depression baselines of the user's patients (the second study's), one per patient."""

    permission_classes = [StudyRolePermission]
    read_roles = ALL_ROLES
    write_roles = frozenset(DATA_ENTRY_ROLES)
    http_method_names = ["get", "put", "post", "head", "options"]
    serializer_class = DepressionBaselineSerializer
    filterset_class = DepressionBaselineFilter

    def get_queryset(self) -> QuerySet[DepressionBaseline]:
        patients = patients_for_user(self.request.user)
        return (
            DepressionBaseline.objects.filter(patient__in=patients)
            .select_related("patient__site__study")
            .order_by("patient__study_code", "pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record the baseline of one of the user's patients whose study collects it."""
        serializer = DepressionBaselineCreateSerializer(
            data=request.data, patients=patients_for_user(request.user)
        )
        serializer.is_valid(raise_exception=True)
        saved = serializer.save(by=request.user)
        fresh = self.get_queryset().get(pk=saved.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Correct a baseline: every value, the ``version`` read and the ``reason``."""
        baseline = self.get_object()
        serializer = DepressionBaselineUpdateSerializer(baseline, data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save(by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=baseline.pk)).data)
