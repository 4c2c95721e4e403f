"""No log line carries a patient's name or phone, whatever the path: pages, errors, exports, API.

Every logger is turned to DEBUG and SQL logging is on; each record is checked as a handler
would write it (message, arguments, traceback).
"""

from __future__ import annotations

import logging
import re

import pytest
from django.conf import settings
from django.db import connection, connections
from django.urls import reverse
from django.utils.log import AdminEmailHandler

from accounts.roles import Role
from analytics.services import reanalysis_schedule
from cohort.models import Patient, PatientContact
from tests.conftest import SignedInClient
from tests.database import write_lock_held_elsewhere
from tests.factories import give_authenticator, make_user

FIRST, LAST, PHONE = "Eulalie", "Trouillefou", "+33 6 58 20 71 39"
NEW_PHONE = "+33 7 61 09 44 82"
API_LAST, API_PHONE = "Vauquelin", "+33 6 30 62 15 77"
SECRETS = (FIRST, LAST, PHONE, NEW_PHONE, API_LAST, API_PHONE)


def _variants(value: str) -> set[str]:
    return {value.casefold(), re.sub(r"\s", "", value).casefold()}


def _leaks(text: str) -> list[str]:
    text = text.casefold()
    return [value for value in SECRETS if any(v in text for v in _variants(value))]


@pytest.fixture
def every_log_record(caplog, monkeypatch):
    """Turn every logger to DEBUG, propagating to the capture, with SQL logged too."""
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        if isinstance(logger, logging.Logger):
            monkeypatch.setattr(logger, "level", logging.DEBUG)
            monkeypatch.setattr(logger, "disabled", False)
            monkeypatch.setattr(logger, "propagate", logger is not logging.getLogger())
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(connections["default"], "force_debug_cursor", True)
    return caplog


def _enrolment(site, **overrides):
    data = {
        "patient-site": site.pk,
        "patient-age": "45",
        "patient-pain_duration_months": "18",
        "patient-inclusion_date": "2026-03-02",
        "patient-consent_date": "2026-03-01",
        "patient-last_name": LAST,
        "patient-first_name": FIRST,
        "patient-phone": PHONE,
        "patient-sex": "F",
        "patient-weight_kg": "64.5",
        "patient-etiology": "crps",
        "patient-ketamine_naive": "true",
        "patient-dn4": "6",
        "admin-date": "2026-03-02",
        "admin-route": "iv",
        "admin-dose_unit": "mg_per_kg",
        "admin-dose_value": "1",
        "admin-days": "1",
    }
    data.update(overrides)
    return data


def _client(user):
    client = SignedInClient(raise_request_exception=False)
    client.force_login(user)
    return client


def test_no_log_record_holds_a_name_or_a_phone(
    short_lock_wait, every_log_record, site_a, nurse_site_a, statistician, data_manager
):
    nurse = _client(nurse_site_a)
    # Enrolment refused (too young, with the identifiers typed), then accepted.
    refused = nurse.post(reverse("cohort:patient_new"), _enrolment(site_a, **{"patient-age": "9"}))
    assert refused.status_code == 400
    enrolled = nurse.post(reverse("cohort:patient_new"), _enrolment(site_a))
    assert enrolled.status_code == 302
    patient = Patient.objects.get()
    assert patient.contact.last_name == LAST
    nurse.get(reverse("cohort:patient_list"))
    nurse.get(enrolled.url)
    call = patient.calls.get(timepoint="M1")
    nurse.post(reverse("followup:call_entry", args=[call.pk]), {"action": "save"})  # refused
    nurse.post(
        reverse("followup:call_entry", args=[call.pk]),
        {"action": "save", "outcome": "no_answer", "version": call.version},
    )

    # The identifiers corrected in the administration site (superusers only).
    superuser = make_user("root", Role.DATA_MANAGER, [])
    superuser.is_superuser = True
    superuser.save()
    give_authenticator(superuser)
    admin = _client(superuser)
    contact = patient.contact
    changed = admin.post(
        reverse("admin:cohort_patientcontact_change", args=[contact.pk]),
        {
            "patient": patient.pk, "first_name": FIRST, "last_name": LAST, "phone": NEW_PHONE,
            "phone_alt": "", "preferred_call_time": "", "change_reason": "new number",
        },
    )  # fmt: skip
    assert changed.status_code == 302
    assert PatientContact.objects.get().phone == NEW_PHONE

    # Exports and the pages of the roles that do not see identifiers.
    for user in (statistician, data_manager):
        reader = _client(user)
        for url in (
            reverse("analytics:export_download", args=["wide", "csv"]),
            reverse("analytics:export_download", args=["long", "csv"]) + "?items=1",
            reverse("cohort:patient_history", args=[patient.pk]),
            reverse("followup:call_history", args=[call.pk]),
        ):
            response = reader.get(url)
            assert response.status_code == 200
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert _leaks(body.decode()) == [], url

    # The API: a list with identifiers, bad input, a refused save, a good one.
    api = _client(nurse_site_a)
    assert api.get("/api/v1/patients/").status_code == 200
    bad = {"site": site_a.pk, "age": 9, "last_name": API_LAST, "phone": API_PHONE}
    assert api.post("/api/v1/patients/", bad, content_type="application/json").status_code == 400
    assert api.get(f"/api/v1/patients/{patient.pk}/").json()["contact"]["last_name"] == LAST
    statistician_client = _client(statistician)
    with write_lock_held_elsewhere(call):
        locked = api.post(
            f"/api/v1/calls/{call.pk}/attempts/",
            {"outcome": "no_answer", "version": call.version + 1},
            content_type="application/json",
        )
        assert locked.status_code == 503
    # A page without a refusal handler (the rerun button, no input): the error is unhandled.
    waiting = reanalysis_schedule(trigger="manual", dispatch=False)
    with write_lock_held_elsewhere(waiting):
        assert statistician_client.post(reverse("analysis:rerun")).status_code == 500

    records = every_log_record.records
    assert any(r.name == "django.db.backends" for r in records)  # SQL was logged
    assert any(r.name == "django.request" and r.levelno == logging.ERROR for r in records)
    assert any(r.name == "config.saves" for r in records)
    formatter = logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"])
    leaks = []
    for record in records:
        written = formatter.format(record)
        found = _leaks(f"{written} {record.args!r} {record.exc_text or ''}")
        if found:
            leaks.append(f"{record.name}: {found} in {written[:160]!r}")
    assert leaks == [], "\n".join(leaks)


def test_history_rows_of_the_identifiers_are_encrypted(patient_a):
    contact = patient_a.contact
    contact.phone = NEW_PHONE
    contact._change_reason = "new number"
    contact.save()
    table = PatientContact.history.model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT first_name, last_name, phone, phone_alt FROM {table}")
        rows = cursor.fetchall()
    assert len(rows) == 2
    for row in rows:
        for value in row:
            assert value == "" or value.startswith("gAAAAA")
    assert "Jeanne" not in repr(rows)
    assert "73 00 00 00" not in repr(rows)


def test_the_logging_configuration_writes_no_request_and_mails_nothing():
    for formatter in settings.LOGGING["formatters"].values():
        assert "request" not in formatter["format"]
    for handler in settings.LOGGING["handlers"].values():
        assert "Email" not in handler["class"]
    # Django's own mail handler (with request bodies) stays silent while nobody is an admin.
    mailers = [
        handler
        for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
        if isinstance(logger, logging.Logger)
        for handler in logger.handlers
        if isinstance(handler, AdminEmailHandler)
    ]
    assert not mailers or not settings.ADMINS
