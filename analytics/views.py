"""Analysis pages: the live dashboard, the runs, the report as JSON and as one HTML file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import role_required
from accounts.roles import Role
from analytics import lan_pages, replication, services
from analytics.models import AnalysisRun
from analytics.templatetags.analysis_tags import p_style
from cohort import vocabulary as voc
from cohort.models import Study
from cohort.selectors import studies_for_user
from cohort.studies import FIRST_STUDY_CODE

READERS = (Role.STATISTICIAN, Role.CLINICIAN, Role.DATA_MANAGER)
OUTCOME_LABELS = {
    "nprs_baseline_to_m12": "Mean pain (NPRS)",
    "nprs_max_baseline_to_m12": "Maximal pain (NPRS)",
    "hads_depression_baseline_to_m12": "HADS depression",
    "hads_anxiety_baseline_to_m12": "HADS anxiety",
    "sf12_pcs_baseline_to_m12": "SF-12 physical (PCS)",
    "sf12_mcs_baseline_to_m12": "SF-12 mental (MCS)",
}
OUTCOME_COLUMNS = {
    "nprs_baseline_to_m12": "nprs_mean",
    "nprs_max_baseline_to_m12": "nprs_max",
    "hads_depression_baseline_to_m12": "hads_d",
    "hads_anxiety_baseline_to_m12": "hads_a",
    "sf12_pcs_baseline_to_m12": "sf12_pcs",
    "sf12_mcs_baseline_to_m12": "sf12_mcs",
}


def _may_rerun(user: Any) -> bool:
    return bool(user.is_superuser or user.has_role(Role.STATISTICIAN))


def _studies(request: HttpRequest) -> list[Study]:
    """Return the studies the user sees, the first study first."""
    studies = list(studies_for_user(request.user).order_by("code"))
    return sorted(studies, key=lambda study: study.code != FIRST_STUDY_CODE)


def _study_for_user(request: HttpRequest) -> tuple[Study, list[Study]]:
    """Return the study chosen by ``?study=CODE`` (or the first the user sees) and the others.

    404 for a study the user does not see, as for any other object.
    """
    studies = _studies(request)
    code = request.GET.get("study") or request.POST.get("study")
    if code:
        for study in studies:
            if study.code == code:
                return study, studies
        raise Http404(_("No study %(code)s among the studies you see.") % {"code": code})
    if not studies:
        raise Http404(_("You see no study."))
    return studies[0], studies


def _run_for_user(request: HttpRequest, queryset: Any, pk: int) -> AnalysisRun:
    """Return a run of a study the user sees, else 404."""
    run = get_object_or_404(queryset, pk=pk)
    if not any(study.pk == run.study_id for study in _studies(request)):
        raise Http404(_("No such analysis run."))
    return run


def _active_run(study: Study) -> AnalysisRun | None:
    """Return the study's run being computed, or else the one waiting, if any."""
    return (
        AnalysisRun.objects.filter(
            study=study, status__in=[AnalysisRun.Status.RUNNING, AnalysisRun.Status.QUEUED]
        )
        .defer("report", "summary")
        .order_by("status", "-pk")  # "queued" < "running": show the running one first below
        .last()
    )


def _latest_with_report(study: Study) -> AnalysisRun | None:
    latest = services.latest_good_run(study)
    return AnalysisRun.objects.get(pk=latest.pk) if latest else None


def _latest_summary(study: Study) -> tuple[AnalysisRun | None, dict[str, Any] | None]:
    """Return the newest successful run and what the dashboard draws of its report.

    The report's summary (the report less the per-patient memberships) is read, not the report:
    a run stored before summaries existed falls back on its report.
    """
    run = (
        AnalysisRun.objects.filter(study=study, status=AnalysisRun.Status.SUCCEEDED)
        .order_by("-finished_at", "-pk")
        .defer("report")
        .first()
    )
    if run is None:
        return None, None
    if run.summary is not None:
        return run, run.summary
    return run, AnalysisRun.objects.values_list("report", flat=True).get(pk=run.pk)


def _chart_data(report: dict[str, Any]) -> dict[str, Any]:
    """Return what the dashboard's charts draw, in one JSON object."""
    results = report["results"]
    trajectories = results.get("trajectories", {})
    groups = trajectories.get("groups", {}) if trajectories.get("available") else {}
    return {
        "evolution": results.get("evolution", {}),
        "figure2": results.get("figure2", {}),
        "trajectories": {
            name: {
                "n": g["n"],
                "pct": g["pct"],
                "curve": g["curve"],
                "label": _(replication.TRAJECTORY_GROUPS.get(name, name)),
            }
            for name, g in groups.items()
        },
        "adverse": results.get("adverse_effects", {}).get("by_timepoint", []),
        "labels": {
            "month": _("Month"),
            "locf": _("LOCF"),
            "observed": _("Observed"),
            "observed_lower": _("observed"),
            "fitted": _("fitted"),
            "mean_sem": _("Mean (SEM)"),
            "nprs_mean_sem": _("NPRS, mean (SEM)"),
            "nprs": _("NPRS"),
            "figure2": _("Mean pain (NPRS) by baseline HADS-D"),
            "trajectories": _("NPRS trajectories"),
            "adverse_any": _("At least one adverse effect"),
            "adverse_title": _("Patients with an adverse effect"),
            "adverse_axis": _("% of reached patients"),
            "call": _("Call"),
        },
    }


