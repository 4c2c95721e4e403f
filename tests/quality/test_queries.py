import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cohort.services import administration_record
from followup.services import call_save
from quality import services
from quality.models import Query
from quality.receivers import queries_answer_after_change
from tests.followup.test_questionnaire_validation import VALID

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("on_the_day_of_m1")]


@pytest.fixture
def query(m1, data_manager):
    return services.query_raise(
        target=m1, field="nprs_max", kind="inconsistent", text="Max 8 with mean 6?", by=data_manager
    )


def _actions(query):
    return list(query.messages.values_list("action", "state"))


def test_data_manager_raises_a_query_on_a_call_value(query, m1, data_manager):
    assert query.state == "open"
    assert (query.patient, query.call, query.field) == (m1.patient, m1, "nprs_max")
    assert query.value_at_raise == "8"
    assert _actions(query) == [("raise", "open")]
    assert query.messages.get().by == data_manager


def test_queries_on_patient_and_administration_values_belong_to_the_patient(
    patient_a, nurse_site_a, data_manager
):
    on_dn4 = services.query_raise(
        target=patient_a, field="dn4", kind="out_of_range", text="DN4 5?", by=data_manager
    )
    administration = administration_record(
        patient=patient_a,
        date=dt.date(2026, 1, 5),
        route="iv",
        dose_unit="mg",
        dose_value=Decimal("50"),
        by=nurse_site_a,
    )
    on_dose = services.query_raise(
        target=administration, field="dose_value", kind="other", text="Dose?", by=data_manager
    )
    assert (on_dn4.patient, on_dn4.call, on_dn4.value_at_raise) == (patient_a, None, "5")
    assert (on_dose.patient, on_dose.call) == (patient_a, None)
    assert on_dose.value_at_raise == str(administration.dose_value)


def test_only_data_managers_raise_queries(m1, nurse_site_a, clinician_site_a, statistician):
    for user in (nurse_site_a, clinician_site_a, statistician):
        with pytest.raises(PermissionDenied):
            services.query_raise(target=m1, field="nprs_max", kind="other", text="?", by=user)


def test_a_query_needs_a_queryable_field_and_a_question(m1, data_manager):
    with pytest.raises(ValidationError):
        services.query_raise(target=m1, field="version", kind="other", text="?", by=data_manager)
    with pytest.raises(ValidationError):
        services.query_raise(target=m1, field="nprs_max", kind="other", text=" ", by=data_manager)


def test_nurse_of_the_site_answers_then_data_manager_closes(query, nurse_site_a, data_manager):
    services.query_answer(
        query=query, text="Checked with the patient: 8 is right.", by=nurse_site_a
    )
    services.query_close(query=query, by=data_manager)
    query.refresh_from_db()
    assert query.state == "closed"
    assert _actions(query) == [("raise", "open"), ("answer", "answered"), ("close", "closed")]


def test_data_manager_reopens_an_answered_query_and_it_can_be_answered_again(
    query, nurse_site_a, clinician_site_a, data_manager
):
    services.query_answer(query=query, text="Yes", by=nurse_site_a)
    services.query_reopen(query=query, by=data_manager, text="Please check the source form.")
    services.query_answer(query=query, text="Source form says 8.", by=clinician_site_a)
    services.query_close(query=query, by=data_manager)
    services.query_reopen(query=query, by=data_manager, text="Monitor disagrees.")
    query.refresh_from_db()
    assert query.state == "open"
    assert [state for _action, state in _actions(query)] == [
        "open",
        "answered",
        "open",
        "answered",
        "closed",
        "open",
    ]


def test_transitions_out_of_order_are_refused(query, nurse_site_a, data_manager):
    with pytest.raises(ValidationError):
        services.query_reopen(query=query, by=data_manager, text="Open already")
    services.query_close(query=query, by=data_manager)
    with pytest.raises(ValidationError):
        services.query_answer(query=query, text="Too late", by=nurse_site_a)
    with pytest.raises(ValidationError):
        services.query_close(query=query, by=data_manager)


