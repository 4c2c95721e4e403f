"""URLs of the REST API (``/api/v1/``), its OpenAPI schema and its documentation pages."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts.api import PasswordTokenView, TokenRotateView
from analytics.api import (
    AnalysisRunViewSet,
    ExportDictionaryView,
    ExportDownloadView,
    ExportListView,
    LatestReportView,
)
from cohort.api import AdministrationViewSet, PatientViewSet, SiteViewSet
from followup.api import AdverseEventViewSet, CallViewSet, TreatmentViewSet
from followup.assessment_api import MadrsViewSet, SfMpqViewSet
from followup.baseline_api import DepressionBaselineViewSet
from safety.api import SafetyAlertViewSet

router = DefaultRouter()
router.register("sites", SiteViewSet, basename="site")
router.register("patients", PatientViewSet, basename="patient")
router.register("administrations", AdministrationViewSet, basename="administration")
router.register("calls", CallViewSet, basename="call")
router.register("adverse-events", AdverseEventViewSet, basename="adverse-event")
router.register("treatments", TreatmentViewSet, basename="treatment")
router.register("madrs", MadrsViewSet, basename="madrs")
router.register("sf-mpq", SfMpqViewSet, basename="sf-mpq")
router.register("depression-baselines", DepressionBaselineViewSet, basename="depression-baseline")
router.register("safety-alerts", SafetyAlertViewSet, basename="safety-alert")
router.register("analysis/runs", AnalysisRunViewSet, basename="analysis-run")

v1 = [
    path("auth/token/", PasswordTokenView.as_view(), name="token"),
    path("auth/token/rotate/", TokenRotateView.as_view(), name="token-rotate"),
    path("analysis/latest/", LatestReportView.as_view(), name="analysis-latest"),
    path("exports/", ExportListView.as_view(), name="export-list"),
    path("exports/dictionary.csv", ExportDictionaryView.as_view(), name="export-dictionary"),
    path("exports/<str:layout>.<str:fmt>", ExportDownloadView.as_view(), name="export-download"),
    path("", include(router.urls)),
]

app_name = "api"

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The page's script is a file of its own (?script), so the CSP needs no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
