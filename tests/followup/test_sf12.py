"""SF-12 v1 scoring: worked examples summed by hand from the published weights (Ware 1995)."""

from __future__ import annotations

import pytest

from followup.instruments import items, sf12
from followup.instruments.sf12 import Sf12Score

# Best answer of each item, as numbered on the form.
BEST = {
    "GH1": 1,
    "PF02": 3,
    "PF04": 3,
    "RP2": 2,
    "RP3": 2,
    "RE2": 2,
    "RE3": 2,
    "BP2": 1,
    "MH3": 1,
    "VT2": 1,
    "MH4": 6,
    "SF2": 5,
}
# Worst answer of each item.
WORST = {
    "GH1": 5,
    "PF02": 1,
    "PF04": 1,
    "RP2": 1,
    "RP3": 1,
    "RE2": 1,
    "RE3": 1,
    "BP2": 5,
    "MH3": 6,
    "VT2": 6,
    "MH4": 1,
    "SF2": 1,
}


def test_items_are_in_form_order_with_their_ranges():
    assert sf12.ITEMS == (
        "GH1",
        "PF02",
        "PF04",
        "RP2",
        "RP3",
        "RE2",
        "RE3",
        "BP2",
        "MH3",
        "VT2",
        "MH4",
        "SF2",
    )
    assert dict(sf12.RANGES) == {
        "GH1": 5,
        "PF02": 3,
        "PF04": 3,
        "RP2": 2,
        "RP3": 2,
        "RE2": 2,
        "RE3": 2,
        "BP2": 5,
        "MH3": 6,
        "VT2": 6,
        "MH4": 6,
        "SF2": 5,
    }


def test_best_answers_give_the_constants():
    # Every item in its reference category: PCS = 56.57706, MCS = 60.75781.
    result = sf12.score(BEST)
    assert result.pcs is not None
    assert result.mcs is not None
    assert result.pcs == pytest.approx(56.57706, abs=1e-9)
    assert result.mcs == pytest.approx(60.75781, abs=1e-9)
    assert (round(result.pcs, 2), round(result.mcs, 2)) == (56.58, 60.76)


def test_worst_answers_give_the_published_floor():
    # PCS = 56.57706 - 7.23216 (PF02_1) - 6.24397 (PF04_1) - 4.61617 (RP2_1) - 5.51747 (RP3_1)
    #     - 11.25544 (BP2_1) - 8.37399 (GH1_1) - 2.44706 (VT2_1) - 0.33682 (SF2_1)
    #     + 3.04365 (RE2_1) + 2.32091 (RE3_1) + 3.46638 (MH3_1) + 4.61446 (MH4_1)
    #     = 56.57706 - 46.02308 + 13.44540 = 23.99938
    # MCS = 60.75781 + 3.93115 + 2.68282 + 1.44060 + 1.66968 + 1.48619
    #     - 1.71175 (GH1_1) - 6.02409 (VT2_1) - 6.29724 (SF2_1) - 6.82672 (RE2_1)
    #     - 5.69921 (RE3_1) - 10.19085 (MH3_1) - 16.15395 (MH4_1)
    #     = 60.75781 + 11.21044 - 52.90381 = 19.06444
    result = sf12.score(WORST)
    assert result.pcs is not None
    assert result.mcs is not None
    assert result.pcs == pytest.approx(23.99938, abs=1e-9)
    assert result.mcs == pytest.approx(19.06444, abs=1e-9)
    assert (round(result.pcs, 2), round(result.mcs, 2)) == (24.00, 19.06)


def test_mixed_pattern_with_moderate_limitations():
    answers = {
        "GH1": 3,  # good -> recoded 3: GH1_3
        "PF02": 2,  # limited a little: PF02_2
        "PF04": 1,  # limited a lot: PF04_1
        "RP2": 1,  # yes: RP2_1
        "RP3": 2,  # no: reference
        "RE2": 2,  # no: reference
        "RE3": 1,  # yes: RE3_1
        "BP2": 4,  # quite a bit -> recoded 2: BP2_2
        "MH3": 4,  # some of the time -> recoded 3: MH3_3
        "VT2": 5,  # a little of the time -> recoded 2: VT2_2
        "MH4": 3,  # a good bit of the time: MH4_3
        "SF2": 3,  # some of the time: SF2_3
    }
    # PCS = 56.57706 - 3.02396 - 3.45555 - 6.24397 - 4.61617 + 2.32091 - 8.38063
    #       + 2.37241 - 2.02168 + 2.34247 - 0.18043
    #     = 56.57706 - 27.92239 + 7.03579 = 35.69046
    # MCS = 60.75781 + 0.03482 + 1.86840 + 2.68282 + 1.44060 - 5.69921 + 1.76691
    #       - 6.31121 - 4.88962 - 8.09914 - 5.63286
    #     = 60.75781 + 7.79355 - 30.63204 = 37.91932
    result = sf12.score(answers)
    assert result.pcs == pytest.approx(35.69046, abs=1e-9)
    assert result.mcs == pytest.approx(37.91932, abs=1e-9)


