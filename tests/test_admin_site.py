"""The administration site: the audit trail read only, sign-ins and exports for data managers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from axes.models import AccessLog
from django.contrib import admin
from django.urls import reverse

from analytics.models import ExportLog
from cohort.models import Patient
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_no_history_table_is_offered_for_editing():
    registered = [model.__name__ for model in admin.site._registry]
    assert "Patient" in registered
    assert not [name for name in registered if name.startswith("Historical")]


def test_a_past_version_is_shown_but_cannot_be_restored(client, data_manager, patient_a):
    patient_a.weight_kg = 71
    patient_a._change_reason = "weighed again"
    patient_a.save()
    first = patient_a.history.earliest("history_date")
    url = reverse("admin:cohort_patient_simple_history", args=[patient_a.pk, first.history_id])
    client.force_login(data_manager)
    history = client.get(reverse("admin:cohort_patient_history", args=[patient_a.pk]))
    assert history.status_code == 200
    # A typed reason is free text (cohort.free_text): hidden from a data manager.
    assert "weighed again" not in history.content.decode()
    assert "(free text, hidden)" in history.content.decode()
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["revert_disabled"] is True
    rows = patient_a.history.count()
    restore = client.post(url, {"weight_kg": "70.0", "sex": "F", "age": "52"})
    assert restore.status_code == 403
    assert patient_a.history.count() == rows
    assert Patient.objects.get(pk=patient_a.pk).weight_kg == 71


def test_a_change_in_the_administration_site_asks_for_its_reason(client, data_manager, patient_a):
    client.force_login(data_manager)
    url = reverse("admin:cohort_patient_change", args=[patient_a.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in (
            (name, form[name].value()) for name in form.fields if name != "change_reason"
        )
        if value is not None
    }
    data |= {"weight_kg": "72.5", "administrations-TOTAL_FORMS": "0"}
    data |= {"administrations-INITIAL_FORMS": "0", "administrations-MAX_NUM_FORMS": "1000"}
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert "Give the reason for this change." in refused.content.decode()
    assert Patient.objects.get(pk=patient_a.pk).weight_kg != Decimal("72.5")
    saved = client.post(url, {**data, "change_reason": "weight from the ward sheet"})
    assert saved.status_code == 302
    latest = patient_a.history.latest("history_date")
    assert (latest.weight_kg, latest.history_change_reason) == (
        Decimal("72.5"),
        "weight from the ward sheet",
    )
    assert latest.history_user == data_manager


def test_sign_ins_are_logged_and_data_managers_read_them_without_changing_them(
    client, nurse_site_a, data_manager
):
    signed_in = client.post(reverse("login"), {"username": "nurse_a", "password": PASSWORD})
    assert signed_in.status_code == 302
    assert AccessLog.objects.filter(username="nurse_a").count() == 1
    client.force_login(data_manager)
    listing = client.get(reverse("admin:axes_accesslog_changelist"))
    assert listing.status_code == 200
    assert "nurse_a" in listing.content.decode()
    log = AccessLog.objects.get(username="nurse_a")
    delete = client.post(reverse("admin:axes_accesslog_delete", args=[log.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 200
    assert AccessLog.objects.filter(pk=log.pk).exists()


def test_exports_are_logged_and_data_managers_read_them_without_changing_them(
    client, statistician, data_manager, patient_a
):
    client.force_login(statistician)
    download = client.get(reverse("analytics:export_download", args=["wide", "csv"]))
    b"".join(download.streaming_content)
    log = ExportLog.objects.get()
    assert (log.user, log.layout, log.format) == (statistician, "wide", "csv")
    client.force_login(data_manager)
    listing = client.get(reverse("admin:analytics_exportlog_changelist"))
    assert listing.status_code == 200
    assert "statistician" in listing.content.decode()
    change = reverse("admin:analytics_exportlog_change", args=[log.pk])
    assert client.get(change).status_code == 200  # shown read only
    assert client.post(change, {"layout": "long"}).status_code == 403
    assert client.get(reverse("admin:analytics_exportlog_add")).status_code == 403
    assert ExportLog.objects.get().layout == "wide"


def test_site_staff_and_statisticians_have_no_administration_site(
    client, nurse_site_a, statistician
):
    for user in (nurse_site_a, statistician):
        client.force_login(user)
        response = client.get(reverse("admin:analytics_exportlog_changelist"))
        assert response.status_code == 302
        assert "/admin/login/" in response.url
