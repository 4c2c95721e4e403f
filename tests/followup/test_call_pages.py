import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from followup.models import AdverseEvent, ConcomitantTreatment, HadsResponse
from followup.services import questionnaires_save
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _on_the_day_of_m1():
    with time_machine.travel(dt.datetime(2026, 2, 5, 10, 0, tzinfo=dt.UTC)):
        yield


def _post(call, **extra):
    data = {"version": call.version, "action": "save", "outcome": "reached"}
    data.update({k: "" if v is None else str(v) for k, v in VALID.items()})
    data["call_date"] = "2026-02-05"
    data.update(extra)
    return data


def test_nurse_completes_a_call_on_one_page(client, nurse_site_a, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    client.force_login(nurse_site_a)
    data = _post(
        call,
        ae_nausea="on",
        ae_nausea_severity="mild",
        ae_other="on",
        ae_other_severity="moderate",
        ae_other_serious="on",
        ae_other_criteria="other_important",
        ae_other_text="Palpitations",
        drug_antidepressant="on",
        drug_antidepressant_name="Duloxetine",
        nondrug_psychotherapy="on",
        admin_date="2026-02-02",
        admin_route="iv",
        admin_dose_unit="mg_per_kg",
        admin_dose_value="0.5",
        admin_days="2",
    )
    response = client.post(reverse("followup:call_entry", args=[call.pk]), data)
    assert response.status_code == 302
    assert response.url == reverse("followup:worklist")
    call.refresh_from_db()
    assert call.status == "reached"
    assert call.call_date == dt.date(2026, 2, 5)
    assert list(call.attempts.values_list("outcome", flat=True)) == ["reached"]
    assert HadsResponse.objects.get(call=call).depression == 7
    events = AdverseEvent.objects.filter(call=call).order_by("type")
    assert [(e.type, e.severity, e.serious) for e in events] == [
        ("nausea", "mild", False),
        ("other", "moderate", True),
    ]
    treatments = ConcomitantTreatment.objects.filter(call=call).order_by("kind")
    assert [(t.kind, t.code, t.name) for t in treatments] == [
        ("drug", "antidepressant", "Duloxetine"),
        ("non_drug", "psychotherapy", ""),
    ]
    assert patient_a.administrations.filter(date=dt.date(2026, 2, 2)).get().total_mg == 70


def test_unreached_attempt_is_logged_and_the_call_stays_due(client, nurse_site_a, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    client.force_login(nurse_site_a)
    data = {"version": call.version, "action": "save", "outcome": "voicemail", "note": "Left msg"}
    response = client.post(reverse("followup:call_entry", args=[call.pk]), data)
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.status == "due"
    assert list(call.attempts.values_list("outcome", "note")) == [("voicemail", "Left msg")]


def test_every_problem_is_listed_at_once_and_the_input_is_kept(client, nurse_site_a, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    client.force_login(nurse_site_a)
    data = _post(call, nprs_mean="8", nprs_max="5", hads_2="7", ae_fatigue="on")
    response = client.post(reverse("followup:call_entry", args=[call.pk]), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="error-summary"' in page
    summary = {anchor for anchor, _, _ in response.context["error_summary"]}
    assert {"id_nprs_max", "id_hads_2_0", "id_ae_fatigue_severity_0"} <= summary
    # What was typed is still there.
    assert 'name="nprs_mean" value="8"' in page
    assert 'name="sf12_gh1" value="3"' in page
    assert "checked" in page
    call.refresh_from_db()
    assert call.status == "due"
    assert call.version == 1


def test_a_draft_can_be_saved_with_missing_answers(client, nurse_site_a, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    client.force_login(nurse_site_a)
    data = {"version": call.version, "action": "draft", "hads_1": "2", "nprs_mean": ""}
    response = client.post(reverse("followup:call_entry", args=[call.pk]), data)
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.status == "due"
    assert call.version == 2
    page = client.get(reverse("followup:call_entry", args=[call.pk])).content.decode()
    assert 'name="hads_1" value="2" required id="id_hads_1_2" checked' in page or (
        'value="2"' in page and "checked" in page
    )


def test_second_editor_is_refused_and_keeps_their_input(client, nurse_site_a, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    stale_version = call.version
    questionnaires_save(call=call, data=VALID, by=nurse_site_a, expected_version=stale_version)
    client.force_login(nurse_site_a)
    data = _post(call, version=stale_version, nprs_mean="3", nprs_max="4")
    response = client.post(reverse("followup:call_entry", args=[call.pk]), data)
    assert response.status_code == 409
    page = response.content.decode()
    assert "changed by someone else" in page
    assert 'name="nprs_mean" value="3"' in page


def test_treatments_are_prefilled_from_the_last_call(client, nurse_site_a, patient_a):
    w1 = patient_a.calls.get(timepoint="W1")
    ConcomitantTreatment.objects.create(call=w1, kind="drug", code="antiepileptic", name="X")
    client.force_login(nurse_site_a)
    m1 = patient_a.calls.get(timepoint="M1")
    response = client.get(reverse("followup:call_entry", args=[m1.pk]))
    assert response.context["form"]["drug_antiepileptic"].value() is True
    assert response.context["form"]["drug_antiepileptic_name"].value() == "X"


def test_live_scores_endpoint_scores_the_items_answered(client, nurse_site_a, patient_a):
    call = patient_a.calls.get(timepoint="M1")
    client.force_login(nurse_site_a)
    items = {f"hads_{n}": "3" for n in range(2, 15, 2)}
    response = client.post(reverse("followup:call_scores", args=[call.pk]), items)
    assert response.status_code == 200
    assert response.context["scores"]["hads"].depression == 21
    assert response.context["scores"]["hads"].anxiety is None
    assert b"<strong>21</strong>" in response.content


def test_live_scores_check_the_call_once_per_minute(
    client, nurse_site_a, nurse_site_b, patient_a, django_assert_num_queries
):
    call = patient_a.calls.get(timepoint="M1")
    url = reverse("followup:call_scores", args=[call.pk])
    client.force_login(nurse_site_a)
    assert client.post(url, {"nprs_mean": "4"}).status_code == 200
    # The user, the roles and the call were read for the first answer; now none of them.
    with django_assert_num_queries(0):
        assert client.post(url, {"nprs_mean": "5"}).status_code == 200
    # What the process remembers is this user's right to this call, no one else's.
    client.force_login(nurse_site_b)
    assert client.post(url, {"nprs_mean": "5"}).status_code == 404


@pytest.mark.parametrize("name", ["followup:call_entry", "followup:call_scores"])
def test_nurse_of_other_site_gets_404(client, nurse_site_b, patient_a, name):
    call = patient_a.calls.get(timepoint="M1")
    client.force_login(nurse_site_b)
    response = client.post(reverse(name, args=[call.pk]), {"version": 1})
    assert response.status_code == 404
    assert client.get(reverse("followup:call_entry", args=[call.pk])).status_code == 404


def test_statistician_never_sees_names_or_phones(client, statistician, patient_a):
    client.force_login(statistician)
    call = patient_a.calls.get(timepoint="M1")
    assert client.get(reverse("followup:call_entry", args=[call.pk])).status_code == 403
    assert client.get(reverse("cohort:patient_detail", args=[patient_a.pk])).status_code == 403
    page = client.get(reverse("home")).content.decode()
    assert "Martin" not in page
    assert "MARTIN" not in page
    assert "73 00 00" not in page


def test_data_manager_enters_calls_without_seeing_identifiers(client, data_manager, patient_a):
    client.force_login(data_manager)
    call = patient_a.calls.get(timepoint="M1")
    page = client.get(reverse("followup:call_entry", args=[call.pk])).content.decode()
    assert "SA-0001" in page
    assert "MARTIN" not in page
    assert "73 00 00" not in page


def test_every_input_of_the_call_page_has_a_label(client, nurse_site_a, patient_a):
    from html.parser import HTMLParser

    class Inputs(HTMLParser):
        def __init__(self):
            super().__init__()
            self.ids, self.labelled, self.depth = [], set(), 0

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "label":
                self.depth += 1
                if attrs.get("for"):
                    self.labelled.add(attrs["for"])
            elif tag in {"input", "select", "textarea"} and attrs.get("type") != "hidden":
                self.ids.append(attrs.get("id"))
                if self.depth:
                    self.labelled.add(attrs.get("id"))

        def handle_endtag(self, tag):
            if tag == "label":
                self.depth -= 1

    client.force_login(nurse_site_a)
    call = patient_a.calls.get(timepoint="M1")
    parser = Inputs()
    parser.feed(client.get(reverse("followup:call_entry", args=[call.pk])).content.decode())
    assert len(parser.ids) > 100
    assert [i for i in parser.ids if i not in parser.labelled] == []
