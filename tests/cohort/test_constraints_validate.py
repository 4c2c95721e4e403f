"""The check constraints asked in one statement give Django's very errors, in Django's order."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from cohort.constraints import constraints_validate
from cohort.models import KetamineAdministration, Patient

pytestmark = pytest.mark.django_db

BROKEN = {
    "valid": {},
    "sex": {"sex": "X"},
    "age": {"age": 12},
    "weight and dn4": {"weight_kg": Decimal("5"), "dn4": 11},
    "fibromyalgia dn4": {"etiology": "fibromyalgia", "dn4": 4},
    "consent after inclusion": {"consent_date": dt.date(2024, 3, 2)},
    "dates out of range": {"inclusion_date": dt.date(1990, 1, 1), "consent_date": None},
    "status before inclusion": {"status_date": dt.date(2023, 1, 1)},
    "call window": {"call_from": dt.time(12), "call_to": dt.time(9)},
    "call window half": {"call_from": dt.time(12)},
    "null pain": {"pain_duration_months": None, "paroxysms_per_day": 501},
    "everything": {"sex": "X", "age": 5, "status": "gone", "etiology": "?", "dn4": -1},
}


def _patient(site, **changes):
    values = {
        "study_code": f"{site.code}-0001",
        "site": site,
        "sex": "F",
        "age": 50,
        "inclusion_date": dt.date(2024, 3, 1),
        "consent_date": dt.date(2024, 2, 20),
        "weight_kg": Decimal("70"),
        "etiology": "crps",
        "pain_duration_months": 24,
        "status": "active",
    }
    return Patient(**(values | changes))


def _errors(validate, instance, exclude=None):
    try:
        validate(instance, exclude)
    except ValidationError as error:
        return {field: [(e.message, e.code) for e in errors] for field, errors in
                error.error_dict.items()}  # fmt: skip
    return None


@pytest.mark.parametrize("exclude", [None, {"dn4", "inclusion_date"}, {"age", "call_to"}])
@pytest.mark.parametrize("changes", BROKEN.values(), ids=BROKEN.keys())
def test_patient_checks_fail_as_djangos_own(site_a, changes, exclude):
    patient = _patient(site_a, **changes)
    mine = _errors(constraints_validate, patient, exclude)
    assert mine == _errors(models.Model.validate_constraints, patient, exclude)
    if exclude is None:
        assert (mine is None) == (changes == {})


@pytest.mark.parametrize(
    "changes",
    [{}, {"route": "oral?"}, {"days": 0}, {"days": 61, "dose_value": Decimal("-1")}],
)
def test_administration_checks_and_unique_constraints_fail_as_djangos_own(patient_a, changes):
    values = {"patient": patient_a, "date": dt.date(2024, 3, 4), "route": "iv",
              "dose_unit": "mg", "dose_value": Decimal("50"), "days": 1}  # fmt: skip
    given = KetamineAdministration(**(values | changes))
    given.compute_doses()
    assert _errors(constraints_validate, given) == _errors(models.Model.validate_constraints, given)


def test_the_checks_of_a_patient_are_one_statement(site_a):
    patient = _patient(site_a, age=12, sex="X")
    with CaptureQueriesContext(connection) as asked, pytest.raises(ValidationError):
        patient.full_clean(exclude=["site"], validate_unique=False)
    selects = [q["sql"] for q in asked.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) == 1
