"""Calibration of the trajectory memberships: claimed against realised accuracy, over demo seeds.

Run: nice -n 10 .venv/bin/python bench/calibration.py [--runs 329:10 3290:3] [--starts 3]
     [--models gbtm ri blcv blcv4 blcv3ms blcv4ms truestart oracle] [--mixed-k 2 3 4] [--drawn]
     [--generator paper|step|step-symmetric] [--extra-starts 4] [--rounding 1]

Each seed draws a demo cohort (known latent group of every patient) and fits on its IV patients'
observed NPRS:

- gbtm: the paper's group-based model (3 groups, the best BIC among orders 1-3, as the report
  does), with the BIC sweep over 1-5 groups;
- ri: the latent-class mixed model with a random intercept (fit_mixed_classes, defaults);
- blcv: the same with the baseline call its own (baseline=True) and the variances by group
  (class_variances=True);
- blcv4: blcv with 4 groups, the two with the lowest fitted level at M6 read as one T1 (the
  demo's T1 holds two forms: patients whose pain falls to a floor, and the others);
- blcv4ms: blcv4 fitted from the group-based start and from --extra-starts starts that split
  the patients by a noisy rank of their follow-up level; the fit of highest likelihood is kept;
- blcv3ms: the same with 3 groups, read as they are;
- truestart: blcv4 fitted from the oracle's parameters (below), to see where the likelihood
  leads from the truth;
- oracle: blcv's parameters estimated on each true group (and the T1 forms) apart, the truth
  known: the accuracy the model's structure allows, and whether its posteriors then tell it.

--generator draws the demo from a what-if variant of its generator: "step" makes each patient's
own depression change a level shift from W1 on instead of following the mean curve's shape (the
paper is silent on it; same change SD at M12); "step-symmetric" also makes the baseline-only
pain excess symmetric (normal) instead of skewed to the left (the skew reproduces the Table's
59.4% of baseline NPRS >= 7; symmetric, about 52%). These tell which features of the demo keep
the mixed models' posteriors from being calibrated.

With --rounding h, every mixed model takes the scores as rounded to a grid of width h (1 for the
NPRS: fit_mixed_classes(rounding=h)), which bounds the likelihood of patients who give the same
score at every call.

With --drawn, the calls are drawn from blcv fitted on each true form (same patients, gaps and
rounding): the model then holds exactly, and what remains of the gap is the fit's, not the
model's.

Each mixed fit starts from the group-based fit with as many groups. For each model it prints
the claimed accuracy (mean posterior of the assigned group, what APP promises), the realised
accuracy (share of patients whose assigned group is their true latent group, groups matched to
the truth by the permutation that agrees best), the adjusted Rand index, the number of groups
BIC chooses (mixed models: among --mixed-k), the estimated shares and the fit time. With gbtm
and ri both run, it prints the truth-free check the report gives (two_models.accuracy_claims):
how often the two models agree, the bound that puts on the lesser of their accuracies, and
whether their two claims can both hold.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODELS = ("gbtm", "ri", "blcv", "blcv4", "blcv3ms", "blcv4ms", "truestart", "oracle")
# What-if variants of the demo's generator (demo/synthetic/params.py), set before drawing.
GENERATORS: dict[str, dict[str, Any]] = {
    "paper": {},
    "step": {"HADS_D_OWN_CHANGE": "step"},
    "step-symmetric": {"HADS_D_OWN_CHANGE": "step", "NPRS_BASELINE_TRANSIENT_SHAPE": 1e6},
}
FORMS = {"on": False}  # --forms
MIXED: dict[str, dict[str, Any]] = {"ri": {}, "blcv": {"baseline": True, "class_variances": True}}


def _wide(cohort: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float]]:
    """Return the IV patients' NPRS (patients x months), true group (0-2), responder flag."""
    from analytics.stats.mixed import MONTHS

    truth = cohort.truth["patients"]
    route = dict(zip(truth["study_code"], truth["route"], strict=True))
    group = dict(zip(truth["study_code"], truth["latent_group"], strict=True))
    floor = dict(zip(truth["study_code"], truth["t1_responder"], strict=True))
    calls = cohort.calls[cohort.calls["study_code"].map(route) == "iv"].copy()
    calls["month"] = calls["timepoint"].map(MONTHS)
    calls["nprs"] = calls["nprs_mean"].astype("Float64").astype(float)
    wide = calls.pivot_table(index="study_code", columns="month", values="nprs", dropna=False)
    months = sorted(MONTHS.values())
    wide = wide.reindex(columns=months)
    wide = wide[wide.notna().any(axis=1)]
    true = np.array([int(group[code]) - 1 for code in wide.index])
    responder = np.array([bool(floor[code]) for code in wide.index])
    return wide.to_numpy(dtype=float), true, responder, months


