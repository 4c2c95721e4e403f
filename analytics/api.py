"""REST endpoints of the analytics: analysis runs, the latest report, the study data exports."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import Role
from analytics.exports import dictionary, writers
from analytics.exports import variables as var
from analytics.exports.responses import download_response, export_study
from analytics.exports.services import export_log_record
from analytics.models import AnalysisRun, ExportLog
from analytics.services import latest_good_run, reanalysis_schedule
from cohort.models import Study
from cohort.selectors import studies_for_user
from cohort.studies import FIRST_STUDY_CODE
from config.api import StudyRolePermission
from config.api_schema import ErrorSerializer

# Results are aggregates without identifiers: clinicians, statisticians and data managers read
# them; statisticians ask for a re-analysis; the patient-level exports are for statisticians and
# data managers, as on the export page.
RESULT_READERS = frozenset({Role.CLINICIAN, Role.STATISTICIAN, Role.DATA_MANAGER})
RERUN_ROLES = frozenset({Role.STATISTICIAN})
EXPORT_ROLES = frozenset({Role.STATISTICIAN, Role.DATA_MANAGER})

REPORT = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="The analysis report of the study's plan: schema "
    "`ketamine-followup/analysis-report` (docs/analysis-report.md) for the first study, "
    "`lan2022-moderation/report` (docs/lan2022.md) for Lan et al. 2022.",
)
NO_REPORT = OpenApiResponse(
    description="No analysis of the study has succeeded yet, or no such study among those the "
    "user sees."
)
STUDY = OpenApiParameter(
    "study",
    str,
    description="The study's code (default: the first study, VOUTE2023, or else the first "
    "study the user sees). A study the user does not see answers 404.",
)


NO_STUDY = OpenApiResponse(
    ErrorSerializer, description="No such study among the studies the user sees."
)


def study_for_request(request: Request) -> Study:
    """Return the study ``?study=CODE`` names among those the user sees; 404 otherwise."""
    studies = list(studies_for_user(request.user).order_by("code"))
    code = request.query_params.get("study")
    if code:
        for study in studies:
            if study.code == code:
                return study
        raise Http404(f"No study {code!r} among the studies you see.")
    for study in studies:
        if study.code == FIRST_STUDY_CODE:
            return study
    if not studies:
        raise Http404("You see no study.")
    return studies[0]


class ProgressSerializer(serializers.Serializer):
    status = serializers.CharField()
    step = serializers.CharField()
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    share = serializers.FloatField(help_text="Share of the steps done, 0 to 1.")


class AnalysisRunSerializer(serializers.ModelSerializer):
    """One analysis run: its status and progress, timings, counts, error; not the report."""

    requested_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    study = serializers.SlugRelatedField(slug_field="code", read_only=True)
    duration_s = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    results_run = serializers.SerializerMethodField()

    class Meta:
        model = AnalysisRun
        fields = (
            "id",
            "study",
            "status",
            "trigger",
            "force",
            "requested_by",
            "requested_at",
            "not_before",
            "dispatched_at",
            "started_at",
            "heartbeat_at",
            "finished_at",
            "duration_s",
            "progress",
            "n_patients",
            "n_calls",
            "fingerprint",
            "same_as",
            "results_run",
            "parameters",
            "versions",
            "timings",
            "error",
        )
        read_only_fields = fields

    def get_duration_s(self, run: AnalysisRun) -> float | None:
        duration = run.duration
        return None if duration is None else round(duration.total_seconds(), 3)

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, run: AnalysisRun) -> dict[str, Any]:
        return run.progress

    def get_results_run(self, run: AnalysisRun) -> int | None:
        """Return the id of the run whose report stands for this one."""
        if run.status == AnalysisRun.Status.SUCCEEDED:
            return run.pk
        if run.status == AnalysisRun.Status.UNCHANGED:
            return run.same_as_id
        return None


class AnalysisRunDetailSerializer(AnalysisRunSerializer):
    class Meta(AnalysisRunSerializer.Meta):
        fields = (*AnalysisRunSerializer.Meta.fields, "error_detail")
        read_only_fields = fields


class AnalysisRunRequestSerializer(serializers.Serializer):
    """Ask for a re-analysis; it joins the run already waiting, if any."""

    force = serializers.BooleanField(
        default=False, help_text="Recompute even if the data have not changed since the last run."
    )

    def create(self, validated_data: dict[str, Any]) -> AnalysisRun:
        return reanalysis_schedule(
            trigger=AnalysisRun.Trigger.MANUAL,
            study=validated_data["study"],
            by=validated_data["by"],
            force=validated_data["force"],
        )


class AnalysisRunViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """A study's analysis runs (``?study=CODE``), newest first; statisticians ask for a new one
    with POST. A run of a study the user does not see answers 404."""

    permission_classes = [StudyRolePermission]
    read_roles = RESULT_READERS
    write_roles = RERUN_ROLES

    def get_queryset(self) -> QuerySet[AnalysisRun]:
        if getattr(self, "swagger_fake_view", False):  # the schema, drawn without a user
            return AnalysisRun.objects.none()
        runs = (
            AnalysisRun.objects.select_related("requested_by", "study")
            .defer("report", "summary")
            .order_by("-requested_at", "-pk")
        )
        if self.action == "list":
            return runs.filter(study=study_for_request(self.request))
        return runs.filter(study__in=studies_for_user(self.request.user))

    @extend_schema(
        parameters=[STUDY], responses={200: AnalysisRunSerializer(many=True), 404: NO_STUDY}
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """List the study's runs, newest first."""
        return super().list(request, *args, **kwargs)

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "retrieve":
            return AnalysisRunDetailSerializer
        return AnalysisRunSerializer

    @extend_schema(
        parameters=[STUDY],
        request=AnalysisRunRequestSerializer,
        responses={202: AnalysisRunDetailSerializer, 404: NO_STUDY},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Queue a re-analysis of the study (or join its waiting one) and return it: 202, poll
        its status."""
        study = study_for_request(request)
        serializer = AnalysisRunRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = serializer.save(by=request.user, study=study)
        output = AnalysisRunDetailSerializer(self.get_queryset().get(pk=run.pk))
        return Response(output.data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: REPORT, 404: NO_REPORT})
    @action(detail=True, methods=["get"])
    def report(self, request: Request, pk: str | None = None) -> Response:
        """Return the report of this run (or of the earlier run it found unchanged)."""
        run = self.get_object()
        source = run.results_run()
        if source is None:
            raise Http404("This run has no results.")
        report = AnalysisRun.objects.values_list("report", flat=True).get(pk=source.pk)
        return _report_response(report, source.pk)


def _report_response(report: Any, run_id: int) -> Response:
    response = Response(report)
    response["X-Analysis-Run"] = str(run_id)
    return response


class LatestReportView(APIView):
    """The report of a study's newest successful analysis: what the pages show and scripts read."""

    permission_classes = [StudyRolePermission]
    read_roles = RESULT_READERS

    @extend_schema(parameters=[STUDY], responses={200: REPORT, 404: NO_REPORT})
    def get(self, request: Request) -> Response:
        run = latest_good_run(study_for_request(request))
        if run is None:
            raise Http404("No analysis has succeeded yet.")
        report = AnalysisRun.objects.values_list("report", flat=True).get(pk=run.pk)
        return _report_response(report, run.pk)


class ExportSerializer(serializers.Serializer):
    layout = serializers.CharField()
    title = serializers.CharField()
    items = serializers.BooleanField(help_text="Long layout with every item answer.")
    downloads = serializers.DictField(
        child=serializers.CharField(), help_text="Download address per format."
    )


class _ExportView(APIView):
    permission_classes = [StudyRolePermission]
    read_roles = EXPORT_ROLES
    # Files are not JSON: answer any Accept header; errors still come as JSON.
    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(request, force=True)


class ExportListView(_ExportView):
    """The study data downloads: each layout in each format (no identifiers, ever)."""

    @extend_schema(responses=ExportSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = []
        choices = [(layout, False) for layout in var.LAYOUTS]
        choices.insert(1, ("long", True))
        for layout, items in choices:
            query = "?items=1" if items else ""
            downloads = {
                fmt: request.build_absolute_uri(f"{layout}.{fmt}{query}") for fmt in writers.FORMATS
            }
            title = var.LAYOUT_LABELS[layout] + (" (with item answers)" if items else "")
            rows.append({"layout": layout, "title": title, "items": items, "downloads": downloads})
        return Response(ExportSerializer(rows, many=True).data)


class ExportDownloadView(_ExportView):
    """One layout in one format; CSV is streamed. Every download is logged."""

    @extend_schema(
        parameters=[
            OpenApiParameter("layout", str, OpenApiParameter.PATH, enum=list(var.LAYOUTS)),
            OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=list(writers.FORMATS)),
            OpenApiParameter(
                "items", int, description="1: the long layout with every item answer."
            ),
            OpenApiParameter(
                "study", str, description="A study's code: its patients only (else every study)."
            ),
        ],
        responses={
            **{
                (200, content_type.split(";")[0]): OpenApiResponse(
                    OpenApiTypes.BINARY, description="The file (CSV, XLSX, DTA, SAV or Parquet)."
                )
                for content_type in writers.CONTENT_TYPES.values()
            },
            404: OpenApiResponse(ErrorSerializer, description="No such layout or format."),
        },
    )
    def get(self, request: Request, layout: str, fmt: str) -> HttpResponse:
        if layout not in var.LAYOUTS or fmt not in writers.FORMATS:
            raise Http404("No such export.")
        items = layout == "long" and request.query_params.get("items") == "1"
        study = export_study(request.user, layout, request.query_params.get("study"))
        return download_response(
            user=request.user,
            layout=layout,
            fmt=fmt,
            items=items,
            source=ExportLog.Source.API,
            study=study,
        )


class ExportDictionaryView(_ExportView):
    """The data dictionary as CSV: every variable of every layout, labels and codes."""

    @extend_schema(
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    def get(self, request: Request) -> HttpResponse:
        response = HttpResponse(content_type=writers.CONTENT_TYPES["csv"])
        response["Content-Disposition"] = 'attachment; filename="ketamine_dictionary.csv"'
        dictionary.write_dictionary_csv(response)
        export_log_record(
            by=request.user,
            source=ExportLog.Source.API,
            layout="dictionary",
            fmt="csv",
            rows=len(dictionary.dictionary_frame()),
        )
        return response
