"""HADS scoring: worked examples computed by hand from the scoring rules."""

from __future__ import annotations

import pytest

from followup.instruments import hads, items
from followup.instruments.hads import HadsScore


def answers_with(anxiety: list[int | None], depression: list[int | None]) -> dict[int, int | None]:
    """Build answers from the 7 anxiety scores (items 1, 3, ..., 13) and the 7 depression ones."""
    result: dict[int, int | None] = {}
    for position in range(7):
        result[2 * position + 1] = anxiety[position]
        result[2 * position + 2] = depression[position]
    return result


def test_subscales_are_the_odd_and_the_even_items():
    assert hads.ANXIETY_ITEMS == (1, 3, 5, 7, 9, 11, 13)
    assert hads.DEPRESSION_ITEMS == (2, 4, 6, 8, 10, 12, 14)


def test_all_minimum_answers_score_zero_and_normal():
    result = hads.score(dict.fromkeys(range(1, 15), 0))
    assert result == HadsScore(anxiety=0, depression=0, anxiety_band="<=7", depression_band="<=7")


def test_all_maximum_answers_score_21_and_abnormal():
    # 7 items x 3 = 21 on each subscale.
    result = hads.score(dict.fromkeys(range(1, 15), 3))
    assert result == HadsScore(
        anxiety=21, depression=21, anxiety_band=">=11", depression_band=">=11"
    )


def test_mixed_complete_answers_are_summed_per_subscale():
    # Anxiety 2+1+3+0+2+1+1 = 10; depression 0+1+0+2+0+1+0 = 4.
    result = hads.score(answers_with([2, 1, 3, 0, 2, 1, 1], [0, 1, 0, 2, 0, 1, 0]))
    assert result.anxiety == 10
    assert result.anxiety_band == "8-10"
    assert result.depression == 4
    assert result.depression_band == "<=7"


def test_one_missing_item_is_prorated_and_a_half_rounds_up():
    # Anxiety items 1..11 answered 2+1+3+0+2+1 = 9, item 13 missing: 9 x 7/6 = 10.5 -> 11.
    result = hads.score(answers_with([2, 1, 3, 0, 2, 1, None], [1, 1, 1, 1, 1, 1, 1]))
    assert result.anxiety == 11
    assert result.anxiety_band == ">=11"
    assert result.depression == 7


def test_one_missing_item_is_prorated_and_rounded_to_nearest():
    # Depression with item 6 missing: 1+1+0+1+1+0 = 4, 4 x 7/6 = 4.67 -> 5.
    # Anxiety with item 1 missing: 0+0+1+1+1+0 = 3, 3 x 7/6 = 3.5 -> 4.
    result = hads.score(answers_with([None, 0, 0, 1, 1, 1, 0], [1, 1, None, 0, 1, 1, 0]))
    assert result.depression == 5
    assert result.anxiety == 4


def test_one_absent_item_counts_as_missing():
    # Item 14 absent: depression 3 x 6 = 18, 18 x 7/6 = 21.
    answers: dict[int, int | None] = dict.fromkeys(range(1, 14), 3)
    assert hads.score(answers).depression == 21


def test_two_missing_items_leave_the_subscale_unscored_but_not_the_other():
    # Anxiety items 3 and 9 missing; depression 1+2+1+2+1+2+1 = 10.
    result = hads.score(answers_with([1, None, 1, 1, None, 1, 1], [1, 2, 1, 2, 1, 2, 1]))
    assert result == HadsScore(
        anxiety=None, depression=10, anxiety_band=None, depression_band="8-10"
    )


def test_no_answers_at_all_leave_both_subscales_unscored():
    assert hads.score({}) == HadsScore(None, None, None, None)


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (0, "<=7"),
        (7, "<=7"),
        (8, "8-10"),
        (10, "8-10"),
        (11, ">=11"),
        (21, ">=11"),
        (None, None),
    ],
)
def test_band_boundaries_are_7_8_10_11(total, expected):
    assert hads.band(total) == expected


@pytest.mark.parametrize("total", [-1, 22, 7.5, "7", True])
def test_band_rejects_impossible_totals(total):
    with pytest.raises(ValueError, match="0 to 21"):
        hads.band(total)


