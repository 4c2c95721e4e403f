"""Consecutive missed calls propose a patient as lost to follow-up to the data managers."""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cohort.services import patient_set_status
from followup.missed import is_proposed, missed_streak
from followup.models import LostProposalDismissal
from followup.selectors import lost_proposals_for_user
from followup.services import call_record_attempt, lost_proposal_dismiss, questionnaires_save
from tests.factories import enrol
from tests.followup.test_questionnaire_validation import VALID


@dataclass
class Call:
    sequence: int
    status: str


def _calls(*statuses):
    return [Call(sequence=n, status=status) for n, status in enumerate(statuses, start=1)]


def test_the_streak_is_the_run_of_missed_calls_that_ends_the_settled_calls():
    calls = _calls("reached", "unreachable", "unreachable", "due")
    assert [c.sequence for c in missed_streak(calls)] == [2, 3]


def test_a_reached_call_resets_the_streak():
    assert missed_streak(_calls("unreachable", "unreachable", "reached")) == []
    assert len(missed_streak(_calls("unreachable", "reached", "unreachable"))) == 1


def test_calls_still_due_neither_break_nor_extend_the_streak():
    calls = _calls("unreachable", "due", "unreachable", "unreachable", "due")
    assert [c.sequence for c in missed_streak(calls)] == [1, 3, 4]


def test_a_refused_call_breaks_the_streak():
    calls = _calls("unreachable", "refused", "unreachable")
    assert [c.sequence for c in missed_streak(calls)] == [3]


def test_a_streak_proposes_from_the_threshold_and_again_only_after_a_dismissed_call():
    streak = _calls("unreachable", "unreachable", "unreachable")
    assert is_proposed(streak, threshold=3, dismissed_through=None)
    assert not is_proposed(streak[:2], threshold=3, dismissed_through=None)
    assert not is_proposed(streak, threshold=3, dismissed_through=3)
    assert is_proposed(streak, threshold=3, dismissed_through=2)


# With the database: one failed attempt marks a call missed in these tests.


@pytest.fixture
def one_attempt_misses(settings):
    settings.CALL_FAILED_ATTEMPTS_TO_MISS = 1
    settings.LOST_TO_FOLLOW_UP_AFTER_MISSED = 3


def _miss(patient, by, *timepoints):
    for timepoint in timepoints:
        call_record_attempt(call=patient.calls.get(timepoint=timepoint), outcome="no_answer", by=by)


def _reach(patient, by, timepoint):
    call = patient.calls.get(timepoint=timepoint)
    questionnaires_save(call=call, data=VALID, by=by, complete=True, call_date=call.target_date)


@pytest.mark.django_db
def test_three_consecutive_missed_calls_propose_the_patient(
    one_attempt_misses, patient_a, patient_b, nurse_site_a, nurse_site_b, data_manager
):
    _miss(patient_a, nurse_site_a, "W1", "M1", "M2")
    _miss(patient_b, nurse_site_b, "W1", "M1")
    proposals = lost_proposals_for_user(data_manager)
    assert [p.patient for p in proposals] == [patient_a]
    assert [c.timepoint for c in proposals[0].missed_calls] == ["W1", "M1", "M2"]
    assert [c.failed_attempts for c in proposals[0].missed_calls] == [1, 1, 1]
    assert proposals[0].suggested_reason() == "Not reached at 3 consecutive calls (W1, M1, M2)"
    # Scoped like every selector: site staff would see only their own sites' proposals.
    assert lost_proposals_for_user(nurse_site_b) == []


@pytest.mark.django_db
def test_a_reached_call_between_missed_calls_resets_the_count(
    one_attempt_misses, patient_a, nurse_site_a, data_manager
):
    _miss(patient_a, nurse_site_a, "W1", "M1")
    _reach(patient_a, nurse_site_a, "M2")
    _miss(patient_a, nurse_site_a, "M3", "M4")
    assert lost_proposals_for_user(data_manager) == []
    _miss(patient_a, nurse_site_a, "M5")
    assert [c.timepoint for c in lost_proposals_for_user(data_manager)[0].missed_calls] == [
        "M3",
        "M4",
        "M5",
    ]


@pytest.mark.django_db
def test_a_patient_no_longer_followed_is_not_proposed(
    one_attempt_misses, patient_a, nurse_site_a, data_manager
):
    _miss(patient_a, nurse_site_a, "W1", "M1", "M2")
    patient_set_status(
        patient=patient_a, status="withdrawn", date=dt.date(2026, 4, 1), reason="Moved", by=None
    )
    assert lost_proposals_for_user(data_manager) == []


@pytest.mark.django_db
def test_a_dismissed_patient_is_proposed_again_only_after_a_further_missed_call(
    one_attempt_misses, patient_a, nurse_site_a, data_manager
):
    _miss(patient_a, nurse_site_a, "W1", "M1", "M2")
    proposal = lost_proposals_for_user(data_manager)[0]
    dismissal = lost_proposal_dismiss(
        patient=patient_a,
        last_missed_call=proposal.last_missed_call,
        reason="In hospital for surgery, the family called",
        by=data_manager,
    )
    assert (dismissal.by, dismissal.last_missed_call.timepoint) == (data_manager, "M2")
    assert dismissal.history.first().history_user == data_manager
    assert lost_proposals_for_user(data_manager) == []
    _miss(patient_a, nurse_site_a, "M3")
    assert [c.timepoint for c in lost_proposals_for_user(data_manager)[0].missed_calls] == [
        "W1",
        "M1",
        "M2",
        "M3",
    ]


