"""Pages of the follow-up: the nurses' worklist, the call entry page, the clinicians' review."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import DATA_ENTRY_ROLES, role_required
from accounts.identifiers import sees_identifiers
from accounts.roles import Role
from cohort import vocabulary as voc
from cohort.free_text import hide_free_text
from cohort.services import patient_set_status
from config.saves import SaveRefused, database_save, form_add_errors
from followup import audit, selectors, services
from followup.forms import (
    CallEntryForm,
    DismissProposalForm,
    MarkLostForm,
    call_initial,
)
from followup.models import FollowUpCall
from followup.pages import (
    WORKLIST_ROLES,
    call_context,
    call_page,
    has_worklist,
    worklist_context,
)
from followup.validators import QUESTIONNAIRE_FIELDS, live_scores

UNREACHED_OUTCOMES = frozenset(voc.codes(voc.ATTEMPT_OUTCOMES)) - {"reached"}


def _get_call_for_user(user: Any, pk: int) -> FollowUpCall:
    """Return a call of the user's sites, or 404 (other sites' calls do not exist for them)."""
    calls = selectors.calls_for_user(user).select_related(
        "patient__contact", "nprs", "hads", "sf12"
    )
    return get_object_or_404(calls, pk=pk)


@role_required(*WORKLIST_ROLES)
def worklist(request: HttpRequest) -> HttpResponse:
    """List the calls to make, most urgent first."""
    return render(request, "followup/followupcall_worklist.html", worklist_context(request))


@require_POST
@role_required(*DATA_ENTRY_ROLES)
def effect_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    """Record at a later call how an earlier adverse effect went: its outcome and resolution.

    The page of the call being made (``call``) is shown again; a refused update keeps the input.
    """
    effect = get_object_or_404(selectors.adverse_events_for_user(request.user), pk=pk)
    call_pk = request.POST.get("call", "")
    call = _get_call_for_user(request.user, int(call_pk)) if call_pk.isdigit() else effect.call
    if call.patient_id != effect.call.patient_id:
        raise Http404
    outcome = request.POST.get("outcome", "")
    text = request.POST.get("resolution_date", "").strip()
    values: dict[str, Any] = {"outcome": outcome}
    errors: dict[str, str] = {}
    try:
        values["resolution_date"] = dt.date.fromisoformat(text) if text else None
    except ValueError:
        errors["resolution_date"] = _("Enter a valid date.")
    if outcome not in voc.codes(voc.AE_OUTCOMES):
        errors["outcome"] = _("Choose how the effect went.")
    if not errors:
        try:
            with database_save(request):
                services.adverse_event_update(
                    adverse_event=effect,
                    values=values,
                    by=request.user,
                    reason=f"Followed up at the {call.timepoint} call",
                )
        except SaveRefused as refused:
            return call_page(request, call, status=refused.status)
        except ValidationError as exc:
            problems = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            errors = {k: " ".join(v) for k, v in problems.items()}
    if errors:
        kept = {"pk": effect.pk, "outcome": outcome, "resolution_date": text, "errors": errors}
        return call_page(request, call, status=400, effect_input=kept)
    messages.success(
        request,
        _("%(effect)s: outcome recorded (%(outcome)s).")
        % {"effect": effect.label(), "outcome": _(voc.label(voc.AE_OUTCOMES, outcome))},
    )
    return redirect("followup:call_entry", pk=call.pk)


@role_required(*DATA_ENTRY_ROLES)
def call_entry(request: HttpRequest, pk: int) -> HttpResponse:
    """Enter a call: log an unreached attempt, save a draft, or complete it."""
    call = _get_call_for_user(request.user, pk)
    if request.method != "POST":
        return call_page(request, call)
    action = request.POST.get("action", "draft")
    outcome = request.POST.get("outcome", "")
    completing = action == "save" and (outcome == "reached" or call.is_baseline)
    initial = call_initial(call, selectors.previous_treatments(call))
    form = CallEntryForm(
        request.POST, complete=completing, language=get_language(), initial=initial
    )
    hide_free_text(form, request.user)
    status = 200
    if form.is_valid() and outcome in UNREACHED_OUTCOMES:
        _refuse_answers_without_the_patient(form, action=action)
    if form.is_valid():
        try:
            with database_save(request):
                return _save_call(request, call, form, action=action, outcome=outcome)
        except SaveRefused as refused:
            status = refused.status
            call = _get_call_for_user(request.user, pk)  # as saved, not as half-changed
        except services.StaleCallError as exc:
            form.add_error(None, str(exc))
            status = 409
        except ValidationError as exc:
            form_add_errors(form, exc)
            status = 400
    else:
        status = 400
    return render(
        request, "followup/followupcall_entry.html", call_context(call, form), status=status
    )


def _back_from_call(request: HttpRequest, call: FollowUpCall) -> HttpResponse:
    """Go back to where the user came from to a call: the worklist, else the patient's file."""
    if has_worklist(request.user):
        return redirect("followup:worklist")
    return redirect("cohort:patient_detail", pk=call.patient_id)


