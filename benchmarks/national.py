"""The national run's scale-up: wall time, CPU of all processes, and the model's share of it.

Target (issue 11): all groups, one scenario, <= 10 minutes wall on the 2-core machine. For each
population size, ``python -m experiments.national population.groups=<N>`` runs as a user runs it,
into a fresh results directory (nothing cached), as a child process. Printed per size: its wall
time (and the load average: the machine may be shared), the CPU-seconds of every process it
started (``RUSAGE_CHILDREN``), and of those the CPU-seconds spent in the groups' ``sim.run`` calls
(each batch entry records them): model time; the rest is overhead (start-up, Hydra jobs,
population, tables and figures).

    python -m benchmarks.national [--groups 100,1000,9000] [extra overrides, e.g. batches=60]

Prints; asserts nothing. Each size's last line reads ``national: <N> groups in <S> s`` as the
run's own does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", default="100,1000,9000")
    parser.add_argument("overrides", nargs="*", help="more overrides for experiments.national")
    args = parser.parse_args()
    for groups in map(int, args.groups.split(",")):
        with tempfile.TemporaryDirectory(prefix="bench-national-") as results:
            load = os.getloadavg()[0]
            cpu, wall = children_cpu(), time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "experiments.national", f"population.groups={groups}",
                                   *args.overrides, f"results_dir={results}"], cwd=ROOT,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
            cpu, wall = children_cpu() - cpu, time.perf_counter() - wall
            if done.returncode:
                sys.exit(f"the national run failed:\n{done.stderr[-3000:]}")
            entries = [json.loads(p.read_text()) for p in Path(results, "cache", "national").glob("*.json")]
            model = sum(e["cpu_seconds"] for e in entries)
        print(f"{groups} groups, {len(entries)} batches: {wall:.1f} s wall (load average {load:.1f} at "
              f"start, {os.getloadavg()[0]:.1f} at end); {cpu:.1f} CPU-s in all, of which model "
              f"{model:.1f} ({model / groups:.3f} per group-year) and overhead {cpu - model:.1f} "
              f"({(cpu - model) / cpu:.0%})")
        print(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
