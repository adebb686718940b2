"""CPU cost of one simulated six-group study, as the calibration runs it, beside Mesa's Boltzmann example.

The calibration simulates a whole study (experiments/study.py: the six groups of Mehlbaum & van
Steden, each over its own window) for every parameter draw, so its budget is set by this number.
Target (issue 11): <= 0.2 CPU-seconds per study. CPU time (``time.process_time``) of this process
is measured, so other load on a shared machine matters less than for wall time; the Boltzmann
yardstick runs in the same process so that the ratio can be compared between machines.

    python -m benchmarks.study [--studies 10]

Prints; asserts nothing. The last line reads ``study: <X> CPU-s per six-group study`` (at the
preset, the issue's target); the line before it times studies at prior draws, which is what the
calibration's budget pays (they are busier: higher rates and more observers).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import sim
from benchmarks.throughput import boltzmann_year
from experiments.calibrate import load_prior, simulate_targets
from experiments.study import TARGETS_FILE, Design, active_targets, load_yaml, run_study


def cpu_seconds(fn, repeats: int) -> float:
    """Smallest CPU time of ``repeats`` calls (the least disturbed one)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=10, help="studies to time (different seeds)")
    args = parser.parse_args()

    design = Design.from_targets(load_yaml(TARGETS_FILE))
    base = sim.Params.preset("baseline")
    months = sum(g.months for g in design.groups)
    print(f"study design: {len(design.groups)} groups x {design.households_per_group} households, "
          f"{months:.0f} group-months in all")
    boltzmann = cpu_seconds(boltzmann_year, 3)
    print(f"Boltzmann wealth, 1,000 agents x 365 steps: {boltzmann:.3f} CPU-s (yardstick)")
    run_study(base, design, seed=0)  # warm-up: imports, caches
    start = time.process_time()
    for seed in range(args.studies):
        run_study(base, design, seed=seed)
    per_study = (time.process_time() - start) / args.studies
    # what the calibration pays: its studies are drawn from (near) the prior, busier than the preset
    prior = load_prior()
    targets = active_targets(load_yaml(TARGETS_FILE))
    draws = prior.sample(np.random.default_rng(1), args.studies)
    start = time.process_time()
    for seed, theta in enumerate(draws):
        simulate_targets(base, prior.names, design, targets, theta, seed)
    at_prior = (time.process_time() - start) / args.studies
    print(f"at prior draws (as the calibration's studies): {at_prior:.3f} CPU-s per study "
          f"= {at_prior / boltzmann:.2f} Boltzmann-years")
    print(f"one study = {per_study / boltzmann:.2f} Boltzmann-years (target <= 0.2 CPU-s)")
    print(f"study: {per_study:.3f} CPU-s per six-group study")


if __name__ == "__main__":
    main()
