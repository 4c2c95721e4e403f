"""Time the full trajectory sweep (K = 1..5 x common orders 1..3) on simulated cohorts.

Run: .venv/bin/python bench/trajectories.py [--sizes 329 3290 32900] [--starts 5]
Each size runs in a fresh process so its peak resident memory is its own.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MONTHS = np.array([0.0, 0.25, *range(1, 13)])
PI = np.array([0.186, 0.480, 0.333]) / 0.999
CURVES = (
    np.array([5.3, -1.4, 0.18, -0.0075]),
    np.array([6.5, -0.45, 0.03]),
    np.array([7.8, -0.25, 0.018]),
)


def simulate(n: int, seed: int, random_intercept: float) -> np.ndarray:
    """Simulate the three published trajectories with censoring and 15% missing visits."""
    rng = np.random.default_rng(seed)
    groups = rng.choice(3, size=n, p=PI)
    means = np.column_stack([np.polyval(c[::-1], MONTHS) for c in CURVES])[:, groups].T
    y = means + rng.normal(0.0, 1.3, means.shape) + random_intercept * rng.normal(size=(n, 1))
    y = np.clip(y, 0.0, 10.0)
    y[rng.random(y.shape) < 0.15] = np.nan
    return y


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_one(n: int, starts: int, random_intercept: float) -> None:
    sys.path.insert(0, str(ROOT))
    from analytics.stats.trajectories import sweep_trajectories

    y = simulate(n, seed=n, random_intercept=random_intercept)
    before = current_rss_mb()
    began = time.perf_counter()
    selection = sweep_trajectories(y, MONTHS, n_starts=starts, seed=1)
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    chosen = selection.chosen
    slowest = max(selection.table, key=lambda r: r.seconds)
    print(
        f"{n:>9} {len(selection.fits):>5} {seconds:>8.2f} {peak:>8.0f} {peak - before:>8.0f}  "
        f"K={chosen.n_groups} {chosen.orders}; slowest fit K={slowest.n_groups} "
        f"order {slowest.orders[0]} {slowest.seconds:.2f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[329, 3290, 32900])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--random-intercept", type=float, default=0.0)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args.starts, args.random_intercept)
        return
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    load = os.getloadavg()[0]
    print(
        f"OPENBLAS_NUM_THREADS={threads}, cpus={os.cpu_count()}, load={load:.2f}, "
        f"starts={args.starts}, random intercept SD={args.random_intercept}"
    )
    print(f"{'patients':>9} {'fits':>5} {'seconds':>8} {'peak MB':>8} {'added MB':>8}  chosen")
    for n in args.sizes:
        command = [sys.executable, __file__, "--one", str(n), "--starts", str(args.starts)]
        command += ["--random-intercept", str(args.random_intercept)]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
