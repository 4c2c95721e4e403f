"""Time the two models of the report's trajectory block on demo cohorts, in CPU and wall seconds.

Run: nice -n 10 .venv/bin/python bench/trajectory_block.py [--sizes 329 3290] [--seeds 0 1]
     [--repeats 3]

For each size and seed a demo cohort is drawn (no database) and its IV patients' observed NPRS
fitted as the report fits them: the sweep (1-5 groups x orders 1-3, 5 starts, the report's
seed), then the latent-class mixed model started at the best 3-group fit (on a seeded subset
above its patient cap). The best of ``--repeats`` runs is printed. CPU seconds (this process,
BLAS limited to one thread as in the report) move less with the machine's load than wall
seconds do; the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _once(y: object, months: list[float], seed: int) -> tuple[float, float, float, float]:
    from analytics.report.parameters import Parameters
    from analytics.stats.trajectories import sweep_trajectories
    from analytics.stats.trajectories.two_models import fit_mixed_from

    params = Parameters()
    wall, cpu = time.perf_counter(), time.process_time()
    sweep = sweep_trajectories(
        y,
        months,
        n_groups=params.trajectory_groups,
        orders=params.trajectory_orders,
        n_starts=params.trajectory_starts,
        seed=params.seed,
    )
    sweep_wall, sweep_cpu = time.perf_counter() - wall, time.process_time() - cpu
    paper = max((f for f in sweep.fits if f.n_groups == params.paper_groups), key=lambda f: f.bic)
    wall, cpu = time.perf_counter(), time.process_time()
    fit_mixed_from(paper, y, months, seed=seed)
    return sweep_cpu, sweep_wall, time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[329, 3290])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from calibration import _wide
    from threadpoolctl import threadpool_limits

    from demo.synthetic import generate

    print(f"load average {os.getloadavg()[0]:.2f}, cpus {os.cpu_count()}")
    print(" patients  seed  IV fitted  sweep cpu s  wall s  mixed cpu s  wall s")
    for n in args.sizes:
        for seed in args.seeds:
            y, _true, _responder, months = _wide(generate(n, seed=seed))
            with threadpool_limits(1):
                runs = [_once(y, months, seed) for _ in range(args.repeats)]
            best = [min(r[i] for r in runs) for i in range(4)]
            print(
                f"{n:>9} {seed:>5} {len(y):>10} {best[0]:>12.2f} {best[1]:>7.2f} "
                f"{best[2]:>12.2f} {best[3]:>7.2f}"
            )
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
