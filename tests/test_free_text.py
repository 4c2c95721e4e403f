"""Free text that can carry identifiers, on every surface, for every role (cohort.free_text).

Every text field of every clinical model is classed (free text or not, with why); then a
distinctive name and phone number is typed into every free-text field, and as the reason of
each change, and every surface is read as each role: the pages, the history pages, the
administration site (change forms, lists and history), the API, the exports. Roles that see
identifiers read it; the others never do.
"""

from __future__ import annotations

import inspect
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse
from rest_framework import serializers as drf

from analytics.exports.variables import every_variable
from cohort import serializers as cohort_serializers
from cohort.free_text import FREE_TEXT, NOT_FREE_TEXT
from cohort.models import KetamineAdministration, Patient
from cohort.services import administration_record
from followup import serializers as followup_serializers
from followup.models import AdverseEvent, CallAttempt, ConcomitantTreatment, FollowUpCall
from safety import api as safety_api

pytestmark = pytest.mark.django_db

MARK = "Zéphyrine Brancourt 06 55 44 33 22"
CLINICAL_APPS = ("cohort", "followup", "quality", "safety")


def _text_fields() -> set[str]:
    found = set()
    for app in CLINICAL_APPS:
        for model in apps.get_app_config(app).get_models():
            if model.__name__.startswith("Historical"):
                continue
            for field in model._meta.fields:
                if isinstance(field, (models.CharField, models.TextField)) and not field.choices:
                    found.add(f"{model._meta.label}.{field.name}")
    return found


def test_every_text_field_of_every_clinical_model_is_classed():
    classed = {f"{label}.{name}" for label, names in FREE_TEXT.items() for name in names}
    assert not classed & set(NOT_FREE_TEXT), "a field is classed twice"
    unclassed = _text_fields() - classed - set(NOT_FREE_TEXT)
    assert unclassed == set(), "text fields not classed in cohort/free_text.py"
    gone = (classed | set(NOT_FREE_TEXT)) - _text_fields()
    assert gone == set(), "classed fields that no longer exist"


def _serializers() -> list[type]:
    found = []
    for module in (cohort_serializers, followup_serializers, safety_api):
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, drf.ModelSerializer) and cls.__module__ == module.__name__:
                found.append(cls)
    return found


def test_every_api_serializer_hides_the_free_text_of_its_model():
    shown, checked = [], 0
    for cls in _serializers():
        fields = set(getattr(cls.Meta, "fields", ()) or ())
        private = set(getattr(cls, "private_text_fields", ()))
        served = fields & set(FREE_TEXT.get(cls.Meta.model._meta.label, ()))
        checked += len(served)
        shown += [f"{cls.__name__}.{name}" for name in sorted(served - private)]
    assert checked >= 8
    assert shown == []  # free text shown to every role


def test_no_free_text_field_is_exported():
    exported = {name for name, _variable in every_variable()}
    for names in FREE_TEXT.values():
        assert not set(names) & exported


@pytest.fixture
def marked(patient_a, nurse_site_a, clinician_site_a):
    """A patient whose every free-text field, and the reason of each change, holds MARK."""
    call = patient_a.calls.get(timepoint="M1")
    administration = administration_record(
        patient=patient_a, date=patient_a.inclusion_date, route="iv", dose_unit="mg",
        dose_value=Decimal("50"), by=nurse_site_a,
    )  # fmt: skip
    attempt = CallAttempt.objects.create(call=call, by=nurse_site_a, outcome="no_answer", note="")
    event = AdverseEvent.objects.create(call=call, type="other", severity="mild", other_text="x")
    treatment = ConcomitantTreatment.objects.create(
        call=call, kind="drug", code="other", name="x", other_text="x"
    )
    rows: list[Any] = [
        Patient.objects.get(pk=patient_a.pk),
        KetamineAdministration.objects.get(pk=administration.pk),
        FollowUpCall.objects.get(pk=call.pk),
        attempt,
        event,
        treatment,
    ]
    for row in rows:
        for name in FREE_TEXT[row._meta.label]:
            setattr(row, name, MARK)
        row._change_reason = MARK
        row._history_user = nurse_site_a
        row.save()
    return {"patient": patient_a, "call": call, "administration": administration, "rows": rows}


def _surfaces(marked: dict[str, Any], staff: bool) -> list[str]:
    patient, call = marked["patient"], marked["call"]
    urls = [
        reverse("cohort:patient_detail", args=[patient.pk]),
        reverse("cohort:patient_history", args=[patient.pk]),
        reverse("followup:call_history", args=[call.pk]),
        f"/api/v1/patients/{patient.pk}/",
        f"/api/v1/calls/{call.pk}/",
        f"/api/v1/administrations/{marked['administration'].pk}/",
        "/api/v1/adverse-events/",
        "/api/v1/treatments/",
    ]
    if staff:
        urls.append(reverse("followup:call_entry", args=[call.pk]))
    return urls


def _admin_surfaces(marked: dict[str, Any]) -> list[str]:
    urls = []
    for row in marked["rows"]:
        opts = row._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        urls += [
            reverse(f"{base}_change", args=[row.pk]),
            reverse(f"{base}_changelist"),
            reverse(f"{base}_history", args=[row.pk]),
        ]
    return urls


def _read(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code in (200, 403, 404), (url, response.status_code)
    return response.content.decode() if response.status_code == 200 else ""


@pytest.mark.parametrize("role", ["statistician", "data_manager"])
def test_roles_without_identifiers_never_read_the_free_text(client, request, marked, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    urls = _surfaces(marked, staff=role == "data_manager")
    if role == "data_manager":
        urls += _admin_surfaces(marked)
    opened = 0
    for url in urls:
        page = _read(client, url)
        opened += bool(page)
        assert "Brancourt" not in page, url
        assert "06 55 44 33 22" not in page, url
    assert opened >= 6  # the surfaces were read, not refused


@pytest.mark.parametrize("role", ["nurse_site_a", "clinician_site_a"])
def test_site_staff_read_the_free_text(client, request, marked, role):
    client.force_login(request.getfixturevalue(role))
    pages = [_read(client, url) for url in _surfaces(marked, staff=True)]
    history = _read(client, reverse("cohort:patient_history", args=[marked["patient"].pk]))
    assert "Brancourt" in history
    assert sum("Brancourt" in page for page in pages) >= 5