def test_only_the_sites_staff_answer_and_only_data_managers_close(
    query, nurse_site_b, statistician, data_manager, nurse_site_a
):
    for user in (nurse_site_b, statistician, data_manager):
        with pytest.raises(PermissionDenied):
            services.query_answer(query=query, text="Answer", by=user)
    for user in (nurse_site_a, statistician):
        with pytest.raises(PermissionDenied):
            services.query_close(query=query, by=user)
        with pytest.raises(PermissionDenied):
            services.query_reopen(query=query, by=user, text="x")


def test_a_correction_through_the_call_service_answers_the_query(query, m1, nurse_site_a):
    data = {**VALID, "nprs_max": 9}
    call_save(call=m1, data=data, by=nurse_site_a, reason="Misheard: 9 not 8")
    query.refresh_from_db()
    assert query.state == "answered"
    last = query.messages.last()
    assert (last.action, last.by) == ("correct", nurse_site_a)
    assert last.text == "Corrected from “8” to “9”: Misheard: 9 not 8"


def test_an_unchanged_value_leaves_the_query_open(query, m1, nurse_site_a):
    call_save(call=m1, data=VALID, by=nurse_site_a, reason="Nothing changed")
    query.refresh_from_db()
    assert query.state == "open"


def test_nurse_corrects_the_value_on_the_call_page_and_the_reason_answers(
    client, query, m1, nurse_site_a
):
    client.force_login(nurse_site_a)
    data = {
        "version": m1.version,
        "action": "save",
        "outcome": "reached",
        "call_date": "2026-02-05",
    }
    data.update({k: str(v) for k, v in VALID.items()})
    data.update(nprs_max="9", reason="Patient said 9")
    response = client.post(reverse("followup:call_entry", args=[m1.pk]), data)
    assert response.status_code == 302
    query.refresh_from_db()
    assert query.state == "answered"
    assert "Patient said 9" in query.messages.last().text


def test_call_page_highlights_the_queried_field_with_its_question(client, query, m1, nurse_site_a):
    client.force_login(nurse_site_a)
    page = client.get(reverse("followup:call_entry", args=[m1.pk])).content.decode()
    assert 'id="queries"' in page
    assert "Max 8 with mean 6?" in page
    assert 'id="id_nprs_max_query"' in page
    assert f'action="{reverse("quality:query_answer", args=[query.pk])}"' in page


def test_nurse_answers_on_the_page_and_data_manager_closes_on_the_page(
    client, query, nurse_site_a, data_manager
):
    client.force_login(nurse_site_a)
    url = reverse("quality:query_answer", args=[query.pk])
    assert client.post(url, {"text": "It is 8."}).status_code == 302
    client.force_login(data_manager)
    assert client.post(reverse("quality:query_close", args=[query.pk])).status_code == 302
    query.refresh_from_db()
    assert query.state == "closed"


def test_data_manager_raises_from_the_call_page(client, m1, data_manager):
    client.force_login(data_manager)
    page = client.get(reverse("followup:call_entry", args=[m1.pk])).content.decode()
    assert f'value="call:{m1.pk}:hads_3"' in page
    response = client.post(
        reverse("quality:query_raise", args=[m1.pk]),
        {"target": f"call:{m1.pk}:hads_3", "kind": "out_of_range", "text": "Item 3?"},
    )
    assert response.status_code == 302
    query = Query.objects.get()
    assert (query.call, query.field, query.value_at_raise) == (m1, "hads_3", "1")


def test_raising_a_value_of_another_patient_from_a_call_page_is_refused(
    client, m1, patient_b, data_manager
):
    client.force_login(data_manager)
    client.post(
        reverse("quality:query_raise", args=[m1.pk]),
        {"target": f"patient:{patient_b.pk}:dn4", "kind": "other", "text": "?"},
    )
    assert not Query.objects.exists()


