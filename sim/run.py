"""The Python API shared by experiments, the app and notebooks: run a model, get tables."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import pandas as pd

from sim.model import NeighbourhoodWatch
from sim.outcomes import summarise
from sim.params import Params


@dataclass(frozen=True)
class RunResult:
    """One run: its inputs, the per-day table and the summary of every outcome."""

    params: Params
    seed: int
    days: pd.DataFrame          # one row per day: sim.outcomes.COUNTS and STATE columns
    summary: dict[str, float]   # sim.outcomes.OUTCOMES over the whole run
    situations: pd.DataFrame    # the exogenous world as it happened (common random numbers)


def run(params: Params | None = None, seed: int = 0, days: int = 365) -> RunResult:
    """Simulate ``days`` days of one neighbourhood under ``params`` with ``seed``, after
    ``params.warmup_days`` unrecorded days of warm-up.

    Without ``params``: ``Params.preset("baseline")``, the calibrated baseline, as on the command
    line.
    """
    for name, value, low in (("days", days, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"{name} = {value!r} must be an integer of at least {low}")
    model = NeighbourhoodWatch(params if params is not None else Params.preset(), seed=seed,
                               with_space=False)  # the Mesa space is for the app
    model.warm_up()
    model.run_days(days)
    table = model.day_table()
    return RunResult(params=model.params, seed=seed, days=table, summary=summarise(table),
                     situations=model.situation_table())