@pytest.mark.parametrize(
    ("anxiety", "total", "expected_band"),
    [
        # 1+1+1+1+1+1+1 = 7
        ([1, 1, 1, 1, 1, 1, 1], 7, "<=7"),
        # 2+1+1+1+1+1+1 = 8
        ([2, 1, 1, 1, 1, 1, 1], 8, "8-10"),
        # 2+2+2+1+1+1+1 = 10
        ([2, 2, 2, 1, 1, 1, 1], 10, "8-10"),
        # 2+2+2+2+1+1+1 = 11
        ([2, 2, 2, 2, 1, 1, 1], 11, ">=11"),
    ],
)
def test_scored_totals_at_the_band_boundaries(anxiety, total, expected_band):
    result = hads.score(answers_with(anxiety, [0] * 7))
    assert result.anxiety == total
    assert result.anxiety_band == expected_band


def test_integral_floats_are_accepted_as_integers():
    answers: dict[int, int | None] = dict.fromkeys(range(1, 15), 1)
    answers[1] = 2.0  # type: ignore[assignment]
    # Anxiety 2+1x6 = 8.
    assert hads.score(answers).anxiety == 8


@pytest.mark.parametrize(
    ("item", "value", "fragment"),
    [
        (3, 4, "item 3"),
        (5, -1, "item 5"),
        (0, 1, "item 0"),
        (15, 1, "item 15"),
        (6, True, "item 6"),
        (8, 1.5, "item 8"),
        (10, "2", "item 10"),
        (12, [1], "item 12"),
    ],
)
def test_invalid_items_and_values_raise_naming_the_item(item, value, fragment):
    answers: dict[int, object] = dict.fromkeys(range(1, 15), 0)
    answers[item] = value
    with pytest.raises(ValueError, match=fragment):
        hads.score(answers)  # type: ignore[arg-type]


def test_non_integer_item_numbers_are_rejected():
    with pytest.raises(ValueError, match="items 1 to 14"):
        hads.score({"1": 0})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="items 1 to 14"):
        hads.score({True: 0})


def test_validate_answers_lists_every_problem_at_once():
    answers = {1: 0, 3: 4, 6: "x", 8: True, 9: 2.5, 15: 1, 2: None, 4: 3}
    problems = hads.validate_answers(answers)
    assert set(problems) == {"hads_3", "hads_6", "hads_8", "hads_9", "hads_15"}
    assert "4" in problems["hads_3"]
    assert "'x'" in problems["hads_6"]
    assert "item 15" in problems["hads_15"]


def test_validate_answers_accepts_valid_and_missing_answers():
    answers: dict[int, object] = {item: item % 4 for item in range(1, 14)}
    answers[14] = None
    assert hads.validate_answers(answers) == {}


def test_item_6_is_keyed_from_3_down_to_0():
    # Item 6 is positively worded but lists the most severe option first.
    assert [hads.key_item(6, position) for position in range(4)] == [3, 2, 1, 0]


def test_item_9_is_keyed_from_0_up_to_3():
    # Item 9 is a symptom item but lists the mildest option first.
    assert [hads.key_item(9, position) for position in range(4)] == [0, 1, 2, 3]


def test_every_item_is_keyed_as_on_the_printed_form():
    top_scores = {hads.key_item(item, 0) for item in (1, 3, 5, 6, 8, 10, 11, 13)}
    bottom_scores = {hads.key_item(item, 3) for item in (1, 3, 5, 6, 8, 10, 11, 13)}
    assert (top_scores, bottom_scores) == ({3}, {0})
    top_scores = {hads.key_item(item, 0) for item in (2, 4, 7, 9, 12, 14)}
    bottom_scores = {hads.key_item(item, 3) for item in (2, 4, 7, 9, 12, 14)}
    assert (top_scores, bottom_scores) == ({0}, {3})


@pytest.mark.parametrize(("item", "position"), [(0, 0), (15, 1), (6, 4), (9, -1), (9, 1.5)])
def test_key_item_rejects_unknown_items_and_positions(item, position):
    with pytest.raises(ValueError, match="HADS"):
        hads.key_item(item, position)


def test_item_labels_cover_the_14_items_with_4_options_and_the_right_subscale():
    assert [label.field for label in items.HADS] == [f"hads_{n}" for n in range(1, 15)]
    assert all(label.options == 4 and label.first_code == 0 for label in items.HADS)
    assert items.HADS[5].label.startswith("HADS 6 - ")
    assert all(label.label.endswith("(A)") for label in items.HADS[0::2])
    assert all(label.label.endswith("(D)") for label in items.HADS[1::2])
