"""Runners for the Slurm launcher tests (``runner=cluster_fixtures.<name>``)."""

import os
import time
from pathlib import Path

import sim


def run_held_while_flagged(params: sim.Params, seed: int, days: int) -> sim.RunResult:
    """sim.run; but while the file named by $BUURTSIM_HOLD exists, the first run to arrive with
    seed $BUURTSIM_HOLD_SEED writes its Slurm job id to ``<hold>.job`` and waits there, so that a
    test can kill it while it runs. Later runs with that seed are not held."""
    hold = os.environ.get("BUURTSIM_HOLD")
    if hold and Path(hold).exists() and seed == int(os.environ.get("BUURTSIM_HOLD_SEED", -1)):
        array = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
        job_id = f"{array[0]}_{array[1]}" if all(array) else os.environ.get("SLURM_JOB_ID", "")
        try:
            fd = os.open(hold + ".job", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return sim.run(params, seed=seed, days=days)
        os.write(fd, job_id.encode())
        os.close(fd)
        deadline = time.monotonic() + 600
        while Path(hold).exists() and time.monotonic() < deadline:
            time.sleep(0.5)
    return sim.run(params, seed=seed, days=days)