# What an unreached attempt logs; every other input of the page goes with a reached call.
ATTEMPT_FIELDS = frozenset({"outcome", "note", "version"})


def _refuse_answers_without_the_patient(form: CallEntryForm, *, action: str) -> None:
    """Refuse what an unreached attempt would not store: each answer changed, or the draft.

    Only what differs from the page as it was shown counts (the treatments of the last call
    are shown ticked).
    """
    if action == "draft":
        form.add_error(
            "outcome",
            _(
                "A draft keeps the answers of a reached call: choose Reached, or log this "
                "attempt with the main button."
            ),
        )
        return
    for name in form.changed_data:
        if name == "call_date" and not form.cleaned_data.get(name):
            continue  # the day shown is today's: an empty one says nothing
        if name not in ATTEMPT_FIELDS and name in form.fields:
            form.add_error(
                name,
                _(
                    "The patient was not reached: this would not be saved. Clear it, or choose "
                    "Reached."
                ),
            )


def _save_call(
    request: HttpRequest, call: FollowUpCall, form: CallEntryForm, *, action: str, outcome: str
) -> HttpResponse:
    """Call the service the action asks for; raise the service's errors to the caller."""
    version = form.cleaned_data["version"]
    note = form.cleaned_data.get("note") or ""
    if action == "save" and outcome in UNREACHED_OUTCOMES:
        services.call_record_attempt(
            call=call, outcome=outcome, by=request.user, note=note, expected_version=version
        )
        call.refresh_from_db(fields=["status"])
        if call.status == voc.MISSED_CALL_STATUS:
            messages.warning(
                request,
                _(
                    "%(code)s %(timepoint)s: missed after %(n)s attempts without reaching the "
                    "patient. The next call stays on the worklist."
                )
                % {
                    "code": call.patient.study_code,
                    "timepoint": call.timepoint,
                    "n": settings.CALL_FAILED_ATTEMPTS_TO_MISS,
                },
            )
            return _back_from_call(request, call)
        label = dict(voc.ATTEMPT_OUTCOMES)[outcome]
        messages.info(
            request,
            _("%(code)s %(timepoint)s: attempt logged (%(outcome)s).")
            % {"code": call.patient.study_code, "timepoint": call.timepoint, "outcome": _(label)},
        )
        return _back_from_call(request, call)
    if action == "save" and outcome != "reached" and not call.is_baseline:
        raise ValidationError({"outcome": _("Choose the outcome of the call.")})
    complete = action == "save"
    services.call_save(
        call=call,
        data=form.questionnaire_data(),
        by=request.user,
        adverse_events=form.adverse_events(),
        treatments=form.treatments(),
        administration=form.administration(),
        expected_version=version,
        complete=complete,
        call_date=form.cleaned_data.get("call_date"),
        reason=form.cleaned_data.get("reason") or "",
        note=note,
    )
    if complete:
        messages.success(
            request,
            _("%(code)s %(timepoint)s: call completed.")
            % {"code": call.patient.study_code, "timepoint": call.timepoint},
        )
        if call.is_baseline:
            return redirect("cohort:patient_detail", pk=call.patient_id)
        return _back_from_call(request, call)
    messages.info(request, _("Draft saved."))
    return redirect("followup:call_entry", pk=call.pk)


@require_POST
@role_required(*DATA_ENTRY_ROLES)
def call_scores(request: HttpRequest, pk: int) -> HttpResponse:
    """Return the scores of the answers typed so far (the call page asks as items are answered).

    Sent after each answer. The scores come from the answers sent, nothing stored is read, so
    the check that the call is the user's is remembered by this process for a minute rather
    than asked of the database each time.
    """
    remembered = caches["process"]
    key = f"call-scores:{request.user.pk}:{pk}"
    if not remembered.get(key):
        if not selectors.calls_for_user(request.user).filter(pk=pk).exists():
            raise Http404("No such call.")
        remembered.set(key, True)
    data = {}
    for name in QUESTIONNAIRE_FIELDS:
        text = request.POST.get(name, "").strip()
        data[name] = int(text) if text.isdigit() else None
    return render(request, "followup/partials/call_scores.html", {"scores": live_scores(data)})


