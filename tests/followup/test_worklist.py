import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from accounts.roles import Role
from cohort.services import patient_set_call_times
from followup.selectors import worklist_for_user
from followup.services import call_record_attempt
from tests.factories import enrol

pytestmark = pytest.mark.django_db

# patient_a: first administration on the inclusion date 2026-01-05, so W1 is due 2026-01-12
# (window 01-10..01-15) and M1 on 2026-02-05 (window 01-29..02-15).


def test_calls_fall_into_overdue_due_today_this_week_and_upcoming(nurse_site_a, patient_a):
    worklist = worklist_for_user(nurse_site_a, today=dt.date(2026, 1, 30))
    # W1 closed on 01-15: overdue; M1 target 02-05 within a week; M2 (03-05) beyond 30 days.
    assert [c.timepoint for c in worklist.overdue] == ["W1"]
    assert [c.timepoint for c in worklist.this_week] == ["M1"]
    assert worklist.due_today == []
    assert worklist.upcoming == []
    later = worklist_for_user(nurse_site_a, today=dt.date(2026, 2, 6))
    assert [c.timepoint for c in later.due_today] == ["M1"]
    assert [c.timepoint for c in later.upcoming] == ["M2"]
    assert later.counts == {"overdue": 1, "due_today": 1, "this_week": 0, "upcoming": 1}


def test_unreached_attempts_keep_the_call_on_the_worklist_with_their_count(nurse_site_a, patient_a):
    call = patient_a.calls.get(timepoint="W1")
    call_record_attempt(call=call, outcome="no_answer", by=nurse_site_a)
    call_record_attempt(call=call, outcome="voicemail", by=nurse_site_a)
    worklist = worklist_for_user(nurse_site_a, today=dt.date(2026, 1, 12))
    assert [(c.timepoint, c.failed_attempts) for c in worklist.due_today] == [("W1", 2)]


def test_worklist_leaves_out_other_sites_and_closed_calls(nurse_site_a, patient_a, patient_b):
    call_record_attempt(
        call=patient_a.calls.get(timepoint="W1"), outcome="refused", by=nurse_site_a
    )
    worklist = worklist_for_user(nurse_site_a, today=dt.date(2026, 1, 12))
    listed = [
        (c.patient.study_code, c.timepoint) for section in worklist.sections() for c in section.rows
    ]
    # W1 refused is closed; M1 is upcoming; nothing of site B.
    assert listed == [("SA-0001", "M1")]


@time_machine.travel(dt.datetime(2026, 1, 12, 9, 0, tzinfo=dt.UTC))
def test_nurse_home_shows_names_phones_and_a_link_to_start_the_call(
    client, nurse_site_a, patient_a
):
    client.force_login(nurse_site_a)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "MARTIN Jeanne" in page
    assert "+33 4 73 00 00 00" in page
    call = patient_a.calls.get(timepoint="W1")
    assert reverse("followup:call_entry", args=[call.pk]) in page


@time_machine.travel(dt.datetime(2026, 1, 12, 9, 0, tzinfo=dt.UTC))
@pytest.mark.parametrize("patients", [1, 12])
def test_worklist_page_runs_the_same_queries_whatever_the_cohort_size(
    client, django_assert_num_queries, nurse_site_a, site_a, patients
):
    for n in range(patients):
        call = enrol(site_a, by=nurse_site_a, last_name=f"Patient{n}").calls.get(timepoint="W1")
        call_record_attempt(call=call, outcome="no_answer", by=nurse_site_a)
        patient_set_call_times(
            patient=call.patient, call_from=dt.time(9), call_to=dt.time(12), days=[1], by=None
        )
    client.force_login(nurse_site_a)
    # User, roles, the second-factor check (once per sign-in: one query per device kind, the
    # authenticator and the recovery codes), the sites of the filter, 1 count
    # aggregate and 4 section queries (preferred times and failed attempts included), then the
    # session renewed for the idle timeout (savepoint, update, release), and the user's site
    # ids once for the identifier rule (accounts.identifiers); the session is read from the cache.
    with django_assert_num_queries(14):
        response = client.get(reverse("followup:worklist"))
    page = response.content.decode()
    assert page.count("<td>Week 1</td>") == patients
    # Monday 10:00 in Paris: each patient's W1 is to be called now; M1 (window not open) is not.
    assert page.count('<tr class="call-now">') == patients
    assert page.count("1 / 5") == patients


def test_statistician_cannot_open_the_worklist(client, statistician):
    client.force_login(statistician)
    assert client.get(reverse("followup:worklist")).status_code == 403


def _three_due_today(site_a, nurse_site_a):
    """Three patients whose W1 is due on Monday 2026-01-12 (SA-0001, SA-0002, SA-0003)."""
    return [enrol(site_a, by=nurse_site_a, last_name=f"P{n}") for n in range(3)]


def test_calls_whose_preferred_time_is_now_come_first(site_a, nurse_site_a):
    _first, second, third = _three_due_today(site_a, nurse_site_a)
    patient_set_call_times(
        patient=third, call_from=dt.time(9), call_to=dt.time(11), days=[], by=nurse_site_a
    )
    patient_set_call_times(patient=second, call_from=None, call_to=None, days=[2], by=nurse_site_a)

    def order(hour):
        moment = dt.datetime(2026, 1, 12, hour, 0, tzinfo=dt.UTC)  # a Monday; Paris is UTC+1
        worklist = worklist_for_user(nurse_site_a, today=dt.date(2026, 1, 12), now=moment)
        return [(c.patient.study_code, c.call_now) for c in worklist.due_today]

    # 10:00 in Paris: the third patient's window (9-11) is open; Tuesday-only waits.
    assert order(9) == [("SA-0003", True), ("SA-0001", False), ("SA-0002", False)]
    # 11:00 in Paris: the window has closed (its end is excluded); back to study code order.
    assert order(10) == [("SA-0001", False), ("SA-0002", False), ("SA-0003", False)]


