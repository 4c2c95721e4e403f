"""History pages: who changed what, when and why; identifiers hidden from statisticians."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse

from cohort.services import administration_record, administration_update
from followup.services import call_record_attempt


def test_patient_history_lists_creation_corrections_with_reason_and_who(
    client, nurse_site_a, patient_a
):
    given = administration_record(
        patient=patient_a, date=dt.date(2026, 1, 5), route="iv", dose_unit="mg",
        dose_value=Decimal("50"), by=nurse_site_a,
    )  # fmt: skip
    administration_update(
        administration=given, by=nurse_site_a, reason="dose typed twice", dose_value=Decimal("40")
    )
    client.force_login(nurse_site_a)
    response = client.get(reverse("cohort:patient_history", args=[patient_a.pk]))
    assert response.status_code == 200
    entries = response.context["entries"]
    correction = next(e for e in entries if e.reason == "dose typed twice")
    assert correction.who in (nurse_site_a.get_full_name(), nurse_site_a.username)
    assert correction.action == "changed"
    labels = {c.label: (c.old, c.new) for c in correction.changes}
    assert labels["dose as entered"] == ("50.000", "40.000")
    assert any(e.what == "Identifiers" and e.action == "created" for e in entries)
    assert entries == sorted(entries, key=lambda e: e.when, reverse=True)


def test_call_history_shows_the_attempts_and_the_status_change(client, nurse_site_a, patient_a):
    call = patient_a.calls.get(timepoint="W1")
    call_record_attempt(call=call, outcome="no_answer", by=nurse_site_a)
    call_record_attempt(call=call, outcome="refused", by=nurse_site_a)
    client.force_login(nurse_site_a)
    response = client.get(reverse("followup:call_history", args=[call.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "attempt (No answer)" in page
    assert "attempt (Refused)" in page
    status = [
        (c.old, c.new)
        for e in response.context["entries"]
        for c in e.changes
        if c.label == "status"
    ]
    assert ("Due", "Refused") in status


def test_statisticians_see_that_identifiers_changed_but_not_the_values(
    client, statistician, nurse_site_a, patient_a
):
    contact = patient_a.contact
    contact.phone = "+33 6 11 22 33 44"
    contact._change_reason = "new number"
    contact.save()
    client.force_login(statistician)
    page = client.get(reverse("cohort:patient_history", args=[patient_a.pk])).content.decode()
    # The typed reason is free text too (cohort.free_text): hidden like the number.
    assert "new number" not in page
    assert "(free text, hidden)" in page
    assert "+33 6 11 22 33 44" not in page
    assert "+33 4 73 00 00 00" not in page
    client.force_login(nurse_site_a)
    page = client.get(reverse("cohort:patient_history", args=[patient_a.pk])).content.decode()
    assert "+33 6 11 22 33 44" in page


def test_history_of_another_sites_patient_or_call_is_404(client, nurse_site_b, patient_a):
    client.force_login(nurse_site_b)
    assert client.get(reverse("cohort:patient_history", args=[patient_a.pk])).status_code == 404
    call = patient_a.calls.first()
    assert client.get(reverse("followup:call_history", args=[call.pk])).status_code == 404


def test_the_history_pages_offer_no_way_to_change_anything(client, nurse_site_a, patient_a):
    client.force_login(nurse_site_a)
    url = reverse("cohort:patient_history", args=[patient_a.pk])
    main = client.get(url).content.decode().split('id="main"')[1]
    assert "<form" not in main
    assert client.post(url).status_code == 405