def _missingness_rows(results: dict[str, Any], outcome: str) -> list[dict[str, Any]]:
    """Return one outcome's missingness rows with the counts in the order of the reasons."""
    rows = results.get("missingness", {}).get("by_outcome", {}).get(outcome, [])
    return [{**row, "counts": [row.get(code, 0) for code in voc.codes(voc.MISSING_REASONS)]}
            for row in rows]  # fmt: skip


_BARE_DECIMAL = re.compile(r"(?<!\d)\.(?=\d)")


def _localise(text: str) -> str:
    """Write a replication figure with the reader's decimal mark (P values as JAMA style)."""
    style = p_style()
    if style["decimal"] == ".":
        return text
    if style["leading_zero"]:
        text = _BARE_DECIMAL.sub("0.", text)
    return text.replace(".", style["decimal"])


def _replication_groups(rows: list[replication.Row]) -> list[dict[str, Any]]:
    """Group the replication rows by block, in the user's language."""
    words = {"yes": _("yes"), "no": _("no")}
    groups: list[dict[str, Any]] = []
    for row in rows:
        key = (row.section, row.path.split(".")[0])
        if not groups or groups[-1]["key"] != key:
            groups.append({"key": key, "label": _(row.group), "rows": []})
        figure = _(row.label)
        if row.item:  # a code's row: "Migraine", or "Step 3 opioids — P"
            figure = _(row.item) if row.label == "%" else f"{_(row.item)} — {figure}"
        groups[-1]["rows"].append(
            {
                "row": row,
                "figure": figure,
                "paper": words.get(row.paper) or _localise(row.paper),
                "live": words.get(row.live) or _localise(row.live),
                "difference": _localise(row.difference_text),
                "status": _(replication.STATUS_LABELS[row.status]),
                "note": _(row.note) if row.note else "",
            }
        )
    return groups


def _dashboard_context(report: dict[str, Any]) -> dict[str, Any]:
    results = report["results"]
    outcomes = [
        {"key": key, "column": OUTCOME_COLUMNS[key], "label": _(label), **results[key]}
        for key, label in OUTCOME_LABELS.items()
        if key in results
    ]
    rows = replication.compare(report)
    mediation = results.get("mediation", {})
    within = mediation.get("within_patient_depression", {})
    return {
        "report": report,
        "results": results,
        "cohort": report["cohort"],
        "outcomes": outcomes,
        "trajectories": results.get("trajectories", {}),
        "mediation": mediation,
        "within": within,
        "replication": rows,
        "replication_groups": _replication_groups(rows),
        "replication_summary": replication.summary(rows),
        "replication_rule": _(replication.RULE),
        "charts": _chart_data(report),
        "missing_reasons": [_(label) for _code, label in voc.MISSING_REASONS],
        "missingness": _missingness_rows(results, "nprs_mean"),
    }


@require_GET
@role_required(*READERS)
def dashboard(request: HttpRequest) -> HttpResponse:
    """Show a study's newest successful analysis, beside its paper, with the state of the next."""
    study, studies = _study_for_user(request)
    run, summary = _latest_summary(study)
    shown = str(run.pk) if run else ""
    active = _active_run(study)
    context: dict[str, Any] = {
        "study": study,
        "studies": studies,
        "run": run,
        **_status_context(request, study, shown, follow=active is not None),
        "last_failed": AnalysisRun.objects.filter(study=study, status=AnalysisRun.Status.FAILED)
        .defer("report", "summary")
        .first(),
        "body_template": _body_template(study),
        "counts_ratings": _is_lan(study),  # a Lan run counts MADRS ratings, not calls
    }
    if summary:
        context.update(_report_context(study, summary))
    return render(request, "analytics/dashboard.html", context)


def _is_lan(study: Study) -> bool:
    return study.protocol.analysis_plan == lan_pages.PLAN


def _body_template(study: Study) -> str:
    """Return the template of the study's report: each analysis plan has its own."""
    if _is_lan(study):
        return "analytics/partials/lan_report_body.html"
    return "analytics/partials/report_body.html"


def _report_context(study: Study, report: dict[str, Any]) -> dict[str, Any]:
    if _is_lan(study):
        return lan_pages.report_context(report)
    return _dashboard_context(report)


def _poll_seconds(active: AnalysisRun | None) -> int:
    """Return how often an open dashboard asks for news: often while a run is under way."""
    if active is not None:
        return int(settings.ANALYSIS_POLL_ACTIVE_SECONDS)
    return int(settings.ANALYSIS_POLL_IDLE_SECONDS)


