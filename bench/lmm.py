"""Time and peak memory of the random-intercept LMM solver against statsmodels MixedLM.

Usage: python bench/lmm.py [--all] [--sizes 329 3290 32900]

Cohorts have 14 timepoints (BL, W1, M1..M12) and about 15% of follow-up rows missing. Two
models are fitted by REML: ``y ~ C(timepoint)`` and the interaction model
``y ~ C(timepoint) * high`` (13 time x group terms). statsmodels is skipped above 3,290 patients
unless ``--all`` is given. Time and memory are measured in separate runs because tracemalloc
slows allocation-heavy code down.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.stats.mixed import MONTHS, TIMEPOINTS, build_design, fit_lmm

MODELS = {
    "time": "C(timepoint)",
    "time x group": "C(timepoint) + high + C(timepoint):high",
}


def simulate(m: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = len(TIMEPOINTS)
    patient = np.repeat(np.arange(m), t)
    month = np.tile([MONTHS[tp] for tp in TIMEPOINTS], m)
    high = (rng.random(m) < 0.6).astype(float)[patient]
    y = (
        6.7
        - 0.1 * month
        - 0.04 * month * high
        + rng.normal(0, 1.5, m)[patient]
        + rng.normal(0, 1.3, m * t)
    )
    frame = pd.DataFrame(
        {"patient": patient, "timepoint": np.tile(TIMEPOINTS, m), "y": y, "high": high}
    )
    missing = (rng.random(m * t) < 0.15) & (frame["timepoint"] != "BL").to_numpy()
    frame.loc[missing, "y"] = np.nan
    return frame


def measure(run: Callable[[], object], memory: bool) -> tuple[float, float]:
    """Return (seconds, peak MiB); the peak is only measured when ``memory`` is set."""
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    peak = float("nan")
    if memory:
        tracemalloc.start()
        run()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return seconds, peak


def statsmodels_fit(y: np.ndarray, X: np.ndarray, groups: np.ndarray) -> object:
    import statsmodels.api as sm

    return sm.MixedLM(y, X, groups).fit(reml=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="run statsmodels at every size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[329, 3290, 32900])
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    print(
        f"{'patients':>9} {'rows':>8} {'model':<13} {'solver':<12} {'seconds':>8} {'peak MiB':>9}"
    )
    for m in args.sizes:
        frame = simulate(m)
        for label, spec in MODELS.items():
            design = build_design(frame, "y", spec)
            memory = not args.no_memory
            timings: dict[str, tuple[float, float]] = {
                "design": measure(partial(build_design, frame, "y", spec), memory),
                "this solver": measure(
                    partial(fit_lmm, design.y, design.X, design.groups, reml=True), memory
                ),
            }
            if m <= 3290 or args.all:
                timings["statsmodels"] = measure(
                    partial(statsmodels_fit, design.y, design.X, design.groups), memory
                )
            for solver, (seconds, peak) in timings.items():
                row = f"{m:>9} {len(design.y):>8} {label:<13} {solver:<12}"
                print(f"{row} {seconds:>8.3f} {peak:>9.1f}")
            if "statsmodels" in timings:
                ours = fit_lmm(design.y, design.X, design.groups, reml=True)
                ref = statsmodels_fit(design.y, design.X, design.groups)
                gap = float(np.max(np.abs(ours.params - ref.fe_params)))  # type: ignore[attr-defined]
                print(f"{'':>9} {'':>8} {label:<13} max |beta difference| = {gap:.1e}")


if __name__ == "__main__":
    main()
