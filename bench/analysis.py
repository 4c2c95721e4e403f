"""Time the whole re-analysis (read the database, fingerprint, every model of the report).

Run: .venv/bin/python bench/analysis.py [--sizes 329 3290 32900 100000] [--database-url URL]

For each size a demo cohort is loaded (once; reused if the database already holds that many
patients), then a fresh process reads it and builds the report with the production parameters
(trajectory sweep over 1-5 groups x orders 1-3, 1000 bootstrap resamples per mediation), so
that the peak resident memory printed is the analysis's own. Without --database-url each size
gets its own SQLite file under var/bench/; give a PostgreSQL URL to measure on PostgreSQL (the
sizes then share that database, reloaded for each size, unless the URL holds ``{n}``, replaced by
the size: one database per size, created beforehand).

In the same process, after the report, the random-intercept time model of the primary outcome
(``nprs_mean ~ C(timepoint)`` on the observed rows, by REML) is fitted again by this project's
solver and by statsmodels MixedLM, and by R lme4 when ``Rscript`` is on the PATH, and their times
and largest difference of fixed effects are printed as ratios (``--no-reference`` skips them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("ANALYSIS_ON_COMMIT", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare(n: int, url: str) -> None:
    """Migrate and load a demo cohort of n patients unless it is there already."""
    _django(url)
    from django.core.management import call_command

    from cohort.models import Patient
    from demo.loader import demo_load
    from demo.synthetic import generate

    call_command("migrate", verbosity=0)
    if Patient.objects.count() != n:
        began = time.perf_counter()
        demo_load(generate(n, seed=0))
        print(f"  loaded {n:,} patients in {time.perf_counter() - began:.1f} s", flush=True)


def _lme4(frame: object) -> tuple[float, list[float]] | None:
    """Fit the time model with R lme4 (when Rscript is there); return its fit time and betas."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "long.csv"
        frame.to_csv(data, index=False)  # type: ignore[attr-defined]
        script = (
            "suppressMessages(library(lme4)); "
            f"d <- read.csv('{data}'); d$timepoint <- relevel(factor(d$timepoint), 'BL'); "
            "t <- system.time(m <- lmer(nprs_mean ~ timepoint + (1 | patient), d, REML = TRUE)); "
            "f <- fixef(m); lv <- c('(Intercept)', paste0('timepoint', "
            "setdiff(levels(d$timepoint), 'BL'))); "
            "cat(t[['elapsed']], f[lv], '\\n')"
        )
        out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True)
    if out.returncode != 0:
        print(f"  R lme4 failed: {out.stderr.strip().splitlines()[-1:]}", flush=True)
        return None
    figures = [float(v) for v in out.stdout.split()]
    return figures[0], figures[1:]


def reference(data: object) -> dict[str, object]:
    """Fit the time model by this solver, statsmodels MixedLM and R lme4; times and gaps."""
    import numpy as np
    import statsmodels.api as sm

    from analytics.stats.mixed import TIMEPOINTS, build_design, fit_lmm

    long = data.long  # type: ignore[attr-defined]
    rows = long.loc[long["elapsed"] & long["nprs_mean"].notna(), ["patient", "timepoint"]]
    rows = rows.assign(nprs_mean=long["nprs_mean"])
    design = build_design(rows, "nprs_mean", "C(timepoint)")
    began = time.perf_counter()
    ours = fit_lmm(design.y, design.X, design.groups, reml=True)
    ours_s = time.perf_counter() - began
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        began = time.perf_counter()
        fitted = sm.MixedLM(design.y, design.X, design.groups).fit(reml=True)
        statsmodels_s = time.perf_counter() - began
    figures: dict[str, object] = {
        "model_rows": len(design.y),
        "ours_s": ours_s,
        "statsmodels_s": statsmodels_s,
        "statsmodels_gap": float(np.max(np.abs(ours.params - fitted.fe_params))),
    }
    r = _lme4(rows.assign(timepoint=rows["timepoint"].astype(str)))
    if r is not None:
        order = ["BL", *[tp for tp in TIMEPOINTS if tp != "BL"]]
        assert len(r[1]) == len(order), "lme4 returned another set of coefficients"
        figures["lme4_s"] = r[0]
        figures["lme4_gap"] = float(np.max(np.abs(ours.params - np.array(r[1]))))
    return figures


class StepPeaks:
    """Peak resident memory of each step, where Linux lets the high-water mark be reset.

    Writing 5 to /proc/self/clear_refs sets the process's VmHWM back to its current resident
    size, so the VmHWM read at the end of a step is that step's own peak (the memory held from
    earlier steps included). Elsewhere no step figure is printed.
    """

    def __init__(self) -> None:
        self.peaks: dict[str, float] = {}
        self.current = ""
        self.works = self._reset()

    @staticmethod
    def _reset() -> bool:
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    @staticmethod
    def _hwm_mb() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def enter(self, name: str) -> None:
        """Close the running step (record its peak) and open ``name``."""
        if self.works and self.current:
            self.peaks[self.current] = max(self.peaks.get(self.current, 0.0), self._hwm_mb())
            self._reset()
        self.current = name


