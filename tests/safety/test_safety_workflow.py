"""Safety: a serious or severe effect alerts the site's clinicians the same day, is acknowledged,
escalated when left alone, and followed at the next call until it resolves."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.roles import Role
from followup.models import AdverseEvent
from followup.services import adverse_event_update, call_save
from followup.validators import adverse_event_record_errors
from safety.models import SafetyAlert
from safety.services import alert_acknowledge, alerts_escalate_overdue
from safety.tasks import escalate_alerts
from tests.factories import make_user
from tests.followup.test_questionnaire_validation import VALID

pytestmark = pytest.mark.django_db

DISSOCIATION = {
    "type": "dissociation_hallucination",
    "severity": "severe",
    "serious": True,
    "criteria": ["hospitalisation"],
    "start_date": dt.date(2026, 2, 3),
    "outcome": "not_recovered",
}


@pytest.fixture(autouse=True)
def _on_the_day_of_m1():
    with time_machine.travel(dt.datetime(2026, 2, 5, 10, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def clinician_site_b(site_b):
    return make_user("clinician_b", Role.CLINICIAN, [site_b])


@pytest.fixture
def mailboxes(clinician_site_a, clinician_site_b, data_manager, nurse_site_a):
    for user in (clinician_site_a, clinician_site_b, data_manager, nurse_site_a):
        user.email = f"{user.username}@hospital.test"
        user.save(update_fields=["email"])


def _record(patient, nurse, effects, timepoint="M1", capture=None):
    call = patient.calls.get(timepoint=timepoint)
    return call_save(
        call=call,
        data=VALID,
        by=nurse,
        adverse_events=effects,
        complete=True,
        call_date=dt.date(2026, 2, 5),
    )


def test_a_serious_effect_alerts_the_clinicians_of_the_site_by_mail(
    patient_a, nurse_site_a, mailboxes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _record(patient_a, nurse_site_a, [DISSOCIATION])
    alert = SafetyAlert.objects.get()
    assert (alert.reason, alert.site_id, alert.raised_by) == (
        "serious",
        patient_a.site_id,
        nurse_site_a,
    )
    assert [m.to for m in mail.outbox] == [["clinician_a@hospital.test"]]
    message = mail.outbox[0]
    assert patient_a.study_code in message.subject
    assert "Hospitalisation or its prolongation" in message.body
    # The mail carries the study code only: no name, no phone number.
    assert "Martin" not in message.body
    assert "73 00" not in message.body
    assert reverse("safety:alert_detail", args=[alert.pk]) in message.body
    assert alert.adverse_event.expected is True
    alert.refresh_from_db()
    assert alert.emailed_to == 1


def test_a_severe_effect_alerts_and_a_mild_one_does_not(patient_a, nurse_site_a, mailboxes):
    _record(
        patient_a,
        nurse_site_a,
        [
            {"type": "nausea", "severity": "mild"},
            {"type": "headache", "severity": "severe"},
        ],
    )
    assert list(SafetyAlert.objects.values_list("adverse_event__type", "reason")) == [
        ("headache", "severe")
    ]


def test_saving_the_call_again_raises_no_second_alert(patient_a, nurse_site_a):
    call = _record(patient_a, nurse_site_a, [DISSOCIATION])
    call_save(
        call=call,
        data=VALID,
        by=nurse_site_a,
        adverse_events=[DISSOCIATION],
        reason="Typo in the pain score",
    )
    assert SafetyAlert.objects.count() == 1


def test_a_refused_save_tells_no_one(
    patient_a, nurse_site_a, mailboxes, django_capture_on_commit_callbacks
):
    bad = {**DISSOCIATION, "criteria": []}
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as exc:
        _record(patient_a, nurse_site_a, [bad])
    assert "ae_dissociation_hallucination_criteria" in exc.value.message_dict
    assert SafetyAlert.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"serious": True}, "criteria"),
        ({"criteria": ["death"]}, "criteria"),
        ({"resolution_date": dt.date(2026, 2, 4), "outcome": "recovering"}, "resolution_date"),
        ({"resolution_date": dt.date(2026, 1, 30), "outcome": "recovered"}, "resolution_date"),
        ({"start_date": dt.date(1900, 1, 1)}, "start_date"),
        ({"start_date": dt.date(2026, 3, 1)}, "start_date"),
        ({"relation": "maybe"}, "relation"),
    ],
)
def test_the_record_rules_refuse_an_implausible_effect(change, field):
    values = {"severity": "mild", "serious": False, "start_date": dt.date(2026, 2, 1)} | change
    values.setdefault("outcome", "not_recovered")
    assert field in adverse_event_record_errors(values)


def test_the_record_rules_accept_a_resolved_serious_effect():
    values = {
        "serious": True,
        "criteria": ["life_threatening"],
        "start_date": dt.date(2026, 2, 1),
        "outcome": "recovered_sequelae",
        "resolution_date": dt.date(2026, 2, 3),
    }
    assert adverse_event_record_errors(values) == {}


@pytest.mark.parametrize(
    "change",
    [
        {"serious": True},
        {"criterion_death": True},
        {"resolution_date": dt.date(2026, 2, 4)},
        {"outcome": "recovered", "resolution_date": dt.date(2026, 1, 1)},
        {"start_date": dt.date(1900, 1, 1)},
        {"relation": "maybe"},
    ],
)
def test_the_database_refuses_what_the_rules_refuse(patient_a, nurse_site_a, change):
    call = _record(patient_a, nurse_site_a, [{"type": "nausea", "severity": "mild"}])
    effect = AdverseEvent.objects.get(call=call)
    effect.start_date = dt.date(2026, 2, 2)
    for field, value in change.items():
        setattr(effect, field, value)
    with pytest.raises(IntegrityError), transaction.atomic():
        effect.save()


def test_a_clinician_acknowledges_with_an_assessment_and_the_history_keeps_it(
    patient_a, nurse_site_a, clinician_site_a
):
    _record(patient_a, nurse_site_a, [{**DISSOCIATION}])
    effect = AdverseEvent.objects.get()
    adverse_event_update(adverse_event=effect, values={"relation": "possible"}, by=nurse_site_a)
    alert = SafetyAlert.objects.get()
    with time_machine.travel(dt.datetime(2026, 2, 5, 16, 30, tzinfo=dt.UTC), tick=False):
        alert_acknowledge(
            alert=alert,
            by=clinician_site_a,
            relation="probable",
            action_taken="interrupted",
            assessment="Dissociation after the infusion; next one postponed.",
        )
    alert.refresh_from_db()
    effect.refresh_from_db()
    assert (effect.relation, effect.action_taken) == ("probable", "interrupted")
    assert alert.relation_reported == "possible"
    assert alert.hours_to_acknowledge() == 6.5
    reasons = list(effect.history.values_list("history_change_reason", flat=True))
    assert "Safety alert acknowledged: causality changed from possible" in reasons
    with pytest.raises(ValidationError):
        alert_acknowledge(
            alert=alert,
            by=clinician_site_a,
            relation="certain",
            action_taken="none",
            assessment="x",
        )


def test_only_a_clinician_of_the_site_may_acknowledge(
    patient_a, nurse_site_a, clinician_site_b, data_manager
):
    _record(patient_a, nurse_site_a, [DISSOCIATION])
    alert = SafetyAlert.objects.get()
    for user in (clinician_site_b, nurse_site_a, data_manager):
        with pytest.raises(PermissionDenied):
            alert_acknowledge(
                alert=alert, by=user, relation="possible", action_taken="none", assessment="Seen"
            )
    assert SafetyAlert.objects.get().acknowledged_at is None


def test_an_alert_left_alone_is_escalated_once_to_the_data_managers(
    patient_a,
    nurse_site_a,
    clinician_site_a,
    mailboxes,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.SAFETY_ACK_HOURS = 24
    _record(patient_a, nurse_site_a, [DISSOCIATION])
    mail.outbox.clear()
    raised = SafetyAlert.objects.get().raised_at
    with django_capture_on_commit_callbacks(execute=True):
        assert alerts_escalate_overdue(now=raised + dt.timedelta(hours=23, minutes=59)) == 0
    assert mail.outbox == []
    with time_machine.travel(raised + dt.timedelta(hours=24, minutes=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert escalate_alerts() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert escalate_alerts() == 0
    assert [m.to for m in mail.outbox] == [["datamanager@hospital.test"]]
    assert "not acknowledged" in mail.outbox[0].subject
    assert SafetyAlert.objects.get().escalated_at == raised + dt.timedelta(hours=24, minutes=1)


def test_an_acknowledged_alert_is_not_escalated(patient_a, nurse_site_a, clinician_site_a):
    _record(patient_a, nurse_site_a, [DISSOCIATION])
    alert = SafetyAlert.objects.get()
    alert_acknowledge(
        alert=alert,
        by=clinician_site_a,
        relation="possible",
        action_taken="none",
        assessment="Seen",
    )
    assert alerts_escalate_overdue(now=alert.raised_at + dt.timedelta(days=3)) == 0


# Pages


def test_the_alert_is_on_top_of_the_clinicians_home_page_and_in_the_badge(
    client, patient_a, nurse_site_a, clinician_site_a
):
    _record(patient_a, nurse_site_a, [DISSOCIATION])
    client.force_login(clinician_site_a)
    page = client.get(reverse("home")).content.decode()
    assert page.index('id="safety-alerts"') < page.index("Calls to review")
    assert patient_a.study_code in page[page.index('id="safety-alerts"') :]
    nav = page[page.index('id="nav-safety"') : page.index("</a>", page.index('id="nav-safety"'))]
    assert '<span class="badge badge-alert"' in nav
    assert ">1<" in nav


def test_a_clinician_of_another_site_never_sees_the_alert(
    client, patient_a, nurse_site_a, clinician_site_b
):
    _record(patient_a, nurse_site_a, [DISSOCIATION])
    alert = SafetyAlert.objects.get()
    client.force_login(clinician_site_b)
    home = client.get(reverse("home")).content.decode()
    assert 'id="safety-alerts"' not in home
    assert patient_a.study_code not in home
    assert client.get(reverse("safety:alert_detail", args=[alert.pk])).status_code == 404
    response = client.post(
        reverse("safety:alert_detail", args=[alert.pk]),
        {"relation": "possible", "action_taken": "none", "assessment": "Seen"},
    )
    assert response.status_code == 404
    page = client.get(reverse("safety:safety_page")).content.decode()
    assert patient_a.study_code not in page
    listing = client.get(reverse("safety:line_listing", args=["csv"])).content.decode()
    assert patient_a.study_code not in listing


def test_the_clinician_acknowledges_on_the_alert_page(
    client, patient_a, nurse_site_a, clinician_site_a
):
    _record(patient_a, nurse_site_a, [DISSOCIATION])
    alert = SafetyAlert.objects.get()
    client.force_login(clinician_site_a)
    url = reverse("safety:alert_detail", args=[alert.pk])
    refused = client.post(url, {"relation": "possible", "assessment": "Seen, infusion postponed"})
    assert refused.status_code == 400
    assert "Seen, infusion postponed" in refused.content.decode()  # the input is kept
    response = client.post(
        url, {"relation": "possible", "action_taken": "interrupted", "assessment": "Seen"}
    )
    assert response.status_code == 302
    assert SafetyAlert.objects.get().acknowledged_by == clinician_site_a
    assert 'id="safety-alerts"' not in client.get(reverse("home")).content.decode()


def test_a_nurse_does_not_open_alerts(client, patient_a, nurse_site_a):
    _record(patient_a, nurse_site_a, [DISSOCIATION])
    client.force_login(nurse_site_a)
    alert = SafetyAlert.objects.get()
    assert client.get(reverse("safety:alert_detail", args=[alert.pk])).status_code == 403
    assert client.get(reverse("safety:safety_page")).status_code == 403


def test_the_next_call_asks_whether_the_effect_is_still_present(client, patient_a, nurse_site_a):
    _record(
        patient_a,
        nurse_site_a,
        [DISSOCIATION, {"type": "nausea", "severity": "mild", "outcome": "recovered"}],
    )
    m2 = patient_a.calls.get(timepoint="M2")
    client.force_login(nurse_site_a)
    page = client.get(reverse("followup:call_entry", args=[m2.pk])).content.decode()
    section = page[
        page.index('id="open-effects"') : page.index("</section>", page.index('id="open-effects"'))
    ]
    assert "Dissociation or hallucinations" in section
    assert "Nausea" not in section
    assert page.index('id="open-effects"') < page.index('id="adverse-effects"')
    effect = AdverseEvent.objects.get(type="dissociation_hallucination")
    url = reverse("followup:effect_follow_up", args=[effect.pk])
    refused = client.post(
        url, {"call": m2.pk, "outcome": "recovering", "resolution_date": "2026-02-04"}
    )
    assert refused.status_code == 400
    assert "resolved outcome" in refused.content.decode()
    assert 'value="2026-02-04"' in refused.content.decode()
    response = client.post(
        url, {"call": m2.pk, "outcome": "recovered", "resolution_date": "2026-02-04"}
    )
    assert response.status_code == 302
    effect.refresh_from_db()
    assert (effect.outcome, effect.resolution_date) == ("recovered", dt.date(2026, 2, 4))
    page = client.get(reverse("followup:call_entry", args=[m2.pk])).content.decode()
    assert 'id="open-effects"' not in page


def test_a_nurse_of_another_site_cannot_follow_up_the_effect(
    client, patient_a, nurse_site_a, nurse_site_b
):
    _record(patient_a, nurse_site_a, [DISSOCIATION])
    effect = AdverseEvent.objects.get()
    client.force_login(nurse_site_b)
    response = client.post(
        reverse("followup:effect_follow_up", args=[effect.pk]), {"outcome": "recovered"}
    )
    assert response.status_code == 404
    assert AdverseEvent.objects.get().outcome == "not_recovered"


def test_the_safety_page_counts_serious_effects_and_the_listing_has_no_free_text_for_statisticians(
    client, patient_a, nurse_site_a, clinician_site_a, statistician
):
    other = {
        "type": "other",
        "other_text": "Fall at Mrs Martin's home",
        "severity": "severe",
        "serious": True,
        "criteria": ["other_important"],
    }
    _record(patient_a, nurse_site_a, [DISSOCIATION, other])
    client.force_login(statistician)
    page = client.get(reverse("safety:safety_page"))
    assert page.status_code == 200
    assert page.context["summary"]["serious_count"] == 2
    assert dict(page.context["summary"]["by_criterion"])["Hospitalisation or its prolongation"] == 1
    assert dict(page.context["summary"]["by_expected"])["Other (not on the list)"] == 1
    assert 'id="open-alerts"' not in page.content.decode()
    listing = client.get(reverse("safety:line_listing", args=["csv"])).content.decode()
    assert listing.splitlines()[0].startswith("Study code,Site,Call")
    assert len(listing.splitlines()) == 3
    assert "Mrs Martin" not in listing
    xlsx = client.get(reverse("safety:line_listing", args=["xlsx"]))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    client.force_login(clinician_site_a)
    assert "Mrs Martin" in client.get(reverse("safety:line_listing", args=["csv"])).content.decode()


def test_the_patient_page_and_timeline_show_each_effect_from_onset_to_resolution(
    client, patient_a, nurse_site_a
):
    _record(patient_a, nurse_site_a, [DISSOCIATION])
    client.force_login(nurse_site_a)
    page = client.get(reverse("cohort:patient_detail", args=[patient_a.pk]))
    [span] = page.context["effect_spans"]
    assert (span["start"], span["end"], span["open"]) == ("2026-02-03", "2026-02-05", True)
    assert 'id="effect-spans"' in page.content.decode()
    effect = AdverseEvent.objects.get()
    adverse_event_update(
        adverse_event=effect,
        values={"outcome": "recovered", "resolution_date": dt.date(2026, 2, 4)},
        by=nurse_site_a,
    )
    timeline = client.get(reverse("cohort:patient_timeline", args=[patient_a.pk]))
    [span] = timeline.context["series"]["spans"]
    assert (span["start"], span["end"], span["open"]) == ("2026-02-03", "2026-02-04", False)


def test_data_managers_see_an_alert_on_their_home_page_once_it_is_escalated(
    client, patient_a, nurse_site_a, data_manager
):
    _record(patient_a, nurse_site_a, [DISSOCIATION])
    client.force_login(data_manager)
    assert 'id="safety-alerts"' not in client.get(reverse("home")).content.decode()
    alerts_escalate_overdue(now=SafetyAlert.objects.get().raised_at + dt.timedelta(hours=25))
    page = client.get(reverse("home")).content.decode()
    assert 'id="safety-alerts"' in page
    assert patient_a.study_code in page[page.index('id="safety-alerts"') :]


def test_the_assessment_is_free_text_that_roles_without_identifiers_never_read(
    client, patient_a, nurse_site_a, clinician_site_a, data_manager, statistician
):
    _record(patient_a, nurse_site_a, [{**DISSOCIATION}])
    alert = SafetyAlert.objects.get()
    alert_acknowledge(
        alert=alert,
        by=clinician_site_a,
        relation="probable",
        action_taken="interrupted",
        assessment="Spoke with Zéphyrine Brancourt at 06 55 44 33 22.",
    )
    urls = [
        reverse("safety:alert_detail", args=[alert.pk]),
        "/api/v1/safety-alerts/",
        reverse("safety:safety_page"),
        reverse("safety:line_listing", args=["csv"]),
    ]
    for user in (data_manager, statistician):
        client.force_login(user)
        opened = 0
        for url in urls:
            response = client.get(url)
            assert response.status_code in (200, 403, 404), url
            opened += response.status_code == 200
            assert "Brancourt" not in response.content.decode(), (user.username, url)
        assert opened >= 2, user.username
    client.force_login(clinician_site_a)
    for url in urls[:2]:
        assert "Brancourt" in client.get(url).content.decode(), url
