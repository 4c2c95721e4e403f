"""Calibration of the trajectory memberships: claimed against realised accuracy, over demo seeds.

Run: nice -n 10 .venv/bin/python bench/calibration.py [--runs 329:10 3290:3] [--starts 3]

Each seed draws a demo cohort (known latent group of every patient), fits on its IV patients'
observed NPRS the paper's group-based model (3 groups, the best BIC among orders 1-3, as the
report does) and the BIC sweep over 1-5 groups, and prints:

- claimed accuracy: the mean posterior probability of the assigned group (what APP promises);
- realised accuracy: the share of patients whose assigned group is their true latent group
  (groups matched to the truth by the permutation that agrees best);
- the adjusted Rand index, the number of groups BIC chooses, and the estimated shares.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _wide(cohort: Any) -> tuple[np.ndarray, np.ndarray, list[float]]:
    from analytics.stats.mixed import MONTHS

    truth = cohort.truth["patients"]
    route = dict(zip(truth["study_code"], truth["route"], strict=True))
    group = dict(zip(truth["study_code"], truth["latent_group"], strict=True))
    calls = cohort.calls[cohort.calls["study_code"].map(route) == "iv"].copy()
    calls["month"] = calls["timepoint"].map(MONTHS)
    calls["nprs"] = calls["nprs_mean"].astype("Float64").astype(float)
    wide = calls.pivot_table(index="study_code", columns="month", values="nprs", dropna=False)
    months = sorted(MONTHS.values())
    wide = wide.reindex(columns=months)
    wide = wide[wide.notna().any(axis=1)]
    true = np.array([int(group[code]) - 1 for code in wide.index])
    return wide.to_numpy(dtype=float), true, months


def _agreement(assigned: np.ndarray, true: np.ndarray, k: int) -> float:
    best = 0.0
    for perm in itertools.permutations(range(k)):
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


def one_seed(n: int, seed: int, starts: int) -> dict[str, Any]:
    from analytics.stats.trajectories import sweep_trajectories
    from demo.synthetic import generate

    cohort = generate(n, seed=seed)
    y, true, months = _wide(cohort)
    sweep = sweep_trajectories(
        y, months, n_groups=(1, 2, 3, 4, 5), orders=(1, 2, 3), n_starts=starts, seed=seed
    )
    three = max((f for f in sweep.fits if f.n_groups == 3), key=lambda f: f.bic)
    keep = three.assignment >= 0
    post = three.posterior[keep]
    assigned = three.assignment[keep]
    return {
        "seed": seed,
        "patients": int(keep.sum()),
        "claimed": float(post.max(axis=1).mean()),
        "realised": _agreement(assigned, true[keep], 3),
        "ari": _ari(assigned, true[keep]),
        "bic_groups": sweep.chosen.n_groups,
        "shares": [g.pi for g in three.groups],
        "true_shares": [float(np.mean(true[keep] == j)) for j in range(3)],
        "intercept_p": three.random_intercept_test["p"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", default=["329:10", "3290:3"], help="N:seeds")
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    for spec in args.runs:
        n, k = (int(v) for v in spec.split(":"))
        began = time.perf_counter()
        rows = []
        print(f"N = {n} demo patients (IV patients fitted), seeds 0..{k - 1}")
        print("  model: group-based, 3 groups (paper); memberships by largest posterior")
        print("  seed  IV n  claimed  realised   ARI   BIC K  shares (fitted / true)")
        for seed in range(k):
            r = one_seed(n, seed, args.starts)
            rows.append(r)
            shares = "/".join(f"{s:.2f}" for s in r["shares"])
            true = "/".join(f"{s:.2f}" for s in r["true_shares"])
            print(
                f"  {seed:4d} {r['patients']:5d}  {r['claimed']:.3f}    {r['realised']:.3f}   "
                f"{r['ari']:.2f}   {r['bic_groups']}     {shares} / {true}",
                flush=True,
            )
        claimed = statistics.mean(r["claimed"] for r in rows)
        realised = statistics.mean(r["realised"] for r in rows)
        print(
            f"  mean: claimed {claimed:.3f}, realised {realised:.3f}, "
            f"gap {claimed - realised:+.3f}; "
            f"BIC chose K = {sorted(r['bic_groups'] for r in rows)}; random-intercept test "
            f"P < .05 in {sum(r['intercept_p'] < 0.05 for r in rows)}/{len(rows)} "
            f"({time.perf_counter() - began:.0f} s)\n"
        )


if __name__ == "__main__":
    main()
