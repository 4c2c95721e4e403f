"""Safety through the API: the full adverse-effect record, alerts scoped to the site, the
clinician's acknowledgement, the outcome followed at a later call."""

import pytest

from accounts.roles import Role
from followup.models import AdverseEvent
from safety.models import SafetyAlert
from tests.factories import make_user
from tests.followup.test_questionnaire_validation import VALID

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("on_the_day_of_m1")]

SERIOUS = {
    "type": "dissociation_hallucination",
    "severity": "severe",
    "serious": True,
    "criteria": ["life_threatening"],
    "start_date": "2026-02-03",
}


@pytest.fixture
def clinician_site_b(site_b):
    return make_user("clinician_b", Role.CLINICIAN, [site_b])


def _put(client, call, effects):
    return client.put(
        f"/api/v1/calls/{call.pk}/questionnaires/",
        {
            **VALID,
            "version": call.version,
            "complete": True,
            "call_date": "2026-02-05",
            "adverse_events": effects,
        },
        format="json",
    )


def test_a_serious_effect_without_criterion_is_a_400_and_nothing_is_stored(api, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    response = _put(api("nurse_site_a"), call, [{**SERIOUS, "criteria": []}])
    assert response.status_code == 400
    assert "criteria" in str(response.json())
    assert not AdverseEvent.objects.exists()
    assert not SafetyAlert.objects.exists()


def test_the_record_is_read_back_with_its_new_keys(api, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    response = _put(api("nurse_site_a"), call, [SERIOUS])
    assert response.status_code == 200, response.content
    effect = response.json()["adverse_events"][0]
    assert effect["criteria"] == ["life_threatening"]
    assert (effect["outcome"], effect["expected"], effect["start_date"]) == (
        "not_recovered",
        True,
        "2026-02-03",
    )
    # The keys clients had keep their place and meaning.
    assert {"type", "severity", "serious", "start_date", "other_text"} <= effect.keys()


def test_alerts_are_scoped_to_the_clinicians_site_and_acknowledged_once(
    api, patient_a, clinician_site_a, clinician_site_b
):
    _put(api("nurse_site_a"), patient_a.calls.get(timepoint="M1"), [SERIOUS])
    alert = SafetyAlert.objects.get()
    assert api("clinician_site_b").get("/api/v1/safety-alerts/").json()["count"] == 0
    other = api("clinician_site_b").post(
        f"/api/v1/safety-alerts/{alert.pk}/acknowledge/",
        {"relation": "possible", "action_taken": "none", "assessment": "Seen"},
        format="json",
    )
    assert other.status_code == 404
    assert api("nurse_site_a").get("/api/v1/safety-alerts/").status_code == 403
    assert api("statistician").get("/api/v1/safety-alerts/").status_code == 403
    mine = api("clinician_site_a")
    rows = mine.get("/api/v1/safety-alerts/", {"open": "1"}).json()["results"]
    assert [(r["study_code"], r["reason"]) for r in rows] == [(patient_a.study_code, "serious")]
    refused = mine.post(
        f"/api/v1/safety-alerts/{alert.pk}/acknowledge/", {"relation": "possible"}, format="json"
    )
    assert refused.status_code == 400
    assert "assessment" in refused.json()
    done = mine.post(
        f"/api/v1/safety-alerts/{alert.pk}/acknowledge/",
        {"relation": "probable", "action_taken": "withdrawn", "assessment": "Ketamine stopped."},
        format="json",
    )
    assert done.status_code == 200, done.content
    assert (done.json()["relation"], done.json()["acknowledged_by"]) == ("probable", "clinician_a")
    again = mine.post(
        f"/api/v1/safety-alerts/{alert.pk}/acknowledge/",
        {"relation": "probable", "action_taken": "withdrawn", "assessment": "Twice"},
        format="json",
    )
    assert again.status_code == 400
    assert api("data_manager").get("/api/v1/safety-alerts/").json()["count"] == 1


def test_the_outcome_is_followed_up_through_the_api(api, patient_a):
    _put(api("nurse_site_a"), patient_a.calls.get(timepoint="M1"), [SERIOUS])
    effect = AdverseEvent.objects.get()
    url = f"/api/v1/adverse-events/{effect.pk}/follow-up/"
    refused = api("nurse_site_a").post(url, {"resolution_date": "2026-02-04"}, format="json")
    assert refused.status_code == 400
    assert "resolution_date" in refused.json()
    assert api("statistician").post(url, {"outcome": "recovered"}, format="json").status_code == 403
    assert api("nurse_site_b").post(url, {"outcome": "recovered"}, format="json").status_code == 404
    done = api("nurse_site_a").post(
        url, {"outcome": "recovered", "resolution_date": "2026-02-04"}, format="json"
    )
    assert done.status_code == 200, done.content
    assert (done.json()["outcome"], done.json()["resolution_date"]) == ("recovered", "2026-02-04")
