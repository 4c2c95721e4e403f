"""REST endpoints of the cohort: sites, patients (enrolment, status), ketamine administrations."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, Q, QuerySet, Sum
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import DATA_ENTRY_ROLES
from accounts.identifiers import sees_identifiers
from cohort import services
from cohort import vocabulary as voc
from cohort.models import KetamineAdministration, Patient, Signature, Site
from cohort.selectors import patients_for_user, sites_for_user
from cohort.serializers import (
    AdministrationCreateSerializer,
    AdministrationSerializer,
    AdministrationUpdateSerializer,
    AdministrationVoidSerializer,
    PatientEnrolSerializer,
    PatientSerializer,
    PatientStatusSerializer,
    SiteSerializer,
)
from config.api import ALL_ROLES, IdFilter, StudyRolePermission

WRITE_ROLES = frozenset(DATA_ENTRY_ROLES)
IDEMPOTENCY_KEY_MAX = 64
REPLAYED = {"Idempotent-Replayed": "true"}


class SiteViewSet(viewsets.ReadOnlyModelViewSet):
    """The sites the user works for (every site for statisticians and data managers)."""

    serializer_class = SiteSerializer
    permission_classes = [StudyRolePermission]
    read_roles = ALL_ROLES

    def get_queryset(self) -> QuerySet[Site]:
        return sites_for_user(self.request.user).order_by("code")


class PatientFilter(django_filters.FilterSet):
    site = django_filters.CharFilter(field_name="site__code", help_text="Site code, e.g. S01.")
    study = django_filters.CharFilter(
        field_name="site__study__code", help_text="Study code, e.g. VOUTE2023."
    )
    status = django_filters.ChoiceFilter(choices=list(voc.PATIENT_STATUSES))
    etiology = django_filters.ChoiceFilter(choices=list(voc.ETIOLOGIES))
    search = django_filters.CharFilter(
        field_name="study_code", lookup_expr="icontains", help_text="Part of the study code."
    )

    class Meta:
        model = Patient
        fields = ("site", "study", "status", "etiology", "search")


class PatientViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Patients of the user's sites; names and phones only for the staff of their site."""

    serializer_class = PatientSerializer
    permission_classes = [StudyRolePermission]
    read_roles = ALL_ROLES
    write_roles = WRITE_ROLES
    filterset_class = PatientFilter

    def get_queryset(self) -> QuerySet[Patient]:
        user: Any = self.request.user
        live = Signature.objects.filter(voided_at__isnull=True)
        patients = (
            patients_for_user(user)
            .annotate(
                cumulative_dose_mg=Sum(
                    "administrations__total_mg", filter=Q(administrations__voided_at__isnull=True)
                )
            )
            .select_related("lock__locked_by")
            .prefetch_related(Prefetch("signatures", queryset=live, to_attr="live_signatures"))
        )
        if sees_identifiers(user):
            patients = patients.select_related("contact")
        return patients.order_by("study_code")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description=(
                    "Any unique string (up to 64 characters): the same request sent again with "
                    "the same key returns the patient the first one enrolled (200), not a new "
                    "one; the same key with another content is a 409."
                ),
            )
        ],
        request=PatientEnrolSerializer,
        responses={201: PatientSerializer, 200: PatientSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Enrol a patient (and record the first administration when given)."""
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > IDEMPOTENCY_KEY_MAX:
            raise ValidationError(
                {"Idempotency-Key": [f"At most {IDEMPOTENCY_KEY_MAX} characters."]}
            )
        serializer = PatientEnrolSerializer(data=request.data, sites=sites_for_user(request.user))
        serializer.is_valid(raise_exception=True)
        created = True
        if key:
            try:
                patient, created = services.patient_enrol_once(
                    key=f"api:{key}",
                    by=request.user,
                    enrol=lambda: serializer.save(by=request.user),
                    fingerprint=services.enrolment_fingerprint(request.data),
                )
            except services.EnrolmentKeyReused as exc:
                return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        else:
            patient = serializer.save(by=request.user)
        output = self.get_serializer(self.get_queryset().get(pk=patient.pk))
        if not created:
            return Response(output.data, status=status.HTTP_200_OK, headers=REPLAYED)
        return Response(output.data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PatientStatusSerializer, responses=PatientSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request: Request, pk: str | None = None) -> Response:
        """Record that the patient withdrew, was lost, died or completed; open calls close."""
        patient = self.get_object()
        serializer = PatientStatusSerializer(patient, data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save(by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=patient.pk)).data)


class AdministrationFilter(django_filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    site = django_filters.CharFilter(field_name="patient__site__code")
    voided = django_filters.BooleanFilter(
        field_name="voided_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = KetamineAdministration
        fields = ("patient", "site", "voided")


@extend_schema_view(
    create=extend_schema(
        request=AdministrationCreateSerializer, responses={201: AdministrationSerializer}
    ),
    partial_update=extend_schema(
        request=AdministrationUpdateSerializer, responses=AdministrationSerializer
    ),
)
class AdministrationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Ketamine administrations: recorded, corrected with a reason, voided, never deleted."""

    serializer_class = AdministrationSerializer
    permission_classes = [StudyRolePermission]
    read_roles = ALL_ROLES
    write_roles = WRITE_ROLES
    filterset_class = AdministrationFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[KetamineAdministration]:
        patients = patients_for_user(self.request.user)
        return (
            KetamineAdministration.objects.filter(patient__in=patients)
            .select_related("patient")
            .order_by("patient__study_code", "date", "pk")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record an administration; an earlier first administration moves the open calls."""
        serializer = AdministrationCreateSerializer(
            data=request.data, patients=patients_for_user(request.user)
        )
        serializer.is_valid(raise_exception=True)
        administration = serializer.save(by=request.user)
        return Response(self.get_serializer(administration).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Correct an administration: give the changed fields and a ``reason``."""
        administration = self.get_object()
        serializer = AdministrationUpdateSerializer(administration, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save(by=request.user)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=AdministrationVoidSerializer, responses=AdministrationSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        """Void an administration entered in error, with the reason."""
        administration = self.get_object()
        serializer = AdministrationVoidSerializer(administration, data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save(by=request.user)
        return Response(self.get_serializer(self.get_object()).data)