def test_nurse_cannot_raise_close_or_reopen_on_the_pages(client, query, m1, nurse_site_a):
    client.force_login(nurse_site_a)
    raise_url = reverse("quality:query_raise", args=[m1.pk])
    assert client.post(raise_url, {"target": f"call:{m1.pk}:nprs_mean"}).status_code == 403
    assert client.post(reverse("quality:query_close", args=[query.pk])).status_code == 403
    reopen = reverse("quality:query_reopen", args=[query.pk])
    assert client.post(reopen, {"text": "x"}).status_code == 403


def test_nurse_of_other_site_gets_404(client, query, nurse_site_b):
    client.force_login(nurse_site_b)
    assert client.get(reverse("quality:query_detail", args=[query.pk])).status_code == 404
    answer = reverse("quality:query_answer", args=[query.pk])
    assert client.post(answer, {"text": "x"}).status_code == 404
    listing = client.get(reverse("quality:query_list")).content.decode()
    assert "Max 8 with mean 6?" not in listing


def test_statisticians_see_nothing_of_queries(client, query, statistician):
    client.force_login(statistician)
    assert client.get(reverse("quality:query_list")).status_code == 403
    assert client.get(reverse("quality:query_detail", args=[query.pk])).status_code == 403
    assert "Queries" not in client.get(reverse("home")).content.decode()


def test_query_list_filters_by_site_state_type_and_rule(client, query, patient_b, data_manager):
    other = services.query_raise(
        target=patient_b, field="dn4", kind="missing", text="DN4 of B?", by=data_manager
    )
    client.force_login(data_manager)
    url = reverse("quality:query_list")

    def listed(**filters):
        page = client.get(url, filters).context["page"]
        return {q.pk for q in page.object_list}

    assert listed() == {query.pk, other.pk}
    assert listed(site="SB") == {other.pk}
    assert listed(kind="inconsistent") == {query.pk}
    assert listed(state="closed") == set()
    assert listed(rule="manual") == {query.pk, other.pk}
    assert listed(rule="hads_jump") == set()


def test_query_list_runs_a_constant_number_of_queries(
    client, query, patient_b, data_manager, django_assert_max_num_queries
):
    for n in range(5):
        services.query_raise(
            target=patient_b, field="dn4", kind="other", text=f"{n}", by=data_manager
        )
    client.force_login(data_manager)
    client.get(reverse("quality:query_list"))
    with django_assert_max_num_queries(12):
        client.get(reverse("quality:query_list"))


def test_home_pages_show_open_queries_to_nurses_and_counts_to_data_managers(
    client, query, nurse_site_a, nurse_site_b, data_manager
):
    client.force_login(nurse_site_a)
    home = client.get(reverse("home"))
    assert home.context["open_queries"][0] == 1
    assert "Max 8 with mean 6?" in home.content.decode()
    client.force_login(nurse_site_b)
    assert client.get(reverse("home")).context["open_queries"][0] == 0
    client.force_login(data_manager)
    counts = client.get(reverse("home")).context["query_counts"]
    assert [(c.site, c.open, c.answered, c.closed) for c in counts] == [("SA", 1, 0, 0)]


def test_query_detail_shows_the_thread_and_the_actions_of_each_role(
    client, query, nurse_site_a, data_manager
):
    client.force_login(nurse_site_a)
    page = client.get(reverse("quality:query_detail", args=[query.pk])).content.decode()
    assert reverse("quality:query_answer", args=[query.pk]) in page
    assert reverse("quality:query_close", args=[query.pk]) not in page
    client.force_login(data_manager)
    page = client.get(reverse("quality:query_detail", args=[query.pk])).content.decode()
    assert reverse("quality:query_close", args=[query.pk]) in page
    assert reverse("quality:query_answer", args=[query.pk]) not in page


def test_a_change_that_finds_no_open_query_asks_one_statement(patient_a, nurse_site_a):
    with CaptureQueriesContext(connection) as asked:
        queries_answer_after_change(sender=None, patient=patient_a, by=nurse_site_a, reason="x")
    assert len(asked.captured_queries) == 1
