import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.roles import Role
from cohort.models import KetamineAdministration, dose_in_mg
from cohort.services import administration_record, administration_update, administration_void
from tests.conftest import SignedInClient
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_mg_per_kg_is_converted_with_the_recorded_weight(patient_a, nurse_site_a):
    # The paper's example: 70 kg x 0.5 mg/kg/d, once a month for 3 months = 105 mg.
    for month in (1, 2, 3):
        administration_record(
            patient=patient_a,
            date=dt.date(2026, month, 5),
            route="iv",
            dose_unit="mg_per_kg",
            dose_value=Decimal("0.5"),
            by=nurse_site_a,
        )
    assert patient_a.cumulative_dose_mg() == Decimal("105.00")
    assert patient_a.cumulative_dose_mg(on=dt.date(2026, 2, 28)) == Decimal("70.00")


def test_a_daily_dose_over_several_days_adds_up(patient_a, nurse_site_a):
    administration = administration_record(
        patient=patient_a,
        date=dt.date(2026, 1, 5),
        route="iv",
        dose_unit="mg",
        dose_value=Decimal("50"),
        days=5,
        infusion_minutes=120,
        by=nurse_site_a,
    )
    assert administration.dose_mg == Decimal("50.00")
    assert administration.total_mg == Decimal("250.00")


def test_voided_administration_leaves_the_cumulative_dose(patient_a, nurse_site_a):
    administration = administration_record(
        patient=patient_a,
        date=dt.date(2026, 1, 5),
        route="sc",
        dose_unit="mg",
        dose_value=Decimal("40"),
        by=nurse_site_a,
    )
    administration_void(administration=administration, by=nurse_site_a, reason="Wrong patient")
    assert patient_a.cumulative_dose_mg() == Decimal("0")
    assert KetamineAdministration.objects.filter(pk=administration.pk).exists()


def test_moving_the_first_administration_moves_the_calls_not_yet_made(patient_a, nurse_site_a):
    administration = administration_record(
        patient=patient_a,
        date=dt.date(2026, 1, 5),
        route="iv",
        dose_unit="mg",
        dose_value=Decimal("30"),
        by=nurse_site_a,
    )
    w1 = patient_a.calls.get(timepoint="W1")
    w1.status, w1.call_date = "reached", dt.date(2026, 1, 12)
    w1.save()
    administration_update(
        administration=administration,
        date=dt.date(2026, 1, 20),
        by=nurse_site_a,
        reason="Date typed wrong",
    )
    calls = {c.timepoint: c for c in patient_a.calls.all()}
    assert calls["W1"].target_date == dt.date(2026, 1, 12)  # already made: unchanged
    assert calls["M1"].target_date == dt.date(2026, 2, 20)
    assert calls["M12"].target_date == dt.date(2027, 1, 20)


def test_changing_an_administration_needs_a_reason(patient_a, nurse_site_a):
    administration = administration_record(
        patient=patient_a,
        date=dt.date(2026, 1, 5),
        route="iv",
        dose_unit="mg",
        dose_value=Decimal("30"),
        by=nurse_site_a,
    )
    with pytest.raises(ValidationError):
        administration_update(administration=administration, days=2, by=nurse_site_a, reason="")


def test_dose_in_mg_needs_a_weight_for_mg_per_kg():
    with pytest.raises(ValueError, match="weight"):
        dose_in_mg(unit="mg_per_kg", value=Decimal("0.5"), weight_kg=None)


def test_database_refuses_a_negative_dose(patient_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        KetamineAdministration.objects.bulk_create(
            [
                KetamineAdministration(
                    patient=patient_a,
                    date=dt.date(2026, 1, 5),
                    route="iv",
                    dose_unit="mg",
                    dose_value=Decimal("-5"),
                    weight_kg=Decimal("70"),
                    dose_mg=Decimal("-5"),
                    total_mg=Decimal("-5"),
                )
            ]
        )


def _correction(form, **changes):
    data = {name: form[name].value() for name in form.fields}
    data.update(changes)
    return {name: "" if value is None else str(value) for name, value in data.items()}


def test_two_corrections_at_once_never_lose_the_first(client, patient_a, nurse_site_a):
    given = administration_record(
        patient=patient_a, date=dt.date(2026, 1, 5), route="iv", dose_unit="mg",
        dose_value=Decimal("50"), by=nurse_site_a,
    )  # fmt: skip
    url = reverse("cohort:administration_edit", args=[patient_a.pk, given.pk])
    colleague = make_user("nurse_a2", Role.NURSE, [patient_a.site])
    client.force_login(nurse_site_a)
    mine = client.get(url).context["form"]
    other = SignedInClient()
    other.force_login(colleague)
    theirs = other.get(url).context["form"]
    first = other.post(url, _correction(theirs, dose_value="40", reason="two vials, not three"))
    assert first.status_code == 302

    late = client.post(url, _correction(mine, days="2", reason="given on two days"))
    assert late.status_code == 409
    page = late.content.decode()
    assert "changed by someone else" in page
    assert 'value="2"' in page  # her input is kept
    assert "given on two days" in page
    saved = KetamineAdministration.objects.get(pk=given.pk)
    assert (saved.dose_value, saved.days) == (Decimal("40"), 1)  # the first change stands

    again = client.post(url, _correction(late.context["form"], dose_value="40"))
    assert again.status_code == 302
    saved.refresh_from_db()
    assert (saved.dose_value, saved.days) == (Decimal("40"), 2)
