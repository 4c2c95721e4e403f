"""Bias, CI coverage and type-I error of every mediation in the report, over demo seeds.

Run: nice -n 10 .venv/bin/python bench/coverage.py [--runs 329:100 3290:20] [--boot 1000]
         [--first-seed 0] [--json out.json]

Each seed draws a demo cohort (demo.synthetic.generate, known truth) and runs the three mediation
blocks of the report as the report runs them: the within-patient mediations of pain by HADS-D
and by cumulative dose on the observed rows, the paper's specification on LOCF rows. Truth:
the depression channel carries ``truth.mediation.proportion_mediated`` (0.646) of the pain
change averaged over W1..M12; dose has no effect on anything, so every dose path is null.
Coverage and type-I error use the percentile and bias-corrected bootstrap intervals, the paths
of the paper's specification their patient-cluster robust P; ``±`` is the Monte Carlo standard
error of a rate over the seeds.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KINDS = ("percentile_ci95", "bias_corrected_ci95")


def _covers(interval: list[float | None], value: float) -> bool | None:
    low, high = interval
    if low is None or high is None:
        return None
    return low <= value <= high


def _excludes_zero(interval: list[float | None]) -> bool | None:
    covered = _covers(interval, 0.0)
    return None if covered is None else not covered


def one_seed(n: int, seed: int, n_boot: int) -> dict[str, Any]:
    """Run the three mediation blocks on one demo cohort; return the figures the table needs."""
    from analytics.stats.mediation import paper_specification, within_patient_mediation
    from demo.synthetic import generate
    from demo.synthetic.analysis_frame import mediation_frame

    cohort = generate(n, seed=seed)
    truth = cohort.truth["mediation"]
    observed = mediation_frame(cohort, carry_forward=False)
    carried = mediation_frame(cohort)
    dep = within_patient_mediation(observed, m="hads_d", n_boot=n_boot, seed=seed)
    dose = within_patient_mediation(observed, m="cumulative_dose_mg", n_boot=n_boot, seed=seed)
    paper = paper_specification(carried, n_boot=n_boot, seed=seed)
    out: dict[str, Any] = {"n": n, "seed": seed}
    prop_true = float(truth["proportion_mediated"])
    ind_true = float(truth["indirect_mean"])
    out["dep_prop"] = dep["proportion_mediated"]["estimate"]
    out["dep_ind"] = dep["indirect"]["estimate"]
    for kind in KINDS:
        out[f"dep_prop_cover_{kind}"] = _covers(dep["proportion_mediated"][kind], prop_true)
        out[f"dep_ind_cover_{kind}"] = _covers(dep["indirect"][kind], ind_true)
        out[f"dose_ind_reject_{kind}"] = _excludes_zero(dose["indirect"][kind])
        out[f"dose_prop_reject_{kind}"] = _excludes_zero(dose["proportion_mediated"][kind])
        by_dose = paper["proportion_mediated_by_dose"]
        out[f"paper_prop_dose_reject_{kind}"] = _excludes_zero(by_dose[kind])
        out[f"paper_total_dose_reject_{kind}"] = _excludes_zero(paper["total_effect_of_dose"][kind])
    out["dep_prop_width"] = _width(dep["proportion_mediated"]["percentile_ci95"])
    out["dose_ind"] = dose["indirect"]["estimate"]
    out["dose_prop"] = dose["proportion_mediated"]["estimate"]
    out["dose_b_reject"] = dose["b"]["p"] < 0.05
    out["dose_b_model_reject"] = dose["b"]["p_model"] < 0.05
    out["paper_path1_reject"] = paper["path1_dose_to_pain"]["p"] < 0.05
    out["paper_path3_dose_model_reject"] = paper["path3_dose_to_pain"]["p_model"] < 0.05
    out["paper_path2_reject"] = paper["path2_dose_to_depression"]["p"] < 0.05
    out["paper_path3_dose_reject"] = paper["path3_dose_to_pain"]["p"] < 0.05
    out["paper_path3_dep_reject"] = paper["path3_depression_to_pain"]["p"] < 0.05
    out["paper_prop_dep_withheld"] = "withheld" in paper["proportion_mediated_by_depression"]
    out["paper_prop_dose_withheld"] = "withheld" in paper["proportion_mediated_by_dose"]
    out["paper_prop_dep_pct"] = paper["proportion_mediated_by_depression_pct"]
    out["truth_prop"] = prop_true
    out["truth_ind"] = ind_true
    return out


def _width(interval: list[float | None]) -> float | None:
    low, high = interval
    return None if low is None or high is None else high - low


def _rate(values: list[Any]) -> tuple[float | None, int]:
    known = [bool(v) for v in values if v is not None]
    if not known:
        return None, 0
    return sum(known) / len(known), len(known)


def _mean(values: list[Any]) -> float | None:
    known = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return sum(known) / len(known) if known else None


def _median(values: list[Any]) -> float | None:
    known = sorted(float(v) for v in values if v is not None and math.isfinite(float(v)))
    return known[len(known) // 2] if known else None


def _pct(rate: float | None, k: int) -> str:
    if rate is None:
        return "-"
    se = math.sqrt(rate * (1 - rate) / k) if k else 0.0
    return f"{100 * rate:5.1f}% ±{100 * se:.1f} (of {k})"


def table(rows: list[dict[str, Any]]) -> str:
    """Return the bench table of one size."""
    col: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        for key, value in row.items():
            col[key].append(value)
    n = rows[0]["n"]
    seeds = [r["seed"] for r in rows]
    prop_true, ind_true = rows[0]["truth_prop"], rows[0]["truth_ind"]
    mean_prop, mean_ind = _mean(col["dep_prop"]), _mean(col["dep_ind"])
    lines = [
        f"N = {n} patients, {len(rows)} seeds ({min(seeds)}..{max(seeds)})",
        "within-patient depression (observed rows, time categorical, W1..M12 average):",
        f"  proportion: truth {prop_true:.3f}, mean estimate {mean_prop:.4f}, "
        f"bias {mean_prop - prop_true:+.4f}, median CI width {_median(col['dep_prop_width']):.3f}",
    ]
    for kind in KINDS:
        lines.append(f"    coverage {kind:20s} {_pct(*_rate(col[f'dep_prop_cover_{kind}']))}")
    lines.append(
        f"  indirect: truth {ind_true:.4f}, mean estimate {mean_ind:.4f}, "
        f"bias {mean_ind - ind_true:+.4f}"
    )
    for kind in KINDS:
        lines.append(f"    coverage {kind:20s} {_pct(*_rate(col[f'dep_ind_cover_{kind}']))}")
    lines += [
        "within-patient dose (truth: no effect):",
        f"  indirect mean {_mean(col['dose_ind']):+.4f} (truth 0); proportion mean "
        f"{_mean(col['dose_prop']):+.4f} (truth 0)",
        f"  type-I, b path P < .05 (robust SE) {_pct(*_rate(col['dose_b_reject']))}",
        f"    (model-based SE, for comparison) {_pct(*_rate(col['dose_b_model_reject']))}",
    ]
    for kind in KINDS:
        lines.append(
            f"  type-I, indirect {kind:20s} {_pct(*_rate(col[f'dose_ind_reject_{kind}']))}"
        )
        lines.append(
            f"  type-I, proportion {kind:18s} {_pct(*_rate(col[f'dose_prop_reject_{kind}']))}"
        )
    lines += [
        "paper specification, reconstructed (LOCF rows; every dose path null in truth):",
        f"  type-I, path 1 dose -> pain P < .05     {_pct(*_rate(col['paper_path1_reject']))}",
        f"  type-I, path 2 dose -> depression      {_pct(*_rate(col['paper_path2_reject']))}",
        f"  type-I, path 3 dose -> pain            {_pct(*_rate(col['paper_path3_dose_reject']))}",
        "    (model-based SE, for comparison)     "
        f"{_pct(*_rate(col['paper_path3_dose_model_reject']))}",
    ]
    for kind in KINDS:
        lines.append(
            f"  type-I, total effect of dose {kind:20s} "
            f"{_pct(*_rate(col[f'paper_total_dose_reject_{kind}']))}"
        )
        lines.append(
            f"  type-I, proportion by dose {kind:22s} "
            f"{_pct(*_rate(col[f'paper_prop_dose_reject_{kind}']))}"
        )
    lines += [
        f"  proportion by depression: interval withheld in "
        f"{_pct(*_rate(col['paper_prop_dep_withheld']))}; median estimate "
        f"{_median(col['paper_prop_dep_pct']):.1f}% (no defined truth: the total effect of "
        "dose is 0)",
        "  proportion by dose: interval withheld in "
        f"{_pct(*_rate(col['paper_prop_dose_withheld']))}",
        f"  path 3 baseline depression P < .05 (a moderation, truth non-null): "
        f"{_pct(*_rate(col['paper_path3_dep_reject']))}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", default=["329:100", "3290:20"], help="N:seeds")
    parser.add_argument("--boot", type=int, default=1000, help="bootstrap resamples per fit")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write every seed's figures here")
    args = parser.parse_args()
    everything: list[dict[str, Any]] = []
    for spec in args.runs:
        n_text, k_text = spec.split(":")
        n, k = int(n_text), int(k_text)
        began = time.perf_counter()
        rows = []
        for seed in range(args.first_seed, args.first_seed + k):
            rows.append(one_seed(n, seed, args.boot))
            print(f"  N={n} seed {seed} done", file=sys.stderr, flush=True)
        everything += rows
        print(table(rows))
        print(f"  ({args.boot} resamples per fit, {time.perf_counter() - began:.0f} s)\n")
        sys.stdout.flush()
    if args.json:
        args.json.write_text(json.dumps(everything, indent=1))


if __name__ == "__main__":
    main()
