"""One write path per entry point: a correction made on a page, by the API, in the administration
site or by the importer goes through the services, so each one answers the open query on the
value it changed, writes a history row with the author and the reason, and schedules a
re-analysis once committed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.exports import importer
from analytics.models import AnalysisRun
from cohort.models import KetamineAdministration, Patient
from cohort.services import administration_record
from followup.models import NprsResponse
from followup.services import adverse_event_record
from quality import services as quality
from safety.models import SafetyAlert
from tests.api.conftest import SignedInAPIClient
from tests.factories import SiteFactory, enrol, set_up
from tests.followup.test_questionnaire_validation import VALID
from tests.import_files import demo_import_files

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("on_the_day_of_m1")]

REASON = "Patient said 9, not 8"


@pytest.fixture
def query(m1, data_manager):
    """An open query on the M1 maximal pain (8)."""
    return quality.query_raise(
        target=m1, field="nprs_max", kind="inconsistent", text="Max 8?", by=data_manager
    )


def _reanalysis_scheduled() -> bool:
    return AnalysisRun.objects.filter(
        trigger=AnalysisRun.Trigger.DATA_CHANGE, status=AnalysisRun.Status.QUEUED
    ).exists()


def assert_corrected(query, *, row, field: str, value, user, reason: str = REASON) -> None:
    """The value changed, the query is answered by the user with the reason, the history row
    carries both, and a re-analysis is queued."""
    row.refresh_from_db()
    assert getattr(row, field) == value
    latest = row.history.latest("history_date")
    assert (latest.history_user, latest.history_change_reason) == (user, reason)
    query.refresh_from_db()
    assert query.state == "answered"
    answer = query.messages.last()
    assert (answer.action, answer.by) == ("correct", user)
    assert reason in answer.text
    assert _reanalysis_scheduled()


def _form_data(response) -> dict:
    """The values of an administration site's change form, as the browser would send them."""
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if name != "change_reason"}
    return {name: value for name, value in data.items() if value is not None}


def test_a_correction_on_the_call_page(
    client, query, m1, nurse_site_a, django_capture_on_commit_callbacks
):
    client.force_login(nurse_site_a)
    data = {
        "version": m1.version,
        "action": "save",
        "outcome": "reached",
        "call_date": "2026-02-05",
    }
    data |= {name: str(value) for name, value in VALID.items()}
    data |= {"nprs_max": "9", "reason": REASON}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("followup:call_entry", args=[m1.pk]), data)
    assert response.status_code == 302
    assert_corrected(query, row=m1.nprs, field="maximum", value=9, user=nurse_site_a)


def test_a_correction_by_the_api(query, m1, nurse_site_a, django_capture_on_commit_callbacks):
    client = SignedInAPIClient()
    client.force_login(nurse_site_a)
    body = {**VALID, "nprs_max": 9, "version": m1.version, "complete": True}
    body |= {"call_date": "2026-02-05", "reason": REASON}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.put(f"/api/v1/calls/{m1.pk}/questionnaires/", body, format="json")
    assert response.status_code == 200, response.content
    assert_corrected(query, row=m1.nprs, field="maximum", value=9, user=nurse_site_a)


def test_a_correction_of_answers_in_the_administration_site(
    client, query, m1, data_manager, django_capture_on_commit_callbacks
):
    client.force_login(data_manager)
    nprs = NprsResponse.objects.get(call=m1)
    url = reverse("admin:followup_nprsresponse_change", args=[nprs.pk])
    data = _form_data(client.get(url)) | {"maximum": "9", "change_reason": REASON}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert_corrected(query, row=nprs, field="maximum", value=9, user=data_manager)


