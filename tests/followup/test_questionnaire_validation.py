"""An answer out of range is refused three times: by the form, the serializer, the database."""

import pytest
from django.db import IntegrityError, transaction

from followup.forms import QuestionnaireForm
from followup.models import HadsResponse, NprsResponse, Sf12Response
from followup.serializers import QuestionnaireSerializer

pytestmark = pytest.mark.django_db

VALID = {
    "nprs_mean": 6,
    "nprs_max": 8,
    **{f"hads_{n}": 1 for n in range(1, 15)},
    "sf12_gh1": 3,
    "sf12_pf02": 2,
    "sf12_pf04": 2,
    "sf12_rp2": 1,
    "sf12_rp3": 2,
    "sf12_re2": 2,
    "sf12_re3": 2,
    "sf12_bp2": 4,
    "sf12_mh3": 3,
    "sf12_vt2": 4,
    "sf12_mh4": 3,
    "sf12_sf2": 3,
}


def test_form_accepts_a_valid_questionnaire():
    form = QuestionnaireForm(data=VALID, complete=True)
    assert form.is_valid(), form.errors


def test_form_refuses_a_hads_item_out_of_range_and_keeps_the_input():
    form = QuestionnaireForm(data={**VALID, "hads_6": 4}, complete=True)
    assert not form.is_valid()
    assert "hads_6" in form.errors
    assert "3" in form.errors["hads_6"][0]
    # Nothing typed is lost: the bound data still holds every answer.
    assert form["hads_6"].value() == "4" or form["hads_6"].value() == 4
    assert form["sf12_gh1"].value() in (3, "3")


def test_form_lists_every_problem_at_once():
    data = {**VALID, "hads_2": 7, "sf12_mh3": 9, "nprs_mean": 9, "nprs_max": 4}
    form = QuestionnaireForm(data=data, complete=True)
    assert not form.is_valid()
    assert {"hads_2", "sf12_mh3", "nprs_max"} <= set(form.errors)


def test_form_requires_pain_only_when_completing():
    data = {k: v for k, v in VALID.items() if not k.startswith("nprs")}
    assert QuestionnaireForm(data=data).is_valid()
    form = QuestionnaireForm(data=data, complete=True)
    assert not form.is_valid()
    assert "nprs_mean" in form.errors


def test_missing_reason_with_values_is_refused():
    form = QuestionnaireForm(data={**VALID, "hads_missing_reason": "refused"})
    assert not form.is_valid()
    assert "hads_missing_reason" in form.errors


def test_serializer_refuses_a_sf12_code_out_of_range_with_field_errors():
    serializer = QuestionnaireSerializer(data={**VALID, "sf12_rp2": 3})
    assert not serializer.is_valid()
    assert "sf12_rp2" in serializer.errors
    assert "2" in str(serializer.errors["sf12_rp2"][0])


def test_serializer_refuses_max_pain_below_mean():
    serializer = QuestionnaireSerializer(data={**VALID, "nprs_mean": 7, "nprs_max": 5})
    assert not serializer.is_valid()
    assert "nprs_max" in serializer.errors


def test_serializer_accepts_a_valid_questionnaire():
    serializer = QuestionnaireSerializer(data={**VALID, "complete": True})
    assert serializer.is_valid(), serializer.errors


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        (HadsResponse, "item_9", 4),
        (NprsResponse, "mean", 11),
        (NprsResponse, "maximum", 12),
        (Sf12Response, "mh4", 7),
        (Sf12Response, "pf02", 0),
    ],
)
def test_database_refuses_an_answer_out_of_range(patient_a, model, field, value):
    call = patient_a.calls.get(timepoint="BL")
    with pytest.raises(IntegrityError), transaction.atomic():
        # bulk_create skips model validation: only the database constraint stands in the way.
        model.objects.bulk_create([model(call=call, **{field: value})])


def test_model_validation_reports_the_constraint_in_words(patient_a):
    from django.core.exceptions import ValidationError

    response = HadsResponse(call=patient_a.calls.get(timepoint="BL"), item_9=4)
    with pytest.raises(ValidationError) as caught:
        response.full_clean()
    assert "HADS items are scored 0 to 3." in str(caught.value)


def test_database_error_names_the_broken_rule(patient_a):
    call = patient_a.calls.get(timepoint="BL")
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        NprsResponse.objects.bulk_create([NprsResponse(call=call, mean=11)])
    # PostgreSQL names the constraint; SQLite names it too ("CHECK constraint failed: ...").
    assert "nprs_mean_range" in str(caught.value)
