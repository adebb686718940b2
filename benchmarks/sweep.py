"""Cost per run of a Hydra sweep beside direct ``sim.run`` calls of the same runs, and the ratio.

Target (issue 11): a sweep's cost per run <= 1.3x a direct ``sim.run``. Both are measured in
CPU-seconds:

- *direct*: the same runs (the parameters the sweep composes: calibration, case, scenario) called
  with ``sim.run``, split over as many processes at once as the sweep has workers (one per core),
  each after a warm-up run; the CPU time of the calls only (``time.process_time``), so no
  start-up, imports or files are counted: the strictest denominator. Running them side by side, as
  the sweep's workers run, keeps the two under the same contention (on a shared 2-core machine a
  process alone runs faster per CPU-second than two at once);
- *sweep*: ``python -m experiments.run -m ...`` as a user runs it, into a fresh results directory
  (nothing cached), as a child process; the CPU time of every process it started (the Hydra
  process, the launcher's workers: ``RUSAGE_CHILDREN``, user + system), so Python and Hydra
  start-up, worker start-up, composition, writing the cache and the sweep tables are all counted.
  Its wall time x the launcher's workers is printed too (it counts idle cores, and other load on a
  shared machine).

    python -m benchmarks.sweep [--seeds 30] [--scenarios all] [--days 365] [--rounds 3]
                               [--compare] [--per-job auto] [--code DIR] [override ...]

``--compare`` includes the comparison and report that a default sweep ends with (not a cost of
running: a fixed cost per sweep, printed separately). ``--code DIR`` runs the sweep of another
checkout (e.g. ``/work/main`` for the cost before a change); further arguments are overrides of
the sweep (``hydra/launcher=joblib``: the cost with Hydra's joblib launcher). Each round runs the
sweep, then the direct runs, so that both meet the same load; the ratio printed last is the
median of the rounds (a shared machine moves a single ratio by a tenth or more). Prints; asserts
nothing. The last line reads ``sweep: <X>x the CPU of direct sim.run per run (...)``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from hydra import compose, initialize_config_dir

import sim
from experiments.schema import to_params

ROOT = Path(__file__).resolve().parent.parent


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sweep_params(scenarios: list[str], days: int) -> dict[str, sim.Params]:
    """The parameters the sweep composes for each scenario (seed-independent calibration)."""
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return {s: to_params(compose("config", overrides=[f"scenario={s}", f"days={days}"]))
                for s in scenarios}


def direct_cpu(jobs: list[tuple[sim.Params, int, int]]) -> float:
    """CPU-seconds of ``sim.run`` over ``jobs`` in this process, after a warm-up run."""
    sim.run(jobs[0][0], seed=10**6, days=30)  # warm-up: imports, caches
    start = time.process_time()
    for params, seed, days in jobs:
        sim.run(params, seed=seed, days=days)
    return time.process_time() - start


def sweep_cpu(args: argparse.Namespace, scenarios: list[str]) -> tuple[float, float, str]:
    """CPU-seconds (every process) and wall seconds of the sweep into a fresh results directory,
    and its plan line."""
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as results:
        command = [sys.executable, "-m", "experiments.run", "-m", f"scenario={','.join(scenarios)}",
                   f"seed=range({args.seeds})", f"days={args.days}", f"compare={str(args.compare).lower()}",
                   f"results_dir={results}", *([f"seeds_per_job={args.per_job}"] if args.per_job else []),
                   *args.overrides]
        env = {**os.environ, "PYTHONPATH": str(args.code.resolve())}
        cpu, wall = children_cpu(), time.perf_counter()
        done = subprocess.run(command, cwd=args.code, env=env, capture_output=True, text=True)
        cpu, wall = children_cpu() - cpu, time.perf_counter() - wall
        if done.returncode:
            sys.exit(f"the sweep failed:\n{done.stderr[-3000:]}")
        plan = next((line for line in done.stderr.splitlines() if line.startswith("sweep:")), "")
    return cpu, wall, plan.removeprefix("sweep: ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--scenarios", default="all", help="comma-separated, or all")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rounds", type=int, default=3, help="sweep, then direct runs, this many times")
    parser.add_argument("--compare", action="store_true", help="include the comparison and report")
    parser.add_argument("--per-job", default=None, help="seeds_per_job for the sweep (default: its own)")
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose sweep is run")
    parser.add_argument("overrides", nargs="*", help="more overrides for the sweep, e.g. hydra/launcher=joblib")
    args = parser.parse_args()
    scenarios = sorted(sim.SCENARIOS) if args.scenarios == "all" else args.scenarios.split(",")
    runs = len(scenarios) * args.seeds
    workers = len(os.sched_getaffinity(0))
    print(f"{runs} runs: {len(scenarios)} scenarios x {args.seeds} seeds x {args.days} days, "
          f"generic case; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    params = sweep_params(scenarios, args.days)
    jobs = [(params[scenario], seed, args.days) for scenario in scenarios for seed in range(args.seeds)]

    ratios = []
    for round_ in range(1, args.rounds + 1):
        cpu, wall, plan = sweep_cpu(args, scenarios)
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            direct = sum(pool.map(direct_cpu, [jobs[i::workers] for i in range(workers)])) / runs
        ratios.append(cpu / runs / direct)
        if round_ == 1:
            print(f"sweep ({args.code}): {plan}")
        print(f"round {round_}: sweep {cpu:.1f} CPU-s for all processes ({cpu / runs:.3f} a run), "
              f"{wall:.1f} s wall; direct sim.run {direct:.3f} CPU-s a run in {workers} processes at "
              f"once, as the sweep's workers run; {ratios[-1]:.2f}x; load average {os.getloadavg()[0]:.1f}")
    print(f"  wall x cores, last round: {wall * workers / runs / direct:.2f}x direct")
    print(f"sweep: {statistics.median(ratios):.2f}x the CPU of direct sim.run per run "
          f"(median of {len(ratios)} rounds: {', '.join(f'{r:.2f}' for r in ratios)})")


if __name__ == "__main__":
    main()
