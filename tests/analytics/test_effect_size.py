"""Paired effect sizes against hand calculations and the paper's published figures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analytics.stats import effect_size as es

N = 329  # patients with baseline and month 12 in the paper
MEAN_CHANGE, SD_CHANGE = -1.13, 2.22  # NPRS change, baseline to month 12
SD_BASELINE, SD_M12 = 1.8, 2.1
Z = 1.959963984540054


def test_d_z_from_the_paper_change_is_minus_0_51_with_half_width_0_115():
    d = es.d_z(MEAN_CHANGE, SD_CHANGE, N)
    assert round(d.estimate, 2) == -0.51
    assert d.se == pytest.approx(math.sqrt(1 / N + d.estimate**2 / (2 * N)))
    assert (d.ci_high - d.ci_low) / 2 == pytest.approx(0.115, abs=0.001)
    assert d.ci == pytest.approx((d.estimate - Z * d.se, d.estimate + Z * d.se))


def test_change_sd_implies_a_pre_post_correlation_of_0_36():
    r = es.implied_correlation(SD_BASELINE, SD_M12, SD_CHANGE)
    assert r == pytest.approx(0.36, abs=1e-9)
    rebuilt = SD_BASELINE**2 + SD_M12**2 - 2 * r * SD_BASELINE * SD_M12
    assert rebuilt == pytest.approx(SD_CHANGE**2)


def test_d_av_and_d_pre_follow_their_documented_formulas():
    r = 0.36
    av = es.d_av(MEAN_CHANGE, SD_BASELINE, SD_M12, N, r)
    pre = es.d_pre(MEAN_CHANGE, SD_BASELINE, N, r)
    assert av.estimate == pytest.approx(MEAN_CHANGE / math.sqrt((1.8**2 + 2.1**2) / 2))
    assert pre.estimate == pytest.approx(MEAN_CHANGE / 1.8)
    for d in (av, pre):
        assert d.se == pytest.approx(math.sqrt(2 * (1 - r) / N + d.estimate**2 / (2 * N)))
        assert d.r == r


def test_paper_sds_with_the_implied_correlation_do_not_give_the_published_minus_0_52():
    # The published ES is -0.52 [-0.62, -0.41]. With the published SDs and r = 0.36, neither
    # d_av nor d_pre reproduces it; this pins what each formula gives so that reports can say so.
    r = es.implied_correlation(SD_BASELINE, SD_M12, SD_CHANGE)
    av = es.d_av(MEAN_CHANGE, SD_BASELINE, SD_M12, N, r)
    pre = es.d_pre(MEAN_CHANGE, SD_BASELINE, N, r)
    assert [round(x, 2) for x in (av.estimate, *av.ci)] == [-0.58, -0.71, -0.45]
    assert [round(x, 2) for x in (pre.estimate, *pre.ci)] == [-0.63, -0.76, -0.5]
    dz = es.d_z(MEAN_CHANGE, SD_CHANGE, N)
    assert [round(x, 2) for x in (dz.estimate, *dz.ci)] == [-0.51, -0.62, -0.39]


def _consistent(published: tuple[float, float, float], half_width: float) -> bool:
    """Is there a d that rounds to the published ES and whose d +/- half_width rounds to its CI?"""
    estimate, low, high = published
    grid = np.linspace(estimate - 0.005, estimate + 0.005, 2001)
    ok = (
        (np.round(grid, 2) == estimate)
        & (np.round(grid - half_width, 2) == low)
        & (np.round(grid + half_width, 2) == high)
    )
    return bool(ok.any())


@pytest.mark.parametrize(
    "published",
    [(-0.52, -0.62, -0.41), (-0.44, -0.54, -0.33), (-0.58, -0.69, -0.47)],
    ids=["nprs", "hads_d", "hads_a"],
)
def test_paper_intervals_have_half_width_1_96_over_root_n(published):
    # All three published intervals fit SE = 1/sqrt(n), which is what the LMM-standardised
    # effect (M12 contrast / sqrt(2 s_e^2)) gives on complete data; the d_z SE does not fit them.
    assert _consistent(published, Z / math.sqrt(N))
    d = published[0]
    assert not _consistent(published, Z * math.sqrt(1 / N + d * d / (2 * N)))


def test_paper_half_width_fits_the_d_av_standard_error_only_with_r_near_0_57():
    # The d_av/d_pre SE equals 1/sqrt(n) when 2(1 - r) + d^2/2 = 1, i.e. r = 0.5 + d^2/4.
    r = 0.5 + 0.52**2 / 4
    assert r == pytest.approx(0.5676)
    d = es.d_av(-0.52 * math.sqrt((1.8**2 + 2.1**2) / 2), SD_BASELINE, SD_M12, N, r)
    assert d.se == pytest.approx(1 / math.sqrt(N), rel=1e-3)
    assert [round(x, 2) for x in (d.estimate, *d.ci)] == [-0.52, -0.63, -0.41]


def test_paired_effect_size_from_raw_values_matches_the_summary_formulas():
    rng = np.random.default_rng(0)
    pre = rng.normal(6.7, 1.8, 300)
    post = pre - 1.1 + rng.normal(0, 1.6, 300)
    post[:5] = np.nan
    keep = ~np.isnan(post)
    a, b = pre[keep], post[keep]
    change = b - a
    r = float(np.corrcoef(a, b)[0, 1])
    n = int(keep.sum())
    expected = {
        "d_z": es.d_z(change.mean(), change.std(ddof=1), n),
        "d_av": es.d_av(change.mean(), a.std(ddof=1), b.std(ddof=1), n, r),
        "d_pre": es.d_pre(change.mean(), a.std(ddof=1), n, r),
    }
    for kind, want in expected.items():
        got = es.paired(pre, post, kind)
        assert got.kind == kind
        assert got.n == n == 295
        assert got.estimate == pytest.approx(want.estimate)
        assert got.ci == pytest.approx(want.ci)
    assert es.paired(pre, post, "d_av").to_dict()["ci95"] == list(expected["d_av"].ci)
    with pytest.raises(ValueError, match="unknown effect size"):
        es.paired(pre, post, "hedges_g")
