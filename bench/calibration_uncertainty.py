"""Does the parameters' uncertainty close the calibration gap of the mixed trajectory model?

Run: nice -n 10 .venv/bin/python bench/calibration_uncertainty.py [--runs 3290:10] [--drawn]
     [--generator paper|step|step-symmetric] [--draws 200] [--folds 2] [--extra-starts 4]

For each demo seed it fits blcv4ms as bench/calibration.py does (4 groups, baseline call of its
own, variances by group, scores rounded to 1, the group-based start and --extra-starts quantile
starts, the best likelihood kept; truth: the four forms) and scores three sets of posteriors
against the truth, each by claimed accuracy (mean posterior of the assigned group) and realised
accuracy (share assigned to their true form, groups matched by the best permutation):

- plug-in: the posteriors at the maximum-likelihood parameters (what the report gives);
- laplace: the posteriors averaged over --draws parameter vectors drawn from the Laplace
  approximation of the parameters' distribution (normal, centred on the optimum, covariance the
  inverse of minus the Hessian of the log-likelihood there): the parameters' uncertainty carried
  into the posteriors;
- cross-fitted: each patient's posterior from a fit on the other folds (--folds, patients split
  at random; each refit starts at the full fit, so the groups keep their labels): a patient's
  own calls no longer shape the parameters that classify them.

With --drawn the calls are drawn from the model fitted on each true form (bench/calibration.py),
so the model holds exactly.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import calibration as cal  # noqa: E402  (the sibling bench: data, starts, scoring)

ROUNDING = 1.0
GROUPS = 4


def _softmax(terms: np.ndarray) -> np.ndarray:
    return np.exp(terms - special.logsumexp(terms, axis=1)[:, None])


def _fit(y: np.ndarray, months: list[float], orders: Any, start: dict) -> dict[str, Any]:
    """The fit at its optimum: packed vector, layout, data, log-likelihood and information."""
    from analytics.stats.trajectories import mixed_classes as mc
    from analytics.stats.trajectories.mixed_likelihood import _Data, make_layout
    from analytics.stats.trajectories.model import prepare_data

    data = prepare_data(y, months, lower=0.0, upper=10.0)
    layout = make_layout(data.scaled_times, tuple(orders), True, True, ROUNDING)
    begin = mc._start_vector(
        data.y, layout, start["start_betas"], start["start_sigma"], start["start_tau"],
        start["start_pi"],
    )  # fmt: skip
    cells = _Data.of(data.y, 0.0, 10.0, ROUNDING)
    result, _ = mc._maximise(begin, layout, cells, mc.DEFAULT_NODES, 500)
    terms = _terms(result.x, layout, data.y)
    return {
        "x": result.x, "layout": layout, "data": data, "cells": cells, "terms": terms,
        "ll": float(special.logsumexp(terms, axis=1).sum()),
    }  # fmt: skip


def _terms(vector: np.ndarray, layout: Any, y: np.ndarray) -> np.ndarray:
    from analytics.stats.trajectories.mixed_classes import DEFAULT_NODES, patient_log_terms

    return patient_log_terms(vector, layout, y, 0.0, 10.0, DEFAULT_NODES)


def laplace_posterior(fit: dict[str, Any], draws: int, seed: int) -> np.ndarray | None:
    """Posteriors averaged over parameters drawn from N(optimum, information^-1)."""
    from analytics.stats.trajectories.mixed_classes import DEFAULT_NODES, information_matrix

    information = information_matrix(fit["x"], fit["layout"], fit["cells"], DEFAULT_NODES)
    values, vectors = np.linalg.eigh(information)
    if values[0] <= 0:
        return None  # not a maximum: no normal approximation
    root = vectors / np.sqrt(values)  # root @ root.T is the covariance
    rng = np.random.default_rng(seed)
    total, used = np.zeros_like(fit["terms"]), 0
    for _ in range(draws):
        vector = fit["x"] + root @ rng.standard_normal(fit["x"].size)
        with np.errstate(all="ignore"):
            post = _softmax(_terms(vector, fit["layout"], fit["data"].y))
        if np.all(np.isfinite(post)):
            total, used = total + post, used + 1
    return total / used if used else None


def crossfit_posterior(fit: dict[str, Any], folds: int, seed: int) -> np.ndarray:
    """Each patient's posterior under a refit on the other folds, started at the full fit."""
    from analytics.stats.trajectories import mixed_classes as mc
    from analytics.stats.trajectories.mixed_likelihood import _Data

    y, layout = fit["data"].y, fit["layout"]
    fold = np.random.default_rng(seed).integers(0, folds, y.shape[0])
    post = np.empty_like(fit["terms"])
    for j in range(folds):
        train = fold != j
        cells = _Data.of(y[train], 0.0, 10.0, ROUNDING)
        refit, _ = mc._maximise(fit["x"].copy(), layout, cells, mc.DEFAULT_NODES, 500)
        post[~train] = _softmax(_terms(refit.x, layout, y[~train]))
    return post


