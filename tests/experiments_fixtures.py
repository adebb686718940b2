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