def _status_context(request: HttpRequest, study: Study, shown: str, follow: bool) -> dict[str, Any]:
    """Return what the status panel shows: the run under way, and a newer result if any."""
    active = _active_run(study)
    latest = services.latest_good_run_summary(study)
    newer = latest if latest is not None and shown != str(latest["pk"]) else None
    return {
        "study": study,
        "active": active,
        "latest": latest,
        "newer": newer,
        "shown": shown,
        "follow": follow,
        "poll_seconds": _poll_seconds(active),
        "may_rerun": _may_rerun(request.user),
    }


@require_GET
@role_required(*READERS)
def run_status(request: HttpRequest) -> HttpResponse:
    """Return the status panel, polled by an open dashboard (two small queries).

    The panel says when a run is under way and when a newer successful run exists than the one
    on the page (``shown``). A page that was following a run (``follow=1``: it showed a run
    under way) reloads itself when the results arrive; otherwise the panel offers the newer
    results, so that a reader is not moved away from what they were reading.
    """
    study, _studies_seen = _study_for_user(request)
    shown = request.GET.get("shown", "")
    follow = request.GET.get("follow") == "1"
    context = _status_context(request, study, shown, follow)
    response = render(request, "analytics/partials/run_status.html", context)
    if context["newer"] is not None and (follow or not shown):
        response["HX-Refresh"] = "true"
    return response


@require_POST
@role_required(Role.STATISTICIAN)
def rerun(request: HttpRequest) -> HttpResponse:
    """Queue a recomputation of the chosen study now (statisticians); the dashboard shows its
    progress."""
    study, _studies_seen = _study_for_user(request)
    run = services.reanalysis_schedule(
        trigger=AnalysisRun.Trigger.MANUAL, study=study, by=request.user, force=True, delay=0
    )
    run.refresh_from_db(fields=["dispatched_at"])  # set by the dispatch, in the database
    if run.dispatched_at is None:
        messages.warning(
            request,
            _("The worker cannot be reached now; the analysis will start when it is back."),
        )
    else:
        messages.success(request, _("Analysis requested; this page follows its progress."))
    return redirect(_with_study("analysis:dashboard", study))


def _with_study(name: str, study: Study) -> str:
    """Return the address of a page of the analysis for one study."""
    return f"{reverse(name)}?study={study.code}"


@require_GET
@role_required(*READERS)
def run_list(request: HttpRequest) -> HttpResponse:
    """List a study's runs: status, trigger, times, duration, patients, errors."""
    study, studies = _study_for_user(request)
    runs = (
        AnalysisRun.objects.filter(study=study)
        .defer("report", "summary")
        .select_related("requested_by", "same_as")[:100]
    )
    return render(
        request, "analytics/run_list.html", {"runs": runs, "study": study, "studies": studies}
    )


@require_GET
@role_required(*READERS)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one run: parameters, versions, timings and, if it failed, the whole error."""
    queryset = AnalysisRun.objects.defer("report", "summary").select_related("study")
    run = _run_for_user(request, queryset, pk)
    return render(request, "analytics/run_detail.html", {"run": run, "study": run.study})


def _report_run(request: HttpRequest, pk: int | None) -> AnalysisRun:
    if pk is None:
        study, _studies_seen = _study_for_user(request)
        run = _latest_with_report(study)
        if run is None:
            raise Http404(_("No analysis has succeeded yet."))
        return run
    run = _run_for_user(request, AnalysisRun.objects.all(), pk)
    source = run.results_run()
    if source is None:
        raise Http404(_("This run has no report."))
    return source if source.pk == run.pk else AnalysisRun.objects.get(pk=source.pk)


@require_GET
@role_required(*READERS)
def report_json(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Download the report of a run (default: the newest successful one) as JSON."""
    run = _report_run(request, pk)
    response = JsonResponse(run.report, json_dumps_params={"indent": 1})
    response["Content-Disposition"] = f'attachment; filename="analysis-run-{run.pk}.json"'
    return response


def _static_text(*names: str) -> str:
    """Return the text of static files, to put inside a page that must stand alone."""
    paths = [finders.find(name) for name in names]
    return "\n".join(Path(str(path)).read_text(encoding="utf-8") for path in paths if path)


@require_GET
@role_required(*READERS)
def report_html(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Download the report as one HTML file (styles and charts inside) to archive or share."""
    run = _report_run(request, pk)
    assert run.report is not None
    context = {
        "run": run,
        "study": run.study,
        "body_template": _body_template(run.study),
        "standalone": True,
        "generated_at": timezone.now(),
        "inline_css": _static_text("css/app.css"),
        "inline_js": _static_text(
            "vendor/plotly/plotly-basic.min.js", "js/analysis-charts.js", "js/replication-filter.js"
        ),
        **_report_context(run.study, run.report),
    }
    html = render_to_string("analytics/report_standalone.html", context, request=request)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="analysis-run-{run.pk}.html"'
    return response
