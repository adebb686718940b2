"""How many seeds the default sweep needs for its headline intervals (issue 10, seeds from pairing).

Runs every scenario of the default sweep (generic case, 365 days) on seeds 0..N-1 and, after each
batch of seeds, asks ``experiments.precision.status`` (the rule of ``seeds=auto``) whether every
estimable headline interval of the scorecard is narrower than ``--precision`` (percentage points
for shares, percent for counts and rates); prints the widest interval at each step.

    python -m benchmarks.seeds [--seeds 60] [--batch 10] [--precision 5] [--processes 2]
"""

from __future__ import annotations

import argparse
from multiprocessing import Pool

import pandas as pd

import sim
from experiments import precision


def _run(job: tuple[str, int]) -> dict:
    scenario, seed = job
    summary = sim.run(sim.Params.preset(scenario), seed=seed, days=365).summary
    return {"case": "generic", "calibration": "calibrated", "days": 365, "scenario": scenario,
            "seed": seed, "status": "ok", **summary}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=60)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--precision", type=float, default=5.0)
    ap.add_argument("--processes", type=int, default=2)
    args = ap.parse_args()
    jobs = [(s, seed) for seed in range(args.seeds) for s in sim.SCENARIOS]
    with Pool(args.processes) as pool:
        runs = pd.DataFrame(pool.map(_run, jobs, chunksize=4))
    print(f"precision {args.precision} (pp for shares, % for counts and rates), scenarios {len(sim.SCENARIOS)}")
    for n in range(args.batch, args.seeds + 1, args.batch):
        st = precision.status(runs[runs.seed < n], "baseline", args.precision, args.seeds)
        w = st["widest"]
        print(f"{n:4d} seeds: reached={st['reached']}  widest {w['width']:.2f} {w['unit']} "
              f"({w['scenario']}, {w['outcome']}); cells {st['cells']}, too few events {st['too_few_events']}")
    card = precision.widths(runs, "baseline")
    est = card[~card["too_few"]].sort_values("width", ascending=False)
    print(f"widest cells at {args.seeds} seeds:")
    print(est[["scenario", "outcome", "width", "unit"]].head(8).to_string(index=False))


if __name__ == "__main__":
    main()