def test_a_correction_of_the_patient_in_the_administration_site(
    client, patient_a, data_manager, django_capture_on_commit_callbacks
):
    on_dn4 = quality.query_raise(
        target=patient_a, field="dn4", kind="out_of_range", text="DN4 5?", by=data_manager
    )
    client.force_login(data_manager)
    url = reverse("admin:cohort_patient_change", args=[patient_a.pk])
    data = _form_data(client.get(url)) | {"dn4": "6", "change_reason": REASON}
    data |= {"administrations-TOTAL_FORMS": "0", "administrations-INITIAL_FORMS": "0"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert_corrected(on_dn4, row=patient_a, field="dn4", value=6, user=data_manager)


def test_the_administration_site_refuses_what_the_service_refuses(client, patient_a, data_manager):
    client.force_login(data_manager)
    url = reverse("admin:cohort_patient_change", args=[patient_a.pk])
    # Six months of pain: the model allows it, enrolment's eligibility does not.
    data = _form_data(client.get(url)) | {"pain_duration_months": "6", "change_reason": "Typo"}
    data |= {"administrations-TOTAL_FORMS": "0", "administrations-INITIAL_FORMS": "0"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "pain_duration_months" in response.context["adminform"].form.errors
    patient_a.refresh_from_db()
    assert patient_a.pain_duration_months == 24
    assert not _reanalysis_scheduled()


def test_the_rows_written_only_at_the_call_are_read_only_in_the_administration_site(
    client, m1, data_manager
):
    client.force_login(data_manager)
    for name, pk in (("followupcall", m1.pk), ("callattempt", m1.attempts.get().pk)):
        url = reverse(f"admin:followup_{name}_change", args=[pk])
        assert client.get(url).status_code == 200
        assert client.post(url, {"status": "due", "change_reason": "x"}).status_code == 403


def test_an_import_writes_through_the_services(
    tmp_path, data_manager, django_capture_on_commit_callbacks
):
    data, administrations = demo_import_files(
        tmp_path, 3, seed=21, names=("cohort.csv", "administrations.csv")
    )
    with django_capture_on_commit_callbacks(execute=True):
        importer.dataset_import(path=data, administrations=administrations, by=data_manager)
    reason = "Imported from cohort.csv"
    patient = Patient.objects.first()
    assert (patient.history.get().history_user, patient.history.get().history_change_reason) == (
        data_manager,
        reason,
    )
    administration = KetamineAdministration.objects.filter(patient=patient).first()
    assert administration.history.get().history_change_reason == reason
    assert not hasattr(patient, "contact") or patient.contact is None
    assert _reanalysis_scheduled()


def test_an_administration_corrected_in_the_administration_site_moves_the_open_calls(
    client, patient_a, nurse_site_a, data_manager, django_capture_on_commit_callbacks
):
    with set_up():
        first = administration_record(
            patient=patient_a,
            date=dt.date(2026, 1, 5),
            route="iv",
            dose_unit="mg",
            dose_value=Decimal("50"),
            by=nurse_site_a,
        )
    client.force_login(data_manager)
    url = reverse("admin:cohort_ketamineadministration_change", args=[first.pk])
    data = _form_data(client.get(url)) | {"date": "2026-01-07", "change_reason": REASON}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    latest = first.history.latest("history_date")
    assert (latest.date, latest.history_user, latest.history_change_reason) == (
        dt.date(2026, 1, 7),
        data_manager,
        REASON,
    )
    assert patient_a.calls.get(timepoint="W1").target_date == dt.date(2026, 1, 14)
    assert _reanalysis_scheduled()


def test_an_adverse_effect_made_severe_in_the_administration_site_raises_its_alert(
    client, m1, nurse_site_a, data_manager
):
    effect = adverse_event_record(
        call=m1, values={"type": "nausea", "severity": "mild"}, by=nurse_site_a
    )
    assert not SafetyAlert.objects.exists()
    client.force_login(data_manager)
    url = reverse("admin:followup_adverseevent_change", args=[effect.pk])
    data = _form_data(client.get(url)) | {"severity": "severe", "change_reason": REASON}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    alert = SafetyAlert.objects.get()
    assert (alert.adverse_event, alert.reason) == (effect, "severe")
    latest = effect.history.latest("history_date")
    assert (latest.history_user, latest.history_change_reason) == (data_manager, REASON)


@pytest.mark.parametrize("entry", ["page", "api"])
def test_a_madrs_corrected_on_its_page_or_by_the_api_is_traced_and_reanalysed(
    entry, client, lan_study, nurse_site_a, django_capture_on_commit_callbacks
):
    from followup.models import MadrsAssessment
    from followup.services import assessment_record
    from tests.followup.test_assessments import BASELINE, MADRS_VISITS

    # A patient of the second study, which rates the MADRS.
    site = SiteFactory(code="SL", name="Psychiatry L", study=lan_study)
    nurse_site_a.sites.add(site)
    with set_up():
        patient_a = enrol(site, by=nurse_site_a)
        row = assessment_record(
            model=MadrsAssessment, patient=patient_a, visit_code="BL",
            assessed_on=dt.date(2026, 2, 2), data=BASELINE | {"rater": "JD"},
            allowed_visits=MADRS_VISITS, by=nurse_site_a,
        )  # fmt: skip
    AnalysisRun.objects.all().delete()
    body = {"assessed_on": "2026-02-02", "rater": "JD", "version": 1, "reason": REASON}
    body |= BASELINE | {"madrs_1": 6}
    client.force_login(nurse_site_a)
    with django_capture_on_commit_callbacks(execute=True):
        if entry == "page":
            url = reverse("followup:assessment_entry", args=[patient_a.pk, "madrs", "BL"])
            response = client.post(url, {k: str(v) for k, v in body.items()})
            assert response.status_code == 302
        else:
            api = SignedInAPIClient()
            api.force_login(nurse_site_a)
            response = api.put(f"/api/v1/madrs/{row.pk}/", body, format="json")
            assert response.status_code == 200, response.content
    row.refresh_from_db()
    assert (row.item_1, row.total) == (6, 34)
    latest = row.history.latest("history_date")
    assert (latest.history_user, latest.history_change_reason) == (nurse_site_a, REASON)
    assert _reanalysis_scheduled()
    history = client.get(reverse("cohort:patient_history", args=[patient_a.pk]))
    assert "MADRS" in history.content.decode()
    assert REASON in history.content.decode()