def _agreement(assigned: np.ndarray, true: np.ndarray, k: int) -> float:
    best = 0.0
    for perm in itertools.permutations(range(max(k, true.max() + 1))):
        best = max(best, float(np.mean(np.asarray(perm)[assigned] == true)))
    return best


def _ari(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.special import comb

    table = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(table, (a, b), 1)
    pairs = comb(table, 2).sum()
    rows, cols = comb(table.sum(1), 2).sum(), comb(table.sum(0), 2).sum()
    expected = rows * cols / comb(a.size, 2)
    return float((pairs - expected) / ((rows + cols) / 2 - expected))


def _row(post: np.ndarray, true: np.ndarray, shares: Any, bic_k: int, seconds: float) -> dict:
    """Claimed and realised accuracy of the posterior (patients x groups) against the truth."""
    keep = ~np.isnan(post).any(axis=1)
    post, true = post[keep], true[keep]
    assigned = post.argmax(axis=1)
    return {
        "claimed": float(post.max(axis=1).mean()),
        "realised": _agreement(assigned, true, post.shape[1]),
        "ari": _ari(assigned, true),
        "bic_k": bic_k,
        "shares": [float(s) for s in shares],
        "seconds": seconds,
    }


def _start(fit: Any) -> dict[str, Any]:
    """Start of a mixed fit from a group-based fit: its curves, a part of sigma, its shares."""
    return {
        "start_betas": [[c.estimate for c in g.coefficients] for g in fit.groups],
        "start_sigma": 0.7 * fit.sigma,
        "start_tau": 1.0,
        "start_pi": [g.pi for g in fit.groups],
    }


def _merge_lowest(fit: Any) -> np.ndarray:
    """Posterior over 3 groups from a 4-group fit: the two lowest at M6 read as one."""
    at = list(fit.months).index(6.0)
    order = np.argsort(np.asarray(fit.fitted)[:, at])
    post = fit.posterior
    return np.c_[post[:, order[0]] + post[:, order[1]], post[:, order[2]], post[:, order[3]]]


def _mixed(name: str, y: np.ndarray, months: list[float], best: dict, ks: list[int], cache: dict):
    """Posterior, shares, BIC's K and fit time of a mixed model (fits per K kept in cache)."""
    from analytics.stats.trajectories.mixed_classes import fit_mixed_classes

    options = MIXED["blcv" if name == "blcv4" else name]
    fits = cache.setdefault(tuple(sorted(options)), {})
    for k in sorted({*ks, 4 if name == "blcv4" else 3}):
        if k not in fits:
            fits[k] = fit_mixed_classes(y, months, best[k].orders, **_start(best[k]), **options)
    bic_k = max(fits, key=lambda k: fits[k].bic)
    if name == "blcv4":
        fit = fits[4]
        post = _merge_lowest(fit)
        at = list(fit.months).index(6.0)
        order = np.argsort(np.asarray(fit.fitted)[:, at])
        shares = [fit.pi[order[0]] + fit.pi[order[1]], fit.pi[order[2]], fit.pi[order[3]]]
    else:
        fit = fits[3]
        post, shares = fit.posterior, fit.pi
    return post, shares, bic_k, fit.seconds


def _quantile_starts(y: np.ndarray, months: list[float], k: int, count: int, seed: int):
    """Starts from partitions of the patients by a noisy rank of their follow-up level.

    Each start splits the patients at the quantiles of their mean follow-up NPRS plus N(0, 1)
    noise, and starts every group at a cubic through its partition's mean at each month.
    """
    rng = np.random.default_rng(seed)
    t = np.asarray(months) / 10.0
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        level = np.nanmean(y[:, 1:], axis=1)
    for _ in range(count):
        noisy = level + rng.standard_normal(level.size)
        seen = noisy[np.isfinite(noisy)]
        noisy = np.where(np.isfinite(noisy), noisy, rng.choice(seen, level.size))
        label = np.searchsorted(np.quantile(noisy, np.linspace(0, 1, k + 1)[1:-1]), noisy)
        betas = []
        for j in range(k):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(y[label == j], axis=0)
            ok = np.isfinite(mean)
            betas.append(np.polyfit(t[ok], mean[ok], 3)[::-1])
        shares = np.bincount(label, minlength=k) / label.size
        yield {"start_betas": betas, "start_sigma": 0.9, "start_tau": 1.4, "start_pi": shares}


def _multistart(y: np.ndarray, months: list[float], best: dict, starts: int, seed: int, k: int):
    """blcv with k groups from the group-based start and ``starts`` quantile starts; the fit of
    best likelihood (k = 4: the two lowest at M6 read as one, as blcv4)."""
    from analytics.stats.trajectories.mixed_classes import fit_mixed_classes

    began = time.perf_counter()
    options = MIXED["blcv"]
    fits = [fit_mixed_classes(y, months, best[k].orders, **_start(best[k]), **options)]
    for start in _quantile_starts(y, months, k, starts, seed):
        fits.append(fit_mixed_classes(y, months, (3,) * k, **start, **options))
    fit = max(fits, key=lambda f: f.log_likelihood)
    lls = sorted(round(f.log_likelihood, 1) for f in fits)
    print(f"        blcv{k}ms log-likelihoods of the starts: {lls}", flush=True)
    if k == 3 or FORMS["on"]:
        return fit.posterior, fit.pi, k, time.perf_counter() - began
    at = list(fit.months).index(6.0)
    order = np.argsort(np.asarray(fit.fitted)[:, at])
    shares = [fit.pi[order[0]] + fit.pi[order[1]], fit.pi[order[2]], fit.pi[order[3]]]
    return _merge_lowest(fit), shares, 4, time.perf_counter() - began


def _true_start(y: np.ndarray, months: list[float], true: np.ndarray, responder: np.ndarray):
    """blcv4 fitted from the oracle's parameters: where the likelihood leads from the truth."""
    from analytics.stats.trajectories.mixed_classes import fit_mixed_classes

    began = time.perf_counter()
    form, fits = _form_fits(y, months, true, responder)
    forms = sorted(fits)
    fit = fit_mixed_classes(
        y,
        months,
        (3,) * len(forms),
        start_betas=[fits[f].betas[0] for f in forms],
        start_sigma=0.9,
        start_tau=1.4,
        start_pi=[float(np.mean(form == f)) for f in forms],
        **MIXED["blcv"],
    )
    at = list(fit.months).index(6.0)
    order = np.argsort(np.asarray(fit.fitted)[:, at])
    shares = [fit.pi[order[0]] + fit.pi[order[1]], fit.pi[order[2]], fit.pi[order[3]]]
    return _merge_lowest(fit), shares, 4, time.perf_counter() - began


def _form_fits(y: np.ndarray, months: list[float], true: np.ndarray, responder: np.ndarray):
    """blcv with one group fitted on each true form apart (T1's floor form as a 4th form)."""
    from analytics.stats.trajectories.mixed_classes import fit_mixed_classes

    form = np.where(responder, 3, true)
    fits = {}
    for f in range(4):
        if np.any(form == f):
            fits[f] = fit_mixed_classes(
                y[form == f], months, (3,), start_sigma=0.9, start_tau=1.4, **MIXED["blcv"]
            )
    return form, fits


def _oracle(y: np.ndarray, months: list[float], true: np.ndarray, responder: np.ndarray):
    """Posterior of the true groups under blcv's parameters fitted on each true form apart."""
    from scipy import special

    began = time.perf_counter()
    form, fits = _form_fits(y, months, true, responder)
    terms = np.full((y.shape[0], 3), -np.inf)
    for f, fit in fits.items():
        log_density = _log_density(fit, y, months)
        g = 0 if f == 3 else f
        terms[:, g] = np.logaddexp(terms[:, g], log_density + np.log(np.mean(form == f)))
    post = np.exp(terms - special.logsumexp(terms, axis=1)[:, None])
    shares = [float(np.mean(true == g)) for g in range(3)]
    return post, shares, 3, time.perf_counter() - began


def _drawn(y: np.ndarray, months: list[float], true: np.ndarray, responder: np.ndarray, seed: int):
    """Calls drawn from blcv fitted on each true form (the model holds exactly), same gaps.

    The forms keep their counts, shuffled over the patients; latent values are rounded and
    clipped to 0-10 as the NPRS is.
    """
    from analytics.stats.trajectories.mixed_likelihood import make_layout

    rng = np.random.default_rng(seed)
    form, fits = _form_fits(y, months, true, responder)
    form = rng.permutation(form)
    drawn = np.empty_like(y)
    for f, fit in fits.items():
        layout = make_layout(np.asarray(months) / 10.0, fit.orders, True, False, fit.rounding)
        p = layout.unpack(_vector(fit))
        rows = np.flatnonzero(form == f)
        u = rng.standard_normal(rows.size) * p.tau[0]
        latent = layout.means(p.betas)[:, 0] + p.loading[0] * u[:, None]
        latent += rng.standard_normal(latent.shape) * p.latent_scale[0]
        drawn[rows] = np.clip(np.rint(latent), 0.0, 10.0)
    drawn[np.isnan(y)] = np.nan
    return drawn, np.where(form == 3, 0, form), form == 3


def _vector(fit: Any) -> np.ndarray:
    return np.r_[
        fit.betas[0], np.log(fit.sigmas[0]), np.log(fit.taus[0]),
        np.log(fit.sigmas_baseline[0]), fit.loadings_baseline[0],
    ]  # fmt: skip


def _log_density(fit: Any, y: np.ndarray, months: list[float]) -> np.ndarray:
    from analytics.stats.trajectories.mixed_likelihood import make_layout, patient_log_terms

    layout = make_layout(np.asarray(months) / 10.0, fit.orders, fit.baseline, False, fit.rounding)
    return patient_log_terms(_vector(fit), layout, y, 0.0, 10.0)[:, 0]


def one_seed(
    n: int,
    seed: int,
    starts: int,
    models: list[str],
    ks: list[int],
    drawn: bool = False,
    extra_starts: int = 4,
) -> dict:
    from analytics.stats.trajectories import sweep_trajectories
    from demo.synthetic import generate

    cohort = generate(n, seed=seed)
    y, true, responder, months = _wide(cohort)
    if drawn:
        y, true, responder = _drawn(y, months, true, responder, seed)
    if FORMS["on"]:
        true = np.where(responder, 3, true)  # T1's floor form as a fourth true group
    sweep = sweep_trajectories(
        y, months, n_groups=(1, 2, 3, 4, 5), orders=(1, 2, 3), n_starts=starts, seed=seed
    )
    best: dict[int, Any] = {}
    for f in sweep.fits:
        if f.n_groups not in best or f.bic > best[f.n_groups].bic:
            best[f.n_groups] = f
    cache: dict = {}
    out: dict[str, Any] = {"seed": seed, "patients": int(y.shape[0]), "true_shares": [
        float(np.mean(true == j)) for j in range(true.max() + 1)]}  # fmt: skip
    posteriors: dict[str, np.ndarray] = {}
    for name in models:
        if name == "gbtm":
            three = best[3]
            shares = [g.pi for g in three.groups]
            result = three.posterior, shares, sweep.chosen.n_groups, three.convergence.seconds
        elif name == "oracle":
            result = _oracle(y, months, true, responder)
        elif name == "truestart":
            result = _true_start(y, months, true, responder)
        elif name in ("blcv3ms", "blcv4ms"):
            result = _multistart(y, months, best, extra_starts, seed, int(name[4]))
        else:
            result = _mixed(name, y, months, best, ks, cache)
        out[name] = _row(result[0], true, result[1], result[2], result[3])
        posteriors[name] = result[0]
    if {"gbtm", "ri"} <= set(posteriors):
        from analytics.stats.trajectories.two_models import accuracy_claims

        out["claims"] = accuracy_claims(posteriors["gbtm"], posteriors["ri"])
    return out


def _print_run(n: int, seeds: int, args: argparse.Namespace) -> None:
    began = time.perf_counter()
    rows = []
    print(f"N = {n} demo patients (IV patients fitted), seeds 0..{seeds - 1}")
    if args.generator != "paper":
        print(f"  generator variant {args.generator}: {GENERATORS[args.generator]}")
    if args.rounding:
        print(f"  mixed models take the scores as rounded to a width of {args.rounding:g}")
    if args.drawn:
        print("  calls drawn from blcv fitted on each true form: the model holds exactly")
    print("  seed  IV n  model    claimed realised  gap     ARI  BIC K  shares (fitted / true)  s")
    for seed in range(seeds):
        r = one_seed(n, seed, args.starts, args.models, args.mixed_k, args.drawn, args.extra_starts)
        rows.append(r)
        true = "/".join(f"{s:.2f}" for s in r["true_shares"])
        for name in args.models:
            m = r[name]
            shares = "/".join(f"{s:.2f}" for s in m["shares"])
            print(
                f"  {seed:4d} {r['patients']:5d}  {name:7s}  {m['claimed']:.3f}   "
                f"{m['realised']:.3f}   {m['claimed'] - m['realised']:+.3f}  {m['ari']:.2f}   "
                f"{m['bic_k']}    {shares} / {true}  {m['seconds']:.1f}",
                flush=True,
            )
        if "claims" in r:
            c = r["claims"]
            print(
                f"  {seed:4d}  gbtm and ri agree on {c['agreement']:.3f}: the lesser accuracy is "
                f"at most {c['lesser_accuracy_at_most']:.3f} (realised "
                f"{min(r['gbtm']['realised'], r['ri']['realised']):.3f}); both claims can "
                f"hold: {c['claims_can_both_hold']}"
            )
    for name in args.models:
        claimed = statistics.mean(r[name]["claimed"] for r in rows)
        realised = statistics.mean(r[name]["realised"] for r in rows)
        seconds = statistics.mean(r[name]["seconds"] for r in rows)
        print(
            f"  mean {name:7s}: claimed {claimed:.3f}, realised {realised:.3f}, "
            f"gap {claimed - realised:+.3f}; BIC chose K = "
            f"{sorted(r[name]['bic_k'] for r in rows)}; fit {seconds:.1f} s"
        )
    print(f"  ({time.perf_counter() - began:.0f} s)\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", default=["329:10", "3290:3"], help="N:seeds")
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--mixed-k", nargs="+", type=int, default=[2, 3, 4])
    parser.add_argument("--drawn", action="store_true", help="calls drawn from the model")
    parser.add_argument("--generator", choices=GENERATORS, default="paper")
    parser.add_argument("--extra-starts", type=int, default=4, help="quantile starts (blcv4ms)")
    parser.add_argument(
        "--rounding", type=float, default=0.0, help="mixed models: scores rounded to this width"
    )
    parser.add_argument("--forms", action="store_true", help="truth: 4 forms (blcv*ms only)")
    args = parser.parse_args()
    FORMS["on"] = args.forms
    for options in MIXED.values():
        options["rounding"] = args.rounding
    from demo.synthetic import params

    for key, value in GENERATORS[args.generator].items():
        setattr(params, key, value)
    for spec in args.runs:
        n, k = (int(v) for v in spec.split(":"))
        _print_run(n, k, args)


if __name__ == "__main__":
    main()
