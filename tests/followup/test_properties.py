"""Properties of the scoring functions and of the schedule, over every input they accept.

No database. Examples are drawn deterministically (the ``ci`` profile of tests/conftest.py).
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from fractions import Fraction

from hypothesis import assume, given
from hypothesis import strategies as st

from cohort.vocabulary import FOLLOWUP_TIMEPOINTS, MONTH_OF_TIMEPOINT
from followup import schedule
from followup.instruments import hads, nprs, sf12

# HADS -------------------------------------------------------------------------------------

item_score = st.integers(min_value=hads.ITEM_MIN, max_value=hads.ITEM_MAX)
hads_answers = st.fixed_dictionaries(dict.fromkeys(hads.ITEMS, item_score))
SUBSCALES = (("anxiety", hads.ANXIETY_ITEMS), ("depression", hads.DEPRESSION_ITEMS))


def _half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))


@given(hads_answers)
def test_hads_subscales_are_the_sums_of_their_seven_items_within_0_to_21(answers):
    result = hads.score(answers)
    for name, items in SUBSCALES:
        total = getattr(result, name)
        assert total == sum(answers[item] for item in items)
        assert 0 <= total <= hads.SUBSCALE_MAX
        assert getattr(result, f"{name}_band") == hads.band(total)


@given(hads_answers, st.integers(min_value=0, max_value=6), st.booleans())
def test_one_missing_hads_item_is_prorated_as_seven_times_the_mean_rounded_half_up(
    answers, position, anxiety
):
    name, items = SUBSCALES[0] if anxiety else SUBSCALES[1]
    missing = items[position]
    answers[missing] = None
    given_scores = [answers[item] for item in items if item != missing]
    expected = _half_up(Fraction(sum(given_scores), 6) * 7)
    total = getattr(hads.score(answers), name)
    assert total == expected
    assert 0 <= total <= hads.SUBSCALE_MAX
    # The other subscale is untouched.
    other, other_items = SUBSCALES[1] if anxiety else SUBSCALES[0]
    assert getattr(hads.score(answers), other) == sum(answers[i] for i in other_items)


@given(
    hads_answers,
    st.lists(st.integers(min_value=0, max_value=6), min_size=2, max_size=7, unique=True),
    st.booleans(),
)
def test_two_or_more_missing_hads_items_leave_the_subscale_unscored(answers, positions, anxiety):
    name, items = SUBSCALES[0] if anxiety else SUBSCALES[1]
    for position in positions:
        answers[items[position]] = None
    result = hads.score(answers)
    assert getattr(result, name) is None
    assert getattr(result, f"{name}_band") is None


@given(hads_answers, st.sampled_from(hads.ITEMS), st.integers().filter(lambda n: not 0 <= n <= 3))
def test_an_hads_answer_out_of_range_is_refused(answers, item, value):
    answers[item] = value
    assert set(hads.validate_answers(answers)) == {hads.field_name(item)}


# SF-12 ------------------------------------------------------------------------------------

sf12_answers = st.fixed_dictionaries(
    {item: st.integers(min_value=1, max_value=top) for item, top in sf12.RANGES.items()}
)


def _bounds(constant: float, weights) -> tuple[float, float]:
    """Lowest and highest sums the weight table allows (the best category weighs 0)."""
    low = constant + sum(min(0.0, *w) for w in weights.values())
    high = constant + sum(max(0.0, *w) for w in weights.values())
    return low, high


PCS_BOUNDS = _bounds(sf12.PCS_CONSTANT, sf12.PCS_WEIGHTS)
MCS_BOUNDS = _bounds(sf12.MCS_CONSTANT, sf12.MCS_WEIGHTS)

# Items whose published weights rise with better health, so that a better answer never lowers
# the summary. Not SF2 for the MCS (its second-worst category weighs less than the worst) nor
# the items weighted against the summary's own domain (e.g. RE2 and MH4 in the PCS).
PCS_RISES_WITH = ("GH1", "PF02", "PF04", "RP2", "RP3", "BP2", "VT2")
MCS_RISES_WITH = ("RE2", "RE3", "MH3", "VT2", "MH4")


def test_the_best_answers_score_the_constants_and_the_bounds_hold_them():
    best = {
        item: sf12.RANGES[item] if item not in sf12.REVERSED_ITEMS else 1 for item in sf12.ITEMS
    }
    result = sf12.score(best)
    assert (result.pcs, result.mcs) == (56.57706, 60.75781)
    assert PCS_BOUNDS[0] < 56.57706 < PCS_BOUNDS[1]
    assert MCS_BOUNDS[0] < 60.75781 <= MCS_BOUNDS[1]


@given(sf12_answers)
def test_sf12_summaries_stay_within_what_the_weights_allow(answers):
    result = sf12.score(answers)
    assert PCS_BOUNDS[0] - 1e-9 <= result.pcs <= PCS_BOUNDS[1] + 1e-9
    assert MCS_BOUNDS[0] - 1e-9 <= result.mcs <= MCS_BOUNDS[1] + 1e-9


def _better(item: str, code: int) -> int | None:
    """Return the form code one category better than ``code``, or None if it is the best."""
    category = sf12.recode(item, code)
    if category == sf12.RANGES[item]:
        return None
    return next(c for c in range(1, sf12.RANGES[item] + 1) if sf12.recode(item, c) == category + 1)


@given(sf12_answers, st.sampled_from(PCS_RISES_WITH))
def test_a_better_answer_never_lowers_the_pcs(answers, item):
    better = _better(item, answers[item])
    assume(better is not None)
    before = sf12.score(answers).pcs
    after = sf12.score({**answers, item: better}).pcs
    assert after >= before


@given(sf12_answers, st.sampled_from(MCS_RISES_WITH))
def test_a_better_answer_never_lowers_the_mcs(answers, item):
    better = _better(item, answers[item])
    assume(better is not None)
    before = sf12.score(answers).mcs
    after = sf12.score({**answers, item: better}).mcs
    assert after >= before


@given(sf12_answers, st.sampled_from(sf12.ITEMS))
def test_any_missing_sf12_item_leaves_both_summaries_unscored(answers, item):
    answers[item] = None
    assert sf12.score(answers) == sf12.Sf12Score(pcs=None, mcs=None)


# NPRS -------------------------------------------------------------------------------------

rating = st.integers(min_value=nprs.MIN, max_value=nprs.MAX)


@given(rating, rating)
def test_nprs_maximum_below_the_mean_is_the_only_problem_of_valid_ratings(mean, maximum):
    problems = nprs.validate_pair(mean, maximum)
    assert list(problems) == ([] if maximum >= mean else [nprs.MAX_FIELD])


@given(st.one_of(st.integers().filter(lambda n: not 0 <= n <= 10), st.floats(), st.text()), rating)
def test_an_nprs_rating_that_is_not_a_whole_number_from_0_to_10_is_refused(value, other):
    assume(not (isinstance(value, float) and value.is_integer() and 0 <= value <= 10))
    assert nprs.MEAN_FIELD in nprs.validate_pair(value, other)
    assert nprs.MAX_FIELD in nprs.validate_pair(other, value)


# Schedule ---------------------------------------------------------------------------------

first_days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))


@given(first_days)
def test_w1_is_seven_days_after_the_first_administration(first):
    assert schedule.target_date(first, "W1") == first + dt.timedelta(days=7)


@given(first_days, st.sampled_from([tp for tp in FOLLOWUP_TIMEPOINTS if tp != "W1"]))
def test_month_k_is_the_same_day_k_months_later_clamped_to_the_month_end(first, timepoint):
    k = int(MONTH_OF_TIMEPOINT[timepoint])
    target = schedule.target_date(first, timepoint)
    assert (target.year * 12 + target.month) - (first.year * 12 + first.month) == k
    last = calendar.monthrange(target.year, target.month)[1]
    assert target.day == min(first.day, last)


@given(first_days)
def test_every_window_contains_its_target_and_targets_strictly_increase(first):
    calls = schedule.build_schedule(first)
    assert [call.timepoint for call in calls] == list(FOLLOWUP_TIMEPOINTS)
    for call in calls:
        assert call.contains(call.target)
        assert call.window_start <= call.target <= call.window_end
    targets = [call.target for call in calls]
    assert all(earlier < later for earlier, later in itertools.pairwise(targets))
    assert targets[0] > first


@given(first_days)
def test_consecutive_windows_do_not_overlap(first):
    # The module does not state it, but with windows of -7/+10 days around monthly targets (and
    # -2/+3 around W1) a call day falls in one window at most, which the outside-window flag
    # relies on; widening the windows past that would need a decision, not a silent change.
    calls = schedule.build_schedule(first)
    for earlier, later in itertools.pairwise(calls):
        assert earlier.window_end < later.window_start