def measure(n: int, url: str, with_reference: bool = True) -> None:
    """Read the study and build the report; print one JSON line of figures."""
    _django(url)
    from django.conf import settings

    from analytics import dataset, report, services

    peaks = StepPeaks()
    peaks.enter("read database")
    began = time.perf_counter()
    data = dataset.load()
    loaded = time.perf_counter()
    peaks.enter("fingerprint")
    params = report.Parameters()
    fingerprint = services.fingerprint(data, params)
    hashed = time.perf_counter()
    peaks.enter("preparation")  # censoring and LOCF, before the first step

    def progress(step: str, done: int, total: int) -> None:
        if step in report.STEPS:
            peaks.enter(step)

    # As the worker runs it: the linear algebra library limited to ANALYSIS_BLAS_THREADS threads,
    # the independent pieces on ANALYSIS_THREADS.
    with services.analysis_threads():
        result = report.build_report(data, params, fingerprint=fingerprint, progress=progress)
    peaks.enter("")
    done = time.perf_counter()
    timings = dict(result["run"]["timings_s"])
    timings.pop("total", None)
    timings = {"read database": loaded - began, "fingerprint": hashed - loaded, **timings}
    trajectories = result["results"]["trajectories"]
    # Resetting the high-water mark resets ru_maxrss with it: the peak is the largest step's.
    peak_mb = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, *peaks.peaks.values(), 0.0
    )
    compared = reference(data) if with_reference else {}
    print(
        json.dumps(
            {
                "n": n,
                "rows": len(data.long),
                "total_s": done - began,
                "steps_s": timings,
                "peak_mb": peak_mb,
                "step_peak_mb": peaks.peaks,
                "reference": compared,
                "trajectory_fits": len(trajectories["selection"]["table"]),
                "n_boot": params.n_boot,
                "threads": settings.ANALYSIS_THREADS,
                "blas_threads": settings.ANALYSIS_BLAS_THREADS,
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[329, 3290, 32900])
    parser.add_argument("--database-url", help="default: one SQLite file per size in var/bench/")
    parser.add_argument(
        "--no-reference", action="store_true", help="skip statsmodels and lme4 on the time model"
    )
    parser.add_argument("--child", choices=["prepare", "measure"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "prepare":
        prepare(args.sizes[0], args.database_url)
        return
    if args.child == "measure":
        measure(args.sizes[0], args.database_url, with_reference=not args.no_reference)
        return

    load_before = os.getloadavg()[0]
    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.sizes:
        url = args.database_url or f"sqlite:///{bench_dir / f'analysis-{n}.sqlite3'}"
        url = url.replace("{n}", str(n))
        print(f"N = {n:,} on {url.split(':')[0]}", flush=True)
        for child in ("prepare", "measure"):
            command = [sys.executable, __file__, "--child", child, "--sizes", str(n)]
            command += ["--database-url", url]
            if args.no_reference:
                command.append("--no-reference")
            out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
            for line in out.stdout.splitlines():
                if line.startswith("{"):
                    rows.append(json.loads(line))
                else:
                    print(line)
    _print_tables(rows, load_before)


def _print_tables(rows: list[dict[str, Any]], load_before: float) -> None:
    """Print the figures of every size side by side: times, peaks, the reference models."""
    print()
    print(f"{'patients':>9} {'rows':>8} {'total s':>8} {'peak MB':>8}  share of time by step")
    for row in rows:
        total = sum(row["steps_s"].values())
        shares = ", ".join(
            f"{name} {100 * seconds / total:.0f}%" for name, seconds in row["steps_s"].items()
        )
        print(
            f"{row['n']:>9,} {row['rows']:>8,} {row['total_s']:>8.1f} {row['peak_mb']:>8.0f}  "
            f"{shares}"
        )
    print(
        f"(trajectory sweep: {rows[0]['trajectory_fits'] if rows else 0} models; "
        f"bootstrap: {rows[0]['n_boot'] if rows else 0} resamples x 3 mediations; "
        "peak: resident memory of the whole process)"
    )
    if rows:
        print(
            f"(threads for the run's pieces: {rows[0]['threads']} (ANALYSIS_THREADS); linear "
            f"algebra: {rows[0]['blas_threads']} (ANALYSIS_BLAS_THREADS); load average "
            f"{load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end)"
        )
    print()
    print(f"{'patients':>9}  seconds by step")
    for row in rows:
        steps = ", ".join(f"{name} {seconds:.2f}" for name, seconds in row["steps_s"].items())
        print(f"{row['n']:>9,}  {steps}")
    if any(row.get("step_peak_mb") for row in rows):
        print()
        print(f"{'patients':>9}  peak resident MB by step (memory held from earlier steps counts)")
        for row in rows:
            steps = ", ".join(f"{name} {mb:.0f}" for name, mb in row["step_peak_mb"].items())
            print(f"{row['n']:>9,}  {steps}")
    compared = [row for row in rows if row["reference"]]
    if compared:
        print()
        print("Time model nprs_mean ~ C(timepoint) + (1 | patient), REML, same rows:")
        print(
            f"{'patients':>9} {'rows':>9} {'this s':>8} {'statsm. s':>10} {'ratio':>7} "
            f"{'max|dβ|':>8} {'lme4 s':>8} {'ratio':>7} {'max|dβ|':>8}"
        )
        for row in compared:
            ref = row["reference"]
            line = (
                f"{row['n']:>9,} {ref['model_rows']:>9,} {ref['ours_s']:>8.3f} "
                f"{ref['statsmodels_s']:>10.2f} {ref['statsmodels_s'] / ref['ours_s']:>6.0f}x "
                f"{ref['statsmodels_gap']:>8.1e}"
            )
            if "lme4_s" in ref:
                line += (
                    f" {ref['lme4_s']:>8.2f} {ref['lme4_s'] / ref['ours_s']:>6.0f}x "
                    f"{ref['lme4_gap']:>8.1e}"
                )
            else:
                line += "  (lme4: no Rscript)"
            print(line)


if __name__ == "__main__":
    main()