def test_mixed_pattern_with_poor_general_health_and_low_energy():
    answers = {
        "GH1": 5,  # poor -> recoded 1: GH1_1
        "PF02": 3,  # not limited: reference
        "PF04": 2,  # limited a little: PF04_2
        "RP2": 2,  # no: reference
        "RP3": 1,  # yes: RP3_1
        "RE2": 1,  # yes: RE2_1
        "RE3": 2,  # no: reference
        "BP2": 2,  # a little bit -> recoded 4: BP2_4
        "MH3": 2,  # most of the time -> recoded 5: MH3_5
        "VT2": 6,  # none of the time -> recoded 1: VT2_1
        "MH4": 5,  # a little of the time: MH4_5
        "SF2": 4,  # a little of the time: SF2_4
    }
    # PCS = 56.57706 - 8.37399 - 2.73557 - 5.51747 + 3.04365 - 3.80130 + 0.66514
    #       - 2.44706 + 0.41188 + 0.11038
    #     = 56.57706 - 22.87539 + 4.23105 = 37.93272
    # MCS = 60.75781 - 1.71175 + 1.43103 + 1.66968 - 6.82672 + 0.90384 - 1.94949
    #       - 6.02409 - 1.95934 - 3.13896
    #     = 60.75781 + 4.00455 - 21.61035 = 43.15201
    result = sf12.score(answers)
    assert result.pcs == pytest.approx(37.93272, abs=1e-9)
    assert result.mcs == pytest.approx(43.15201, abs=1e-9)


@pytest.mark.parametrize(
    ("item", "code", "pcs", "mcs"),
    [
        # Reversed items: code 2 is the second-best answer, i.e. recoded category max - 1.
        ("GH1", 2, 56.57706 - 1.31872, 60.75781 - 0.06064),  # GH1_4
        ("BP2", 2, 56.57706 - 3.80130, 60.75781 + 0.90384),  # BP2_4
        ("VT2", 2, 56.57706 - 0.42251, 60.75781 - 0.92057),  # VT2_5
        ("MH3", 2, 56.57706 + 0.66514, 60.75781 - 1.94949),  # MH3_5
        # Items kept as coded: code max - 1 is the second-best answer.
        ("MH4", 5, 56.57706 + 0.41188, 60.75781 - 1.95934),  # MH4_5
        ("SF2", 4, 56.57706 + 0.11038, 60.75781 - 3.13896),  # SF2_4
        ("PF02", 2, 56.57706 - 3.45555, 60.75781 + 1.86840),  # PF02_2
        ("RE2", 1, 56.57706 + 3.04365, 60.75781 - 6.82672),  # RE2_1
    ],
)
def test_one_step_from_best_moves_the_scores_by_that_category_weight(item, code, pcs, mcs):
    result = sf12.score({**BEST, item: code})
    assert result.pcs == pytest.approx(pcs, abs=1e-9)
    assert result.mcs == pytest.approx(mcs, abs=1e-9)


def test_any_missing_item_leaves_both_summaries_unscored():
    assert sf12.score({**BEST, "SF2": None}) == Sf12Score(pcs=None, mcs=None)
    absent = {item: code for item, code in BEST.items() if item != "GH1"}
    assert sf12.score(absent) == Sf12Score(pcs=None, mcs=None)


@pytest.mark.parametrize(
    ("item", "value"),
    [
        ("GH1", 6),
        ("GH1", 0),
        ("PF02", 4),
        ("RP2", 3),
        ("MH3", 7),
        ("SF2", 6),
        ("BP2", True),
        ("VT2", 2.5),
        ("MH4", "3"),
    ],
)
def test_invalid_answers_raise_naming_the_item(item, value):
    with pytest.raises(ValueError, match=f"item {item}"):
        sf12.score({**BEST, item: value})


def test_unknown_item_names_raise():
    with pytest.raises(ValueError, match="no item 'GH2'"):
        sf12.score({**BEST, "GH2": 1})


def test_integral_floats_are_accepted_as_codes():
    result = sf12.score({**BEST, "GH1": 2.0})  # type: ignore[dict-item]
    # GH1_4: 56.57706 - 1.31872 = 55.25834
    assert result.pcs == pytest.approx(55.25834, abs=1e-9)


def test_validate_answers_lists_every_problem_at_once_with_lower_case_fields():
    answers = {**BEST, "GH1": 6, "RP3": 0, "VT2": "high", "SF2": False, "XX1": 1, "MH4": None}
    problems = sf12.validate_answers(answers)
    assert set(problems) == {"sf12_gh1", "sf12_rp3", "sf12_vt2", "sf12_sf2", "sf12_xx1"}
    assert "1 to 5" in problems["sf12_gh1"]
    assert "1 to 2" in problems["sf12_rp3"]


def test_validate_answers_accepts_complete_and_partial_answers():
    assert sf12.validate_answers(WORST) == {}
    assert sf12.validate_answers({"GH1": 3, "MH3": None}) == {}


def test_item_labels_follow_the_items_and_their_option_counts():
    assert [label.field for label in items.SF12] == [f"sf12_{i.lower()}" for i in sf12.ITEMS]
    assert [label.options for label in items.SF12] == [sf12.RANGES[i] for i in sf12.ITEMS]
    assert all(label.first_code == 1 for label in items.SF12)
    assert items.SF12[0].label == "SF-12 GH1 - general health"
