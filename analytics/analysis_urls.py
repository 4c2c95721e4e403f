"""URLs of the analysis pages: dashboard, runs, report downloads."""

from django.urls import path

from analytics import views

app_name = "analysis"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("status/", views.run_status, name="run_status"),
    path("rerun/", views.rerun, name="rerun"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("report.json", views.report_json, name="report_json"),
    path("report.html", views.report_html, name="report_html"),
    path("runs/<int:pk>/report.json", views.report_json, name="run_report_json"),
    path("runs/<int:pk>/report.html", views.report_html, name="run_report_html"),
]
