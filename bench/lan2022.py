"""Bias, CI coverage and type-I error of the Lan et al. 2022 analysis over simulated trials.

Run: nice -n 10 .venv/bin/python bench/lan2022.py [--seeds 500] [--first-seed 0] [--continuous]
         [--calibration-seeds 100]
         [--json out.json]

Each seed draws a synthetic trial (trials.lan2022.generate, known truth) and runs the moderation
model of raw VAS and the simple slopes by pain group (analytics.stats.moderation). Truth: the
``C(day):vas`` interaction per mm and the expected change of each pain group for the trial's
patients (Trial.estimands). Type-I error: the same trials with ``moderation=0``, omnibus Wald
and LR tests of every SF-MPQ domain and the time x group Wald test, at the 5% level.
``--continuous`` turns rounding and clipping of the MADRS off. ``±`` is the Monte Carlo standard
error over the seeds. The calibration block runs the whole report on the default trial and prints
the medians (or shares of trials) of the figures the published trial reports.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def estimates(seed: int, discretise: bool) -> list[tuple[str, float, float, bool]]:
    """Return (estimand, estimate, truth, CI covers truth) for one simulated trial."""
    from analytics.stats.moderation import moderation_model, simple_slopes
    from trials.lan2022 import Truth, generate

    trial = generate(seed, Truth(discretise=discretise))
    long, truth = trial.long(), trial.estimands()
    rows: list[tuple[str, float, float, bool]] = []

    def add(name: str, block: dict[str, Any], value: float) -> None:
        low, high = block["ci95"]
        rows.append((name, block["estimate"], value, low <= value <= high))

    vas = moderation_model(long, "vas", scale="raw")
    for which in ("mean_post", "last"):
        add(f"vas x day per mm, {which}", vas[which], truth["vas_raw"][which])
    slopes = simple_slopes(long)
    for group, block in slopes["groups"].items():
        for which in ("mean_post", "last"):
            add(f"change {group}, {which}", block[which], truth["groups"][group][which])
    for name, block in slopes["contrasts"].items():
        for which in ("mean_post", "last"):
            add(f"{name}, {which}", block[which], truth["contrasts"][name][which])
    return rows


def null_pvalues(seed: int, discretise: bool) -> dict[str, float]:
    """Return the omnibus P values of one trial simulated without moderation."""
    from analytics.stats.moderation import DOMAINS, moderation_model
    from trials.lan2022 import Truth, generate

    trial = generate(seed, Truth(discretise=discretise), moderation=0.0)
    long = trial.long()
    out: dict[str, float] = {}
    for domain in DOMAINS:
        result = moderation_model(long, domain)
        out[f"{domain} Wald"] = result["omnibus_wald"]["p"]
        out[f"{domain} LR"] = result["omnibus_lr"]["p"]
    return out


def calibration(seeds: range) -> dict[str, Any]:
    """Median figures of the full report over trials, beside the published ones they mimic."""
    import statistics

    from analytics.stats.moderation import DOMAINS, report
    from trials.lan2022 import generate

    figures: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        figures.setdefault(name, []).append(value)

    for seed in seeds:
        trial = generate(seed)
        out = report(trial.patients, trial.visits, trial.infusions, trial.adverse)
        for domain in DOMAINS:
            block = out["moderation"][domain]
            add(f"{domain}: day-26 interaction per SD", block["last"]["estimate"])
            add(f"{domain}: omnibus Wald P < .001", float(block["omnibus_wald"]["p"] < 0.001))
        slopes = out["simple_slopes"]
        for group, block in slopes["groups"].items():
            add(f"change {group} day 26", block["last"]["estimate"])
            add(f"change {group} day 26 P < .05", float(block["last"]["p"] < 0.05))
        for name, block in slopes["contrasts"].items():
            add(f"{name} day 26 P < .05", float(block["last"]["p"] < 0.05))
        rows = out["baseline"]["rows"]
        add(
            "baseline MADRS severe vs mild P < .001",
            float(rows["madrs"]["tests"]["welch_severe_vs_mild_p"] < 0.001),
        )
        add("with pain % (of 104)", 100 * rows["n"]["with_pain"] / rows["n"]["all"])
        day26 = out["day26"]["overall"]
        add("response day 26 %", day26["response"]["pct"])
        add("remission day 26 %", day26["remission"]["pct"])
        add(
            "infusions with any adverse effect %", out["adverse_effects"]["any"]["infusions"]["pct"]
        )
    return {
        name: statistics.mean(v) if " P " in name else statistics.median(v)
        for name, v in figures.items()
    }


def summarise(seeds: range, discretise: bool) -> dict[str, Any]:
    """Run every seed and return bias, coverage and type-I error with Monte Carlo SEs."""
    table: dict[str, list[tuple[float, float, bool]]] = {}
    for seed in seeds:
        for name, est, value, covers in estimates(seed, discretise):
            table.setdefault(name, []).append((est, value, covers))
    nulls: dict[str, list[float]] = {}
    for seed in seeds:
        for name, p in null_pvalues(seed, discretise).items():
            nulls.setdefault(name, []).append(p)
    n = len(seeds)
    recovery = {}
    for name, rows in table.items():
        errors = [e - v for e, v, _ in rows]
        mean = sum(errors) / n
        sd = math.sqrt(sum((x - mean) ** 2 for x in errors) / (n - 1))
        cover = sum(c for *_, c in rows) / n
        truth = sum(v for _, v, _ in rows) / n
        recovery[name] = {
            "truth_mean": truth,
            "bias": mean,
            "bias_mcse": sd / math.sqrt(n),
            "coverage": cover,
            "coverage_mcse": math.sqrt(cover * (1 - cover) / n),
        }
    type1 = {}
    for name, ps in nulls.items():
        rate = sum(p < 0.05 for p in ps) / n
        type1[name] = {"rate": rate, "mcse": math.sqrt(0.05 * 0.95 / n)}
    return {"seeds": n, "discretise": discretise, "recovery": recovery, "type1": type1}


def main() -> None:
    """Parse the options, run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=500)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--continuous", action="store_true")
    parser.add_argument("--calibration-seeds", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    started = time.perf_counter()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    result = summarise(seeds, not args.continuous)
    first = args.first_seed
    result["calibration"] = calibration(range(first, first + args.calibration_seeds))
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(f"{result['seeds']} seeds, discretised MADRS: {result['discretise']}")
    print(f"{'estimand':38} {'truth':>9} {'bias':>18} {'coverage':>16}")
    for name, r in result["recovery"].items():
        print(
            f"{name:38} {r['truth_mean']:9.4f} {r['bias']:+9.4f} ± {r['bias_mcse']:.4f}"
            f"   {r['coverage']:.3f} ± {r['coverage_mcse']:.3f}"
        )
    print("type-I error at 5% (moderation = 0)")
    for name, r in result["type1"].items():
        print(f"  {name:18} {r['rate']:.3f} ± {r['mcse']:.3f}")
    print(f"calibration over {args.calibration_seeds} trials (median; share of trials for P)")
    for name, value in result["calibration"].items():
        print(f"  {name:42} {value:8.3f}")
    print(f"{result['seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