@require_POST
@role_required(Role.CLINICIAN)
def call_reviewed(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a flagged call as reviewed by the signed-in clinician."""
    call = _get_call_for_user(request.user, pk)
    try:
        services.call_mark_reviewed(call=call, by=request.user, note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("home")
    messages.success(
        request,
        _("%(code)s %(timepoint)s marked as reviewed.")
        % {"code": call.patient.study_code, "timepoint": call.timepoint},
    )
    return redirect("home")


@require_GET
@role_required(*DATA_ENTRY_ROLES, Role.STATISTICIAN)
def call_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the audit trail of one call (read only)."""
    call = _get_call_for_user(request.user, pk)
    entries = audit.call_trail(call, identifiers=sees_identifiers(request.user, call.patient))
    context = {
        "patient": call.patient,
        "call": call,
        "entries": entries,
        "title": _("History of the call %(timepoint)s") % {"timepoint": call.timepoint},
    }
    return render(request, "cohort/audit_trail.html", context)


def _proposal_forms(proposal: selectors.LostProposal, today: Any) -> dict[str, Any]:
    prefix = f"p{proposal.patient.pk}"
    return {
        "mark_lost": MarkLostForm(
            prefix=f"{prefix}-lost",
            initial={"date": today, "reason": proposal.suggested_reason()},
        ),
        "dismiss": DismissProposalForm(prefix=f"{prefix}-dismiss"),
    }


def _proposals_page(
    request: HttpRequest, *, bound: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """Render the proposals, with the forms of one patient bound when they have errors."""
    today = timezone.localdate()
    rows = []
    for proposal in selectors.lost_proposals_for_user(request.user):
        forms = _proposal_forms(proposal, today)
        if bound and bound["patient_pk"] == proposal.patient.pk:
            forms[bound["name"]] = bound["form"]
        rows.append((proposal, forms))
    context = {
        "rows": rows,
        "threshold": settings.LOST_TO_FOLLOW_UP_AFTER_MISSED,
        "attempts_to_miss": settings.CALL_FAILED_ATTEMPTS_TO_MISS,
    }
    return render(request, "followup/patient_lost_proposals.html", context, status=status)


def _get_proposal(user: Any, pk: int) -> selectors.LostProposal:
    """Return the proposal of a patient, or 404 when the patient is not proposed."""
    proposals = selectors.lost_proposals_for_user(user, patient_ids=[pk])
    if not proposals:
        raise Http404
    return proposals[0]


@require_GET
@role_required(Role.DATA_MANAGER)
def lost_proposal_list(request: HttpRequest) -> HttpResponse:
    """List the patients proposed as lost to follow-up after consecutive missed calls."""
    return _proposals_page(request)


@require_POST
@role_required(Role.DATA_MANAGER)
def lost_proposal_mark_lost(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a proposed patient lost to follow-up (closes the remaining calls)."""
    proposal = _get_proposal(request.user, pk)
    form = MarkLostForm(request.POST, prefix=f"p{pk}-lost")
    status = 400
    if form.is_valid():
        try:
            with database_save(request):
                patient_set_status(
                    patient=proposal.patient,
                    status="lost",
                    date=form.cleaned_data["date"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
        except ValidationError as exc:
            form_add_errors(form, exc, prefix="status_")
        except SaveRefused as refused:
            status = refused.status
        else:
            messages.success(
                request,
                _("%(code)s is lost to follow-up; the remaining calls are closed.")
                % {"code": proposal.patient.study_code},
            )
            return redirect("followup:lost_proposals")
    bound = {"patient_pk": pk, "name": "mark_lost", "form": form}
    return _proposals_page(request, bound=bound, status=status)


@require_POST
@role_required(Role.DATA_MANAGER)
def lost_proposal_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    """Keep a proposed patient in follow-up; a further missed call proposes them again."""
    proposal = _get_proposal(request.user, pk)
    form = DismissProposalForm(request.POST, prefix=f"p{pk}-dismiss")
    status = 400
    if form.is_valid():
        try:
            with database_save(request):
                services.lost_proposal_dismiss(
                    patient=proposal.patient,
                    last_missed_call=proposal.last_missed_call,
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
        except ValidationError as exc:
            form_add_errors(form, exc)
        except SaveRefused as refused:
            status = refused.status
        else:
            messages.success(
                request,
                _("%(code)s stays in follow-up.") % {"code": proposal.patient.study_code},
            )
            return redirect("followup:lost_proposals")
    bound = {"patient_pk": pk, "name": "dismiss", "form": form}
    return _proposals_page(request, bound=bound, status=status)