@pytest.mark.django_db
def test_a_dismissal_needs_a_reason_and_a_missed_call_of_the_patient(
    one_attempt_misses, patient_a, patient_b, nurse_site_a, data_manager
):
    _miss(patient_a, nurse_site_a, "W1", "M1", "M2")
    missed = lost_proposals_for_user(data_manager)[0].last_missed_call
    with pytest.raises(ValidationError) as caught:
        lost_proposal_dismiss(patient=patient_a, last_missed_call=missed, reason=" ", by=None)
    assert "reason" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        lost_proposal_dismiss(
            patient=patient_b, last_missed_call=missed, reason="Keep", by=data_manager
        )
    assert "last_missed_call" in caught.value.message_dict
    assert not LostProposalDismissal.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("patients", [1, 6])
def test_proposals_take_two_queries_whatever_the_cohort_size(
    one_attempt_misses, django_assert_num_queries, site_a, nurse_site_a, data_manager, patients
):
    for n in range(patients):
        _miss(enrol(site_a, by=nurse_site_a, last_name=f"P{n}"), nurse_site_a, "W1", "M1", "M2")
    assert not data_manager.is_site_scoped  # every site (the role is read once per request)
    with django_assert_num_queries(2):
        proposals = lost_proposals_for_user(data_manager)
    assert len(proposals) == patients


# Pages.


@pytest.fixture
def proposed(one_attempt_misses, patient_a, nurse_site_a):
    _miss(patient_a, nurse_site_a, "W1", "M1", "M2")
    return patient_a


@pytest.mark.django_db
def test_data_manager_home_counts_the_proposals_and_links_to_them(client, data_manager, proposed):
    client.force_login(data_manager)
    page = client.get(reverse("home")).content.decode()
    assert "1 patient has missed several calls in a row." in page
    assert reverse("followup:lost_proposals") in page


@pytest.mark.django_db
def test_data_manager_sees_every_site_proposals_with_missed_calls_and_attempts(
    client, data_manager, proposed, patient_b, nurse_site_b
):
    _miss(patient_b, nurse_site_b, "W1", "M1", "M2")
    client.force_login(data_manager)
    response = client.get(reverse("followup:lost_proposals"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "SA-0001" in page
    assert "SB-0001" in page
    assert "Centre de la douleur A" in page
    assert page.count("<td>Month 1</td>") == 2
    assert "Not reached at 3 consecutive calls (W1, M1, M2)" in page
    # Data managers see no identifiers.
    assert "Martin" not in page
    assert "Durand" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["nurse_site_a", "clinician_site_a", "statistician"])
def test_other_roles_get_403_on_the_proposals(client, request, persona, proposed):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("followup:lost_proposals")).status_code == 403
    url = reverse("followup:lost_proposal_dismiss", args=[proposed.pk])
    assert client.post(url, {f"p{proposed.pk}-dismiss-reason": "No"}).status_code == 403


@pytest.mark.django_db
def test_marking_a_proposed_patient_lost_closes_the_remaining_calls(client, data_manager, proposed):
    client.force_login(data_manager)
    prefix = f"p{proposed.pk}-lost"
    response = client.post(
        reverse("followup:lost_proposal_mark_lost", args=[proposed.pk]),
        {f"{prefix}-date": "2026-04-10", f"{prefix}-reason": "Not reached at 3 calls"},
    )
    assert response.status_code == 302
    proposed.refresh_from_db()
    assert (proposed.status, proposed.status_date) == ("lost", dt.date(2026, 4, 10))
    assert proposed.history.first().history_user == data_manager
    assert not proposed.calls.filter(status="due").exists()
    assert lost_proposals_for_user(data_manager) == []


@pytest.mark.django_db
def test_marking_lost_without_a_reason_is_refused_and_changes_nothing(
    client, data_manager, proposed
):
    client.force_login(data_manager)
    prefix = f"p{proposed.pk}-lost"
    response = client.post(
        reverse("followup:lost_proposal_mark_lost", args=[proposed.pk]),
        {f"{prefix}-date": "2026-04-10", f"{prefix}-reason": ""},
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    proposed.refresh_from_db()
    assert proposed.status == "active"


@pytest.mark.django_db
def test_dismissing_records_who_when_and_why_and_removes_the_proposal(
    client, data_manager, proposed
):
    client.force_login(data_manager)
    response = client.post(
        reverse("followup:lost_proposal_dismiss", args=[proposed.pk]),
        {f"p{proposed.pk}-dismiss-reason": "Abroad until May, the GP confirmed"},
    )
    assert response.status_code == 302
    dismissal = LostProposalDismissal.objects.get()
    assert (dismissal.patient, dismissal.by) == (proposed, data_manager)
    assert dismissal.reason == "Abroad until May, the GP confirmed"
    assert dismissal.dismissed_at is not None
    proposed.refresh_from_db()
    assert proposed.status == "active"
    assert (
        "No patient is proposed" in client.get(reverse("followup:lost_proposals")).content.decode()
    )


@pytest.mark.django_db
def test_a_patient_who_is_not_proposed_answers_404(client, data_manager, patient_a):
    client.force_login(data_manager)
    url = reverse("followup:lost_proposal_dismiss", args=[patient_a.pk])
    assert client.post(url, {f"p{patient_a.pk}-dismiss-reason": "Keep"}).status_code == 404
