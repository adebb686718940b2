"""``seeds=auto``: run seeds in batches until every headline effect is known precisely enough.

``python -m experiments.run -m seeds=auto [hydra.sweeper.precision=5] [hydra.sweeper.batch=10]``
selects the precision sweeper (conf/seeds/auto.yaml; ``hydra_plugins/buurtsim_sweeper/
precision_sweeper.py`` is a thin loop over this module). The sweep's seed list (default
``range(200)``) is the budget; it is run ``batch`` seeds at a time (every scenario and case of the
sweep for those seeds). After each batch the scorecard of the runs so far
(:func:`experiments.report.scorecard`) is computed, and the sweep stops as soon as every cell with
enough events (as in the report) has a 95% interval narrower than ``precision`` (in the scorecard's units: percentage
points for shares, percent for counts and rates). ``precision.json`` in the sweep directory says
which it was: precision reached, or budget spent and the widest interval left.

Resume is the run cache's: re-running the command skips every completed run.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from experiments import store

STATUS = "precision.json"


def widths(runs: pd.DataFrame, reference: str, events: pd.DataFrame | None = None) -> pd.DataFrame:
    """The scorecard of ``runs`` with each cell's interval width in plain units."""
    from experiments import compare, report
    done = runs[runs["status"].isin(compare.DONE)]
    card = report.scorecard(compare.scenario_means(done), compare.paired_differences(done, reference), events)
    return card.assign(width=card["effect_hi"] - card["effect_lo"])


def status(runs: pd.DataFrame, reference: str, precision: float, budget: int,
           events: pd.DataFrame | None = None) -> dict[str, Any]:
    """Whether every estimable headline interval is narrower than ``precision``; the widest one."""
    card = widths(runs, reference, events)
    estimable = card[~card["too_few"]]
    seeds = int(runs["seed"].nunique())
    result: dict[str, Any] = {"precision": precision, "seeds": seeds, "budget": budget,
                              "reference": reference, "cells": len(card),
                              "too_few_events": int(card["too_few"].sum())}
    if estimable.empty or estimable["width"].isna().any():
        return {**result, "reached": False, "widest": None}
    widest = estimable.loc[estimable["width"].idxmax()]
    return {**result, "reached": bool(widest["width"] < precision),
            "widest": {"scenario": widest["scenario"], "outcome": widest["outcome"],
                       "width": float(widest["width"]), "unit": widest["unit"]}}


def seed_batches(jobs: Sequence[Sequence[str]], batch: int) -> list[list[list[str]]]:
    """The runs grouped by seed into rounds of ``batch`` seeds, in the order of the seed list."""
    from experiments.sweep import seed_of

    def seed(job: Sequence[str]) -> str:
        return next((s for s in map(seed_of, job) if s is not None), "")
    order = list(dict.fromkeys(seed(j) for j in jobs))
    groups = [order[i:i + batch] for i in range(0, len(order), batch)]
    return [[list(j) for j in jobs if seed(j) in set(g)] for g in groups]


def check(config: Any, reference: str, precision: float, budget: int) -> dict[str, Any]:
    """After a batch: the status of the sweep so far, written to ``precision.json`` and shown."""
    sweep_dir = Path(config.hydra.sweep.dir)
    from experiments import report
    cache = store.cache_dir(config.results_dir)
    runs = store.runs_table(store.job_records(sweep_dir), cache)
    result = status(runs, reference, precision, budget, report.count_events(store.days_table(runs, cache)))
    store.write_json(sweep_dir / STATUS, result)
    print(f"seeds=auto: {result['seeds']} seeds, widest interval {_widest(result)}; "
          f"target {precision:g}", file=sys.stderr)
    return result


def _widest(result: dict[str, Any]) -> str:
    w = result.get("widest")
    if not w:
        return "not yet estimable"
    return f"{w['width']:.2f} {w['unit']} ({w['outcome']}, {w['scenario']})"


def note(sweep: Path) -> tuple[str, str]:
    """What seeds=auto decided, in Dutch and English; empty strings for a sweep without it."""
    path = sweep / STATUS
    if not path.exists():
        return "", ""
    r = store.read_json(path)
    if r["reached"]:
        return (f"seeds=auto: gestopt na {r['seeds']} seeds per regeling, omdat elk interval smaller is dan "
                f"{r['precision']:g} (pp of %); breedste {_widest(r)}.",
                f"seeds=auto: stopped after {r['seeds']} seeds per arrangement because every interval is "
                f"narrower than {r['precision']:g} (pp or %); widest {_widest(r)}.")
    return (f"seeds=auto: budget op na {r['seeds']} seeds per regeling; de gevraagde precisie "
            f"{r['precision']:g} is niet bereikt (breedste interval {_widest(r)}).",
            f"seeds=auto: budget spent after {r['seeds']} seeds per arrangement; the requested precision "
            f"{r['precision']:g} was not reached (widest interval {_widest(r)}).")
