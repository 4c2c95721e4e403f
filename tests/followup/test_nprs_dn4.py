"""NPRS and DN4: ranges, bands, consistency and the etiology rule."""

from __future__ import annotations

import pytest

from followup.instruments import dn4, items, nprs


def test_nprs_range_is_0_to_10():
    assert (nprs.MIN, nprs.MAX) == (0, 10)


@pytest.mark.parametrize("value", [0, 5, 10, 7.0])
def test_nprs_accepts_whole_numbers_from_0_to_10(value):
    assert nprs.validate(value) is None


@pytest.mark.parametrize("value", [-1, 11, True, False, 5.5, "5", [5], float("nan")])
def test_nprs_rejects_out_of_range_and_wrong_types(value):
    message = nprs.validate(value)
    assert message is not None
    assert "0 to 10" in message


def test_nprs_missing_value_is_required_unless_told_otherwise():
    assert nprs.validate(None) is not None
    assert nprs.validate(None, required=False) is None


def test_nprs_pair_in_range_and_consistent_has_no_problem():
    assert nprs.validate_pair(4, 7) == {}
    assert nprs.validate_pair(6, 6) == {}


def test_nprs_maximum_below_mean_is_reported_on_the_maximum():
    problems = nprs.validate_pair(6, 5)
    assert set(problems) == {"nprs_max"}
    assert "lower than mean" in problems["nprs_max"]


def test_nprs_pair_reports_each_out_of_range_value():
    assert set(nprs.validate_pair(11, -1)) == {"nprs_mean", "nprs_max"}
    assert set(nprs.validate_pair(3, "8")) == {"nprs_max"}


def test_nprs_pair_does_not_compare_when_a_value_is_invalid():
    # 12 is out of range; the 12 > 5 comparison would be meaningless.
    problems = nprs.validate_pair(12, 5)
    assert set(problems) == {"nprs_mean"}
    assert "got 12" in problems["nprs_mean"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "<3"), (2, "<3"), (3, "3-6"), (6, "3-6"), (7, ">=7"), (10, ">=7"), (None, None)],
)
def test_nprs_band_boundaries_are_3_and_7(value, expected):
    assert nprs.band(value) == expected


@pytest.mark.parametrize("value", [-1, 11, 2.5, True])
def test_nprs_band_rejects_impossible_ratings(value):
    with pytest.raises(ValueError, match="0 to 10"):
        nprs.band(value)


@pytest.mark.parametrize("value", [0, 4, 10])
def test_dn4_accepts_totals_from_0_to_10_for_a_neuropathic_etiology(value):
    assert dn4.validate(value, "peripheral_neuropathic") is None


@pytest.mark.parametrize("value", [-1, 11, 3.5, "4", True])
def test_dn4_rejects_out_of_range_and_wrong_types(value):
    message = dn4.validate(value, "crps")
    assert message is not None
    assert "0 to 10" in message


def test_dn4_is_not_asked_for_fibromyalgia():
    assert dn4.validate(None, "fibromyalgia") is None
    message = dn4.validate(3, "fibromyalgia")
    assert message is not None
    assert "fibromyalgia" in message


def test_dn4_missing_is_an_error_when_it_is_asked_unless_told_otherwise():
    assert dn4.validate(None, "central_neuropathic") is not None
    assert dn4.validate(None, "central_neuropathic", required=False) is None


@pytest.mark.parametrize(("total", "expected"), [(0, False), (3, False), (4, True), (10, True)])
def test_dn4_cutoff_is_4(total, expected):
    assert dn4.is_neuropathic(total) is expected


@pytest.mark.parametrize("total", [-1, 11, None, 4.5])
def test_dn4_cutoff_rejects_impossible_totals(total):
    with pytest.raises(ValueError, match="0 to 10"):
        dn4.is_neuropathic(total)


def test_dn4_score_counts_the_yes_answers():
    assert dn4.score(dict.fromkeys(range(1, 11), False)) == 0
    assert dn4.score(dict.fromkeys(range(1, 11), True)) == 10
    # Yes to items 1, 4, 5 (interview) and 10 (examination): 1 + 1 + 1 + 1 = 4.
    answers = {item: item in (1, 4, 5, 10) for item in range(1, 11)}
    assert dn4.score(answers) == 4


def test_dn4_score_needs_all_ten_items_as_booleans():
    with pytest.raises(ValueError, match="missing: 10"):
        dn4.score(dict.fromkeys(range(1, 10), True))
    with pytest.raises(ValueError, match="item 3"):
        dn4.score({**dict.fromkeys(range(1, 11), False), 3: 1})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="item 11"):
        dn4.score(dict.fromkeys(range(1, 12), False))


def test_item_labels_of_nprs_and_dn4():
    assert [label.field for label in items.NPRS] == ["nprs_mean", "nprs_max"]
    assert all(label.options == 11 and label.first_code == 0 for label in items.NPRS)
    assert [label.field for label in items.DN4] == [f"dn4_{n}" for n in range(1, 11)]
    assert all(label.options == 2 for label in items.DN4)
    assert set(items.BY_INSTRUMENT) == {"hads", "sf12", "nprs", "dn4", "madrs", "sf_mpq"}
