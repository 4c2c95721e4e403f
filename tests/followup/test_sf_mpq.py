"""SF-MPQ scoring and the baseline pain groups: worked examples computed by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from followup.instruments import items, sf_mpq
from followup.instruments.sf_mpq import PainGroupRule, SfMpqScore


def rated(*values: int | None) -> dict[int, int | None]:
    """Build the descriptors 1..15 from fifteen ratings in descriptor order."""
    assert len(values) == 15
    return dict(zip(sf_mpq.DESCRIPTORS, values, strict=True))


def test_descriptors_1_to_11_are_sensory_and_12_to_15_affective():
    assert sf_mpq.SENSORY == (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
    assert sf_mpq.AFFECTIVE == (12, 13, 14, 15)
    assert sf_mpq.SENSORY + sf_mpq.AFFECTIVE == sf_mpq.DESCRIPTORS
    # 11 x 3, 4 x 3, 15 x 3.
    assert (sf_mpq.SENSORY_MAX, sf_mpq.AFFECTIVE_MAX, sf_mpq.TOTAL_MAX) == (33, 12, 45)


def test_no_pain_at_all_scores_zero_everywhere():
    result = sf_mpq.score(dict.fromkeys(sf_mpq.DESCRIPTORS, 0), vas=0, ppi=0)
    assert result == SfMpqScore(sensory=0, affective=0, total=0, vas=0, ppi=0)


def test_the_worst_answers_score_the_maxima():
    result = sf_mpq.score(dict.fromkeys(sf_mpq.DESCRIPTORS, 3), vas=100, ppi=5)
    assert result == SfMpqScore(sensory=33, affective=12, total=45, vas=100, ppi=5)


def test_a_patient_with_chronic_pain_is_summed_by_dimension():
    # Sensory 2+1+0+1+0+0+2+3+1+2+0 = 12; affective 2+1+0+1 = 4; total 16.
    result = sf_mpq.score(rated(2, 1, 0, 1, 0, 0, 2, 3, 1, 2, 0, 2, 1, 0, 1), vas=58, ppi=3)
    assert result == SfMpqScore(sensory=12, affective=4, total=16, vas=58, ppi=3)


def test_a_blank_descriptor_leaves_its_index_and_the_total_unscored_but_not_the_other():
    # Descriptor 13 blank: affective unscored; sensory 1 x 11 = 11.
    result = sf_mpq.score(rated(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, None, 2, 2), vas=30, ppi=2)
    assert result == SfMpqScore(sensory=11, affective=None, total=None, vas=30, ppi=2)
    # Descriptor 4 absent: sensory unscored; affective 2 x 4 = 8.
    answers = dict.fromkeys(sf_mpq.DESCRIPTORS, 2)
    del answers[4]
    result = sf_mpq.score(answers)
    assert (result.sensory, result.affective, result.total) == (None, 8, None)


def test_vas_and_ppi_are_scored_or_missing_on_their_own():
    result = sf_mpq.score({}, vas=12)
    assert result == SfMpqScore(None, None, None, vas=12, ppi=None)
    assert sf_mpq.score(dict.fromkeys(sf_mpq.DESCRIPTORS, 1)).total == 15


def test_integral_floats_are_accepted_as_integers():
    answers: dict[int, object] = dict.fromkeys(sf_mpq.DESCRIPTORS, 0)
    answers[12] = 3.0
    result = sf_mpq.score(answers, vas=45.0, ppi=2.0)  # type: ignore[arg-type]
    assert (result.affective, result.total, result.vas, result.ppi) == (3, 3, 45, 2)


@pytest.mark.parametrize(
    ("descriptor", "value"), [(1, 4), (5, -1), (11, True), (12, 1.5), (15, "2"), (3, None)]
)
def test_an_invalid_descriptor_rating_is_reported_on_its_field(descriptor, value):
    answers: dict[int, object] = dict.fromkeys(sf_mpq.DESCRIPTORS, 0)
    answers[descriptor] = value
    problems = sf_mpq.validate(answers, vas=10, ppi=1)
    if value is None:
        assert problems == {}
        return
    assert list(problems) == [f"sf_mpq_{descriptor}"]
    message = problems[f"sf_mpq_{descriptor}"]
    assert f"SF-MPQ descriptor {descriptor} must be a whole number from 0 to 3" in message
    with pytest.raises(ValueError, match=f"descriptor {descriptor}"):
        sf_mpq.score(answers)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("vas", "ppi", "fields"),
    [
        (101, 2, {"sf_mpq_vas"}),
        (-1, 2, {"sf_mpq_vas"}),
        (45.5, 2, {"sf_mpq_vas"}),
        ("45", 2, {"sf_mpq_vas"}),
        (40, 6, {"sf_mpq_ppi"}),
        (40, -1, {"sf_mpq_ppi"}),
        (40, True, {"sf_mpq_ppi"}),
        (200, 9, {"sf_mpq_vas", "sf_mpq_ppi"}),
    ],
)
def test_vas_and_ppi_out_of_range_or_not_whole_are_reported(vas, ppi, fields):
    problems = sf_mpq.validate(dict.fromkeys(sf_mpq.DESCRIPTORS, 0), vas, ppi)
    assert set(problems) == fields
    if "sf_mpq_vas" in fields:
        assert "VAS (mm) must be a whole number from 0 to 100" in problems["sf_mpq_vas"]
    if "sf_mpq_ppi" in fields:
        assert "intensity must be a whole number from 0 to 5" in problems["sf_mpq_ppi"]


def test_unknown_descriptor_numbers_are_refused():
    problems = sf_mpq.validate({0: 1, 16: 1, "2": 1})  # type: ignore[dict-item]
    assert set(problems) == {"sf_mpq_0", "sf_mpq_16", "sf_mpq_2"}
    assert all("descriptors 1 to 15" in message for message in problems.values())


def test_blank_answers_are_problems_only_when_required():
    answers: dict[int, object] = dict.fromkeys(range(1, 15), 1)
    assert sf_mpq.validate(answers) == {}
    problems = sf_mpq.validate(answers, required=True)
    assert set(problems) == {"sf_mpq_15", "sf_mpq_vas", "sf_mpq_ppi"}
    assert problems["sf_mpq_15"] == "SF-MPQ descriptor 15: a rating from 0 to 3 is required."
    assert problems["sf_mpq_vas"] == "SF-MPQ VAS (mm): a value from 0 to 100 is required."


def test_item_labels_are_numbered_and_carry_no_descriptor_word():
    fields = [label.field for label in items.SF_MPQ]
    assert fields == [sf_mpq.field_name(n) for n in sf_mpq.DESCRIPTORS] + [
        sf_mpq.VAS_FIELD,
        sf_mpq.PPI_FIELD,
    ]
    assert items.SF_MPQ[0].label == "SF-MPQ descriptor 1 (S)"
    assert items.SF_MPQ[14].label == "SF-MPQ descriptor 15 (Af)"
    assert [label.options for label in items.SF_MPQ[15:]] == [101, 6]
    assert all(label.options == 4 for label in items.SF_MPQ[:15])


# Pain groups ---------------------------------------------------------------------------------


def baseline(**scores: int | None) -> SfMpqScore:
    """An SF-MPQ score with the given fields and the others blank."""
    fields = dict.fromkeys(("sensory", "affective", "total", "vas", "ppi"))
    return SfMpqScore(**{**fields, **scores})


@pytest.mark.parametrize(
    ("ppi", "group"),
    [(0, "none"), (1, "mild"), (2, "mild"), (3, "severe"), (5, "severe"), (None, None)],
)
def test_the_default_groups_cut_the_ppi_at_1_and_3(ppi, group):
    assert sf_mpq.pain_group(baseline(ppi=ppi, vas=90)) == group


@pytest.mark.parametrize(
    ("vas", "group"),
    [(0, "none"), (4, "none"), (5, "mild"), (44, "mild"), (45, "severe"), (100, "severe")],
)
def test_groups_can_cut_another_measure(vas, group):
    rule = PainGroupRule(measure="vas", mild_from=5, severe_from=45)
    assert sf_mpq.pain_group(baseline(vas=vas, ppi=0), rule) == group


@pytest.mark.parametrize(
    ("measure", "mild_from", "severe_from"),
    [("pri", 1, 3), ("ppi", 0, 3), ("ppi", 3, 3), ("ppi", 4, 2), ("ppi", 1, 6), ("vas", 5, 101)],
)
def test_a_rule_that_does_not_split_its_measure_in_three_is_refused(
    measure, mild_from, severe_from
):
    with pytest.raises(ValueError, match="Pain group"):
        PainGroupRule(measure=measure, mild_from=mild_from, severe_from=severe_from)


# Properties ----------------------------------------------------------------------------------

descriptor_rating = st.integers(min_value=sf_mpq.DESCRIPTOR_MIN, max_value=sf_mpq.DESCRIPTOR_MAX)
all_descriptors = st.fixed_dictionaries(dict.fromkeys(sf_mpq.DESCRIPTORS, descriptor_rating))
vas_values = st.integers(min_value=sf_mpq.VAS_MIN, max_value=sf_mpq.VAS_MAX)
ppi_values = st.integers(min_value=sf_mpq.PPI_MIN, max_value=sf_mpq.PPI_MAX)


@given(all_descriptors, vas_values, ppi_values)
def test_sensory_plus_affective_is_the_total_and_every_score_stays_in_range(answers, vas, ppi):
    result = sf_mpq.score(answers, vas, ppi)
    assert result.sensory + result.affective == result.total
    assert result.total == sum(answers.values())
    assert 0 <= result.sensory <= sf_mpq.SENSORY_MAX
    assert 0 <= result.affective <= sf_mpq.AFFECTIVE_MAX
    assert 0 <= result.total <= sf_mpq.TOTAL_MAX
    assert (result.vas, result.ppi) == (vas, ppi)


@given(all_descriptors)
def test_raising_any_descriptor_never_lowers_any_score(answers):
    before = sf_mpq.score(answers)
    for descriptor in sf_mpq.DESCRIPTORS:
        raised = {**answers, descriptor: min(answers[descriptor] + 1, sf_mpq.DESCRIPTOR_MAX)}
        after = sf_mpq.score(raised)
        assert after.sensory >= before.sensory
        assert after.affective >= before.affective
        assert after.total >= before.total


@given(all_descriptors, st.sampled_from(sf_mpq.DESCRIPTORS))
def test_a_blank_descriptor_leaves_only_its_own_index_and_the_total_unscored(answers, blank):
    answers[blank] = None
    result = sf_mpq.score(answers)
    assert result.total is None
    if blank in sf_mpq.SENSORY:
        assert result.sensory is None
        assert result.affective == sum(answers[n] for n in sf_mpq.AFFECTIVE)
    else:
        assert result.affective is None
        assert result.sensory == sum(answers[n] for n in sf_mpq.SENSORY)


@given(
    all_descriptors,
    st.sampled_from(sf_mpq.DESCRIPTORS),
    st.integers().filter(lambda n: not 0 <= n <= 3),
)
def test_a_descriptor_rating_out_of_range_is_refused_on_its_field_alone(answers, descriptor, bad):
    answers[descriptor] = bad
    assert set(sf_mpq.validate(answers, 50, 2)) == {sf_mpq.field_name(descriptor)}


@given(ppi_values, ppi_values)
def test_the_default_pain_group_never_falls_as_the_ppi_rises(low, high):
    low, high = sorted((low, high))
    groups = sf_mpq.PAIN_GROUPS
    rank_low = groups.index(sf_mpq.pain_group(baseline(ppi=low)))
    assert rank_low <= groups.index(sf_mpq.pain_group(baseline(ppi=high)))