def one_seed(n: int, seed: int, args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    from analytics.stats.trajectories import sweep_trajectories
    from demo.synthetic import generate

    y, true, responder, months = cal._wide(generate(n, seed=seed))
    if args.drawn:
        y, true, responder = cal._drawn(y, months, true, responder, seed)
    true = np.where(responder, 3, true)  # the four forms
    sweep = sweep_trajectories(
        y, months, n_groups=(GROUPS,), orders=(1, 2, 3), n_starts=3, seed=seed
    )
    best = max(sweep.fits, key=lambda f: f.bic)
    starts = [(best.orders, cal._start(best))] + [
        ((3,) * GROUPS, s) for s in cal._quantile_starts(y, months, GROUPS, args.extra_starts, seed)
    ]
    fit = max((_fit(y, months, o, s) for o, s in starts), key=lambda f: f["ll"])
    truth = true[fit["data"].included]
    out: dict[str, tuple[float, float]] = {}
    candidates = {
        "plug-in": _softmax(fit["terms"]),
        "laplace": laplace_posterior(fit, args.draws, seed),
        "cross-fitted": crossfit_posterior(fit, args.folds, seed),
    }
    for name, post in candidates.items():
        if post is None:
            out[name] = (float("nan"), float("nan"))
            continue
        realised = cal._agreement(post.argmax(axis=1), truth, post.shape[1])
        out[name] = (float(post.max(axis=1).mean()), realised)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", default=["3290:10"], help="N:seeds")
    parser.add_argument("--drawn", action="store_true", help="calls drawn from the model")
    parser.add_argument("--generator", choices=cal.GENERATORS, default="paper")
    parser.add_argument("--draws", type=int, default=200, help="Laplace parameter draws")
    parser.add_argument("--folds", type=int, default=2, help="cross-fitting folds")
    parser.add_argument("--extra-starts", type=int, default=4, help="quantile starts")
    args = parser.parse_args()
    from demo.synthetic import params

    for key, value in cal.GENERATORS[args.generator].items():
        setattr(params, key, value)
    for options in cal.MIXED.values():
        options["rounding"] = ROUNDING  # as --rounding 1 (the fits of --drawn too)
    for spec in args.runs:
        n, seeds = (int(v) for v in spec.split(":"))
        began = time.perf_counter()
        source = "drawn from the model" if args.drawn else f"the demo ({args.generator})"
        print(f"N = {n}, calls {source}, seeds 0..{seeds - 1}; claimed / realised (gap)")
        rows = []
        for seed in range(seeds):
            row = one_seed(n, seed, args)
            rows.append(row)
            cells = "  ".join(f"{k} {c:.3f}/{r:.3f} ({c - r:+.3f})" for k, (c, r) in row.items())
            print(f"  seed {seed}: {cells}", flush=True)
        for name in rows[0]:
            # A seed whose optimum is not a strict maximum has no Laplace approximation.
            kept = [r[name] for r in rows if np.isfinite(r[name][0])]
            claimed = statistics.mean(c for c, _ in kept)
            realised = statistics.mean(r for _, r in kept)
            gap = claimed - realised
            print(f"  mean {name}: {claimed:.3f} / {realised:.3f} ({gap:+.3f}), {len(kept)} seeds")
        print(f"  ({time.perf_counter() - began:.0f} s)\n")


if __name__ == "__main__":
    main()
