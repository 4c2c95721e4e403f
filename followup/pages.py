"""What the follow-up's pages share with other apps' pages: the call's page and the worklist.

Not views: plain functions of a request, so that another app's view (the quality's query raised
from a call page, the home page) renders them without importing ``followup.views``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.roles import Role
from cohort import vocabulary as voc
from cohort.free_text import hide_free_text
from cohort.selectors import sites_for_user
from followup import selectors
from followup.forms import CallEntryForm, call_initial
from followup.models import FollowUpCall
from followup.validators import QUESTIONNAIRE_FIELDS, live_scores
from followup.worklist_filters import WorklistFilterForm

WORKLIST_ROLES = (Role.NURSE, Role.CLINICIAN)


def has_worklist(user: Any) -> bool:
    """Say whether the user has a worklist of calls (nurses and clinicians)."""
    return any(user.has_role(role) for role in WORKLIST_ROLES)


def worklist_context(request: HttpRequest) -> dict[str, Any]:
    """Return what the worklist template needs (also used by the nurse's home page).

    ``study`` (a study's code), ``site`` (a site code) and ``q`` (part of a study code) narrow
    every section; the study's filter and column show when the user's sites are in several;
    ``page_<section>`` is the page shown of that section.
    """
    now = timezone.localtime()
    sites = list(sites_for_user(request.user).select_related("study"))
    filters = WorklistFilterForm(request.GET or None, sites=sites)
    narrowed = filters.cleaned_data if filters.is_valid() else {}
    pages = {}
    for key in selectors.WORKLIST_SECTIONS:
        text = request.GET.get(f"page_{key}", "")
        pages[key] = int(text) if text.isdigit() else 1
    worklist = selectors.worklist_for_user(
        request.user,
        today=now.date(),
        now=now,
        pages=pages,
        site=narrowed.get("site"),
        search=narrowed.get("q") or "",
        sites=sites,
        study=narrowed.get("study"),
    )
    query = request.GET.copy()
    for key in selectors.WORKLIST_SECTIONS:
        query.pop(f"page_{key}", None)
    return {
        "worklist": worklist,
        "today": now.date(),
        "worklist_filters": filters,
        "worklist_query": query.urlencode(),
        "worklist_filtered": bool(
            narrowed.get("site") or narrowed.get("q") or narrowed.get("study")
        ),
        "worklist_studies": filters.several_studies,
    }


def error_summary(form: Any) -> list[tuple[str, str, str]]:
    """Return (anchor, label, message) of every problem of a form, page-wide ones first."""
    rows = [("", "", str(message)) for message in form.non_field_errors()]
    for name, problems in form.errors.items():
        if name == "__all__":
            continue
        field = form[name]
        anchor = field.auto_id
        if getattr(field.field.widget, "input_type", "") == "radio":
            anchor = f"{anchor}_0"
        rows += [(anchor, str(field.label), str(message)) for message in problems]
    return rows


def form_value(form: CallEntryForm, name: str) -> int | None:
    """Return the integer a form shows for a field (posted or initial), or None."""
    value = form[name].value()
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def call_context(call: FollowUpCall, form: CallEntryForm, **extra: Any) -> dict[str, Any]:
    """Return what the call's page shows of a call and its form; ``extra`` goes along."""
    scores = live_scores({name: form_value(form, name) for name in QUESTIONNAIRE_FIELDS})
    attempts = list(call.attempts.select_related("by").order_by("attempted_at"))
    return {
        "call": call,
        "patient": call.patient,
        "form": form,
        "scores": scores,
        "attempts": attempts,
        "failed_attempts": sum(a.outcome in voc.FAILED_ATTEMPT_OUTCOMES for a in attempts),
        "attempts_to_miss": settings.CALL_FAILED_ATTEMPTS_TO_MISS,
        "call_now": call.is_open and call.patient.is_call_time(timezone.localtime()),
        "administrations": list(
            call.patient.administrations.filter(voided_at__isnull=True).order_by("date")
        ),
        "reason_needed": call.status == "reached",
        "lock": call.patient.current_lock(),
        "error_summary": error_summary(form),
        "error_count": sum(len(problems) for problems in form.errors.values()),
        # Asked about while the call is still to make; a completed call keeps its own record.
        "open_effects": selectors.open_effects_before(call) if call.is_open else [],
        "outcome_choices": choices_of(voc.AE_OUTCOMES),
        **extra,
    }


def choices_of(vocabulary: voc.Vocabulary) -> list[tuple[str, str]]:
    """Return a vocabulary's choices, labels translated."""
    return [(code, _(text)) for code, text in vocabulary]


def call_page(
    request: HttpRequest, call: FollowUpCall, *, status: int = 200, **extra: Any
) -> HttpResponse:
    """Render a call's page as first opened; ``extra`` goes to the template (a kept question)."""
    previous = selectors.previous_treatments(call)
    form = CallEntryForm(initial=call_initial(call, previous), language=get_language())
    hide_free_text(form, request.user)
    context = call_context(call, form, **extra)
    return render(request, "followup/followupcall_entry.html", context, status=status)
