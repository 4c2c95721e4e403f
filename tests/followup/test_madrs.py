"""MADRS scoring, bands, response and remission: worked examples computed by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from followup.instruments import items, madrs
from followup.instruments.madrs import MadrsScore


def ratings(*values: int | None) -> dict[int, int | None]:
    """Build the answers of items 1..10 from ten ratings in item order."""
    assert len(values) == 10
    return dict(zip(madrs.ITEMS, values, strict=True))


def test_ten_items_scored_0_to_6_with_a_total_of_0_to_60():
    assert madrs.ITEMS == (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
    assert (madrs.ITEM_MIN, madrs.ITEM_MAX, madrs.TOTAL_MAX) == (0, 6, 60)


def test_all_zero_ratings_score_0_and_absent():
    assert madrs.score(dict.fromkeys(madrs.ITEMS, 0)) == MadrsScore(total=0, band="0-6")


def test_all_maximum_ratings_score_60_and_severe():
    # 10 items x 6 = 60.
    assert madrs.score(dict.fromkeys(madrs.ITEMS, 6)) == MadrsScore(total=60, band=">=35")


def test_a_moderately_depressed_patient_is_summed_item_by_item():
    # 4+4+3+4+2+3+4+4+3+2 = 33: moderate (20-34).
    result = madrs.score(ratings(4, 4, 3, 4, 2, 3, 4, 4, 3, 2))
    assert result == MadrsScore(total=33, band="20-34")


def test_a_patient_after_treatment_is_summed_item_by_item():
    # 1+2+1+0+0+2+1+1+0+0 = 8: mild (7-19).
    assert madrs.total(ratings(1, 2, 1, 0, 0, 2, 1, 1, 0, 0)) == 8


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (0, "0-6"),
        (6, "0-6"),
        (7, "7-19"),
        (19, "7-19"),
        (20, "20-34"),
        (34, "20-34"),
        (35, ">=35"),
        (60, ">=35"),
        (None, None),
    ],
)
def test_band_edges_are_6_7_19_20_34_35(total, expected):
    assert madrs.band(total) == expected


@pytest.mark.parametrize(
    ("values", "total", "expected_band"),
    [
        # 6 + 0 x 9 = 6
        ((6, 0, 0, 0, 0, 0, 0, 0, 0, 0), 6, "0-6"),
        # 6 + 1 = 7
        ((6, 1, 0, 0, 0, 0, 0, 0, 0, 0), 7, "7-19"),
        # 6+6+6+1 = 19
        ((6, 6, 6, 1, 0, 0, 0, 0, 0, 0), 19, "7-19"),
        # 2 x 10 = 20
        ((2, 2, 2, 2, 2, 2, 2, 2, 2, 2), 20, "20-34"),
        # 3 x 10 + 4 x 1 = 34
        ((4, 4, 4, 4, 3, 3, 3, 3, 3, 3), 34, "20-34"),
        # 4 x 5 + 3 x 5 = 35
        ((4, 4, 4, 4, 4, 3, 3, 3, 3, 3), 35, ">=35"),
    ],
)
def test_scored_totals_at_the_band_edges(values, total, expected_band):
    assert madrs.score(ratings(*values)) == MadrsScore(total=total, band=expected_band)


@pytest.mark.parametrize("total", [-1, 61, 7.5, "7", True])
def test_band_rejects_impossible_totals(total):
    with pytest.raises(ValueError, match="0 to 60"):
        madrs.band(total)


def test_any_missing_item_leaves_the_total_unscored():
    assert madrs.score(ratings(4, 4, 3, None, 2, 3, 4, 4, 3, 2)) == MadrsScore(None, None)
    absent = dict.fromkeys(range(1, 10), 3)
    assert madrs.total(absent) is None  # type: ignore[arg-type]
    assert madrs.score({}) == MadrsScore(None, None)


def test_integral_floats_are_accepted_as_integers():
    answers: dict[int, object] = dict.fromkeys(madrs.ITEMS, 1)
    answers[3] = 5.0
    # 1 x 9 + 5 = 14.
    assert madrs.total(answers) == 14  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("item", "value"),
    [(3, 7), (5, -1), (6, True), (8, 2.5), (10, "2"), (1, [1]), (2, float("nan"))],
)
def test_an_invalid_rating_is_reported_on_its_field(item, value):
    answers: dict[int, object] = dict.fromkeys(madrs.ITEMS, 0)
    answers[item] = value
    problems = madrs.validate_answers(answers)
    assert list(problems) == [f"madrs_{item}"]
    assert f"MADRS item {item}" in problems[f"madrs_{item}"]
    assert "whole number from 0 to 6" in problems[f"madrs_{item}"]
    with pytest.raises(ValueError, match=f"item {item}"):
        madrs.score(answers)  # type: ignore[arg-type]


def test_unknown_item_numbers_are_refused():
    problems = madrs.validate_answers({0: 1, 11: 1, "3": 1, True: 1})  # type: ignore[dict-item]
    assert set(problems) == {"madrs_0", "madrs_11", "madrs_3", "madrs_True"}
    assert all("items 1 to 10" in message for message in problems.values())


def test_validate_lists_every_problem_at_once_and_missing_only_when_required():
    answers: dict[int, object] = {1: 7, 2: "x", 3: 2, 4: None}
    assert set(madrs.validate_answers(answers)) == {"madrs_1", "madrs_2"}
    problems = madrs.validate_answers(answers, required=True)
    assert set(problems) == {"madrs_1", "madrs_2"} | {f"madrs_{n}" for n in range(4, 11)}
    assert problems["madrs_4"] == "MADRS item 4: a rating from 0 to 6 is required."
    assert "got 7" in problems["madrs_1"]


def test_a_complete_valid_rating_has_no_problem_even_when_required():
    assert madrs.validate_answers(dict.fromkeys(madrs.ITEMS, 6), required=True) == {}


# Response, remission, change -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "total", "expected"),
    [
        (30, 15, True),  # exactly 50%
        (30, 16, False),  # 14/30 = 46.7%
        (31, 15, True),  # 16/31 = 51.6%
        (31, 16, False),  # 15/31 = 48.4%: 15.5 would be 50%, not reachable
        (33, 16, True),  # 17/33 = 51.5%
        (20, 10, True),  # exactly 50%
        (20, 11, False),  # 45%
        (20, 0, True),
        (20, 25, False),  # worse
        (1, 0, True),
        (1, 1, False),
    ],
)
def test_response_is_a_fall_of_at_least_half_the_baseline(baseline, total, expected):
    assert madrs.response(baseline, total) is expected


def test_response_from_a_baseline_of_0_is_undefined():
    assert madrs.response(0, 0) is None
    assert madrs.response(0, 5) is None
    assert madrs.percent_change(0, 0) is None


def test_response_and_change_with_a_missing_total_are_missing():
    assert madrs.response(None, 10) is None
    assert madrs.response(30, None) is None
    assert madrs.percent_change(None, 10) is None
    assert madrs.percent_change(30, None) is None


def test_percent_change_is_negative_for_an_improvement():
    assert madrs.percent_change(30, 15) == -50.0
    assert madrs.percent_change(32, 8) == -75.0
    assert madrs.percent_change(20, 25) == 25.0
    assert madrs.percent_change(30, 30) == 0.0


@pytest.mark.parametrize(("total", "expected"), [(0, True), (10, True), (11, False), (60, False)])
def test_remission_is_a_total_of_10_or_less(total, expected):
    assert madrs.remission(total) is expected


def test_remission_of_a_missing_total_is_missing():
    assert madrs.remission(None) is None


@pytest.mark.parametrize(("baseline", "total"), [(61, 10), (30, -1), (30, 12.5), (True, 3)])
def test_response_refuses_impossible_totals(baseline, total):
    with pytest.raises(ValueError, match="0 to 60"):
        madrs.response(baseline, total)


def test_the_thresholds_are_named_constants():
    assert (madrs.RESPONSE_REDUCTION_PCT, madrs.REMISSION_MAX) == (50, 10)


def test_item_labels_name_the_ten_domains_with_7_options():
    assert [label.field for label in items.MADRS] == [madrs.field_name(n) for n in madrs.ITEMS]
    assert all(label.options == 7 and label.first_code == 0 for label in items.MADRS)
    assert items.MADRS[0].label == "MADRS 1 - apparent sadness"
    assert items.MADRS[9].label == "MADRS 10 - suicidal thoughts"


# Properties ----------------------------------------------------------------------------------

rating = st.integers(min_value=madrs.ITEM_MIN, max_value=madrs.ITEM_MAX)
madrs_answers = st.fixed_dictionaries(dict.fromkeys(madrs.ITEMS, rating))
totals = st.integers(min_value=0, max_value=madrs.TOTAL_MAX)


@given(madrs_answers)
def test_the_total_is_the_sum_of_the_ten_ratings_within_0_to_60(answers):
    result = madrs.score(answers)
    assert result.total == sum(answers.values())
    assert 0 <= result.total <= madrs.TOTAL_MAX
    assert result.band == madrs.band(result.total)


@given(madrs_answers)
def test_raising_any_rating_never_lowers_the_total(answers):
    before = madrs.total(answers)
    for item in madrs.ITEMS:
        raised = {**answers, item: min(answers[item] + 1, madrs.ITEM_MAX)}
        assert madrs.total(raised) >= before


@given(madrs_answers, st.sampled_from(madrs.ITEMS))
def test_any_missing_rating_leaves_the_total_unscored(answers, item):
    answers[item] = None
    assert madrs.score(answers) == MadrsScore(None, None)


@given(totals, totals)
def test_response_holds_iff_the_total_is_at_most_half_the_baseline(baseline, total):
    result = madrs.response(baseline, total)
    if baseline == 0:
        assert result is None
    else:
        assert result is (total <= baseline / 2)
        change = madrs.percent_change(baseline, total)
        assert result is (change <= -madrs.RESPONSE_REDUCTION_PCT + 1e-9)


@given(totals, totals)
def test_bands_never_fall_as_the_total_rises(low, high):
    low, high = sorted((low, high))
    assert madrs.BANDS.index(madrs.band(low)) <= madrs.BANDS.index(madrs.band(high))


@given(totals)
def test_remission_holds_iff_the_total_is_at_most_10(total):
    assert madrs.remission(total) is (total <= 10)
