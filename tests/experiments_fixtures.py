"""Runners for the experiment tests (``runner=experiments_fixtures.<name>`` in a sweep)."""

import sim


def fail_on_seed_1(params: sim.Params, seed: int, days: int) -> sim.RunResult:
    """sim.run, except that the run with seed 1 fails."""
    if seed == 1:
        raise RuntimeError("forced failure for seed 1")
    return sim.run(params, seed=seed, days=days)


def slow_run(params: sim.Params, seed: int, days: int) -> sim.RunResult:
    """sim.run, taking at least two seconds (time to interrupt a sweep)."""
    import time
    time.sleep(2)
    return sim.run(params, seed=seed, days=days)


NOISE_SD = 0.02     # standard deviation of every share outcome of noise_runner
LEVEL = 100.0       # level of every other outcome of noise_runner; its standard deviation is 2


def noise_runner(params: sim.Params, seed: int, days: int):
    """No model and no effect: every outcome is a fixed level plus independent normal noise per
    (parameters, seed, outcome), so no scenario differs from another except by chance."""
    import hashlib
    import json

    import numpy as np
    import pandas as pd

    digest = hashlib.sha256(json.dumps([params.to_dict(), seed], sort_keys=True).encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    noise = rng.standard_normal(len(sim.OUTCOME_NAMES))
    summary = {name: (0.5 + NOISE_SD * z) if name.endswith("_share") else LEVEL + 2.0 * z
               for name, z in zip(sim.OUTCOME_NAMES, noise)}
    return sim.RunResult(params=params, seed=seed, days=pd.DataFrame({"day": range(days)}),
                         summary=summary, situations=pd.DataFrame())


def killed_once(params: sim.Params, seed: int, days: int, kill: bool = True) -> sim.RunResult:
    """sim.run; but while the file named by $BUURTSIM_KILL exists, the first run (if ``kill``)
    removes it and kills its own process (as the kernel's out-of-memory killer would): the next
    try succeeds."""
    import os
    import signal
    flag = os.environ.get("BUURTSIM_KILL")
    if kill and flag:
        try:
            os.remove(flag)   # only one process can remove it
        except FileNotFoundError:
            pass
        else:
            os.kill(os.getpid(), signal.SIGKILL)
    return sim.run(params, seed=seed, days=days)


def killed_on_seed_1_once(params: sim.Params, seed: int, days: int) -> sim.RunResult:
    """:func:`killed_once` for the run with seed 1 only."""
    return killed_once(params, seed, days, kill=seed == 1)
