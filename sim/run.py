"""The Python API shared by experiments, the app and notebooks: run a model, get tables."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sim.model import NeighbourhoodWatch
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
    """Simulate ``days`` days of one neighbourhood under ``params`` with ``seed``."""
    if not isinstance(days, int) or days < 1:
        raise ValueError(f"days = {days!r} must be a positive integer")
    model = NeighbourhoodWatch(params or Params(), seed=seed, with_space=False)  # the space is for the app
    model.run_days(days)
    return RunResult(params=model.params, seed=seed, days=model.day_table(),
                     summary=model.summary(), situations=model.situation_table())