@time_machine.travel(dt.datetime(2026, 1, 13, 15, 0, tzinfo=dt.UTC))
def test_worklist_page_marks_the_calls_to_make_now_and_shows_the_preferred_time(
    client, site_a, nurse_site_a
):
    _first, second, _third = _three_due_today(site_a, nurse_site_a)
    patient_set_call_times(
        patient=second,
        call_from=dt.time(14),
        call_to=dt.time(18),
        days=[2, 4],
        note="After physiotherapy",
        by=nurse_site_a,
    )
    client.force_login(nurse_site_a)
    page = client.get(reverse("followup:worklist")).content.decode()
    section = page[page.index('id="section-due_today"') :]
    assert section.index("SA-0002") < section.index("SA-0001")
    assert "Call now" in section
    assert "Tue, Thu · 14:00–18:00" in section
    assert "After physiotherapy" in section


@time_machine.travel(dt.datetime(2026, 1, 12, 9, 0, tzinfo=dt.UTC))
def test_every_section_pages_through_all_its_calls_and_counts_them(client, nurse_site_a, site_a):
    for n in range(7):
        enrol(site_a, by=nurse_site_a, last_name=f"Patient{n}")
    worklist = worklist_for_user(nurse_site_a, today=dt.date(2026, 1, 12), rows=3)
    section = worklist.parts["due_today"]
    assert (section.count, section.num_pages, len(section.rows)) == (7, 3, 3)
    seen = []
    for number in (1, 2, 3, 4):  # a page past the end shows the last one
        page = worklist_for_user(
            nurse_site_a, today=dt.date(2026, 1, 12), rows=3, pages={"due_today": number}
        ).parts["due_today"]
        seen += [call.patient.study_code for call in page.rows]
    assert len(seen) == 8  # 3 + 3 + 1, and the last page again
    assert len(set(seen)) == 7
    client.force_login(nurse_site_a)
    page = client.get(reverse("followup:worklist"), {"page_due_today": "2"}).content.decode()
    assert "26–" not in page  # 25 rows a page: the 7 fit on one
    assert page.count("<td>Week 1</td>") == 7


@time_machine.travel(dt.datetime(2026, 1, 12, 9, 0, tzinfo=dt.UTC))
def test_the_site_filter_and_the_study_code_search_narrow_rows_and_counts(
    client, nurse_site_a, site_a, site_b
):
    from accounts.services import user_set_role

    user_set_role(user=nurse_site_a, role=Role.NURSE, sites=[site_a, site_b])
    for site in (site_a, site_a, site_b):
        enrol(site, by=nurse_site_a)
    client.force_login(nurse_site_a)
    everything = client.get(reverse("followup:worklist")).context["worklist"]
    assert everything.counts["due_today"] == 3
    one_site = client.get(reverse("followup:worklist"), {"site": "SB"}).context["worklist"]
    assert one_site.counts["due_today"] == 1
    assert {c.patient.site.code for c in one_site.due_today} == {"SB"}
    found = client.get(reverse("followup:worklist"), {"q": "sa-0002"}).context["worklist"]
    assert [c.patient.study_code for c in found.due_today] == ["SA-0002"]
    assert found.counts == {"overdue": 0, "due_today": 1, "this_week": 0, "upcoming": 1}
    page = client.get(reverse("followup:worklist"), {"q": "ZZ"}).content.decode()
    assert "No call matches." in page


def test_pages_put_the_calls_to_make_now_first_then_the_others_across_pages(site_a, nurse_site_a):
    patients = [enrol(site_a, by=nurse_site_a, last_name=f"P{n}") for n in range(7)]
    for patient in patients[1::2]:  # SA-0002, SA-0004, SA-0006: from 9:00 to 11:00
        patient_set_call_times(
            patient=patient, call_from=dt.time(9), call_to=dt.time(11), days=[], by=nurse_site_a
        )
    moment = dt.datetime(2026, 1, 12, 9, 0, tzinfo=dt.UTC)  # 10:00 in Paris

    def page(number):
        section = worklist_for_user(
            nurse_site_a,
            today=dt.date(2026, 1, 12),
            now=moment,
            rows=2,
            pages={"due_today": number},
        ).parts["due_today"]
        assert section.count == 7
        return [(c.patient.study_code, c.call_now) for c in section.rows]

    # Page 1 among the calls to make now, page 2 across both kinds, pages 3 and 4 after them.
    seen = [row for number in (1, 2, 3, 4) for row in page(number)]
    assert seen == [
        ("SA-0002", True),
        ("SA-0004", True),
        ("SA-0006", True),
        ("SA-0001", False),
        ("SA-0003", False),
        ("SA-0005", False),
        ("SA-0007", False),
    ]


@time_machine.travel(dt.datetime(2026, 1, 12, 9, 0, tzinfo=dt.UTC))
def test_a_site_not_the_nurses_own_in_the_filter_shows_nothing_of_it(
    client, nurse_site_a, site_a, site_b
):
    enrol(site_a, by=nurse_site_a)
    enrol(site_b, by=None)
    client.force_login(nurse_site_a)
    response = client.get(reverse("followup:worklist"), {"site": "SB"})
    worklist = response.context["worklist"]
    assert response.context["worklist_filters"].errors["site"]
    assert worklist.counts["due_today"] == 1
    assert {c.patient.site.code for c in worklist.due_today} == {"SA"}
    assert 'value="SB"' not in response.content.decode()
