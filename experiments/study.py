"""The simulated study: six neighbourhood-watch groups followed as Mehlbaum & van Steden did, measured
the way the calibration targets (conf/targets/targets.yaml) are defined.

One *study* is one simulation of every group in the design, each over its own window, under one
parameter set. Groups differ in their case preset (conf/case/), whether the community officer is a
member, and their situation rates: Lastage has its own rate multiplier; the other groups sit at fixed
quantiles of a log-normal spread (``group_rate_spread``), because the six groups' report rates span
a factor of about twenty (0.08-1.5 per month) that equal groups cannot produce.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy.stats import norm

import sim
from sim.outcomes import COUNTS, DAYS_PER_MONTH, STATE
from sim.world import OFFENCE_KINDS

CONF = Path(__file__).resolve().parent.parent / "conf"
TARGETS_FILE = CONF / "targets" / "targets.yaml"
PRIORS_FILE = CONF / "targets" / "priors.yaml"
RATE_FIELDS = ("burglary_rate", "attempted_burglary_rate", "vehicle_crime_rate", "vandalism_rate",
               "ambiguous_rate")
STUDY_HYPERPARAMETERS = {"lastage_rate_multiplier": 1.0, "group_rate_spread": 0.0}
ACROSS = ("value", "sum", "min", "max", "count_positive", "count_within", "mean", "pooled")
STATS = ("total", "mean", "last", "per_month", "share", "per_household")
NOISE = ("normal", "poisson")   # a target's noise model in the stochastic acceptor (see calibrate.py)


def load_yaml(path: Path) -> dict:
    with open(path) as f:
        return yaml.safe_load(f) or {}


def case_overrides(case: str) -> dict[str, Any]:
    """Parameter values of a case preset (conf/case/<case>.yaml)."""
    return dict(_case_file(case))


@functools.cache
def _case_file(case: str) -> dict[str, Any]:   # read once per process: a study reads it per group
    return load_yaml(CONF / "case" / f"{case}.yaml")


@dataclass(frozen=True)
class Group:
    name: str
    case: str
    months: float
    officer_in_group: bool
    rate_quantile: float | None = None   # None: the group's rates scale by lastage_rate_multiplier


@dataclass(frozen=True)
class Design:
    groups: tuple[Group, ...]
    households_per_group: int
    months_scale: float = 1.0            # < 1: simulate shorter windows, extrapolate totals (quick mode)

    @classmethod
    def from_targets(cls, spec: dict, months_scale: float = 1.0) -> "Design":
        study = spec["study"]
        return cls(tuple(Group(**g) for g in study["groups"]), int(study["households_per_group"]),
                   months_scale)


def group_params(base: sim.Params, group: Group, design: Design, study: dict[str, float]) -> sim.Params:
    """The parameters one group runs under: base, its case, officer flag and situation rates."""
    if group.rate_quantile is None:
        multiplier = study["lastage_rate_multiplier"]
    else:
        multiplier = float(np.exp(study["group_rate_spread"] * norm.ppf(group.rate_quantile)))
    values = {**base.to_dict(), **case_overrides(group.case)}
    values.update(n_households=design.households_per_group, officer_in_group=group.officer_in_group)
    values.update({f: values[f] * multiplier for f in RATE_FIELDS})
    return sim.Params.from_dict(values)


def run_group(params: sim.Params, group: Group, design: Design, seed: int) -> dict[str, float]:
    """One group over its window: summed counts, mean state, situation kinds, design facts."""
    months = group.months * design.months_scale
    model = sim.NeighbourhoodWatch(params, seed=seed, with_space=False)
    model.run_days(max(1, round(months * DAYS_PER_MONTH)))
    days = model.day_columns()   # the day table's columns, without building the table
    record = {c: float(days[c].sum()) for c in COUNTS}
    record.update({c: _mean(days[c]) for c in STATE})
    record.update({f"last_{c}": float(days[c][-1]) for c in STATE})
    kinds = [s.kind for s in model.situations if not s.deterred]
    record.update({f"kind_{k}": float(kinds.count(k)) for k in OFFENCE_KINDS})
    record.update(design_officer_in_group=float(group.officer_in_group), months=len(days["day"]) / DAYS_PER_MONTH,
                  target_months=group.months, n_households=params.n_households)
    return record


def _mean(values: np.ndarray) -> float:
    """The mean over days with a value, as pandas takes it (NaN counts as no value; NaN if none)."""
    missing = np.isnan(values)
    if not missing.any():
        return float(values.mean())
    kept = int((~missing).sum())
    return float(np.where(missing, 0.0, values).sum() / kept) if kept else float("nan")


def run_study(base: sim.Params, design: Design, seed: int, study: dict[str, float] | None = None,
              only: tuple[str, ...] | None = None) -> dict[str, dict[str, float]]:
    """Every group of the design (or ``only`` those named) under ``base``; records by group name."""
    study = {**STUDY_HYPERPARAMETERS, **(study or {})}
    seeds = np.random.SeedSequence(seed).generate_state(len(design.groups))
    return {g.name: run_group(group_params(base, g, design, study), g, design, int(s))
            for g, s in zip(design.groups, seeds) if only is None or g.name in only}


def groups_needed(target: dict, design: Design) -> tuple[str, ...]:
    which = target["measure"]["groups"]
    if which == "lastage":
        return ("lastage",)
    return tuple(g.name for g in design.groups if which == "all" or g.name != "lastage")


def _group_value(record: dict[str, float], columns: list[str], stat: str) -> float:
    if stat == "last":
        return sum(record[f"last_{c}"] for c in columns)
    value = sum(record[c] for c in columns)
    if stat == "total":
        return value * record["target_months"] / record["months"]   # extrapolated in quick mode
    if stat == "per_month":
        return value / record["months"]
    if stat == "per_household":
        return value / record["n_households"]
    return value   # mean (STATE columns) or a share's numerator


def measure(target: dict, records: dict[str, dict[str, float]], design: Design) -> float:
    """The model's value of one target from a study's group records."""
    m = target["measure"]
    names = groups_needed(target, design)
    rows = [records[n] for n in names]
    if m["stat"] == "share":
        num = np.array([sum(r[c] for c in m["columns"]) for r in rows])
        den = np.array([sum(r[c] for c in m["denominator"]) for r in rows])
        if m["across"] in ("pooled", "value"):
            return float(num.sum() / den.sum()) if den.sum() > 0 else float("nan")
        values = np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0)
    else:
        values = np.array([_group_value(r, m["columns"], m["stat"]) for r in rows])
    across = m["across"]
    if across in ("value", "mean"):
        return float(values.mean())
    if across == "count_positive":
        return float((values > 0).sum())
    if across == "count_within":
        lo, hi = m["within"]
        return float(((values >= lo) & (values <= hi)).sum())
    return float({"sum": np.sum, "min": np.min, "max": np.max}[across](values))


def measurable_columns() -> set[str]:
    """Every column a target may name: the model's day-table columns, situation kinds, design facts."""
    return set(COUNTS) | set(STATE) | {f"kind_{k}" for k in OFFENCE_KINDS} | {"design_officer_in_group"}


def missing_columns(target: dict) -> list[str]:
    """The columns of ``target`` that the model does not (yet) produce."""
    m = target["measure"]
    return sorted((set(m["columns"]) | set(m.get("denominator", []))) - measurable_columns())


def active_targets(spec: dict) -> list[dict]:
    """The targets the model can measure today. A target whose outcome waits on other work says so
    in ``awaits`` and is inactive until the outcome exists (it then becomes active by itself)."""
    return [t for t in spec["targets"] if not missing_columns(t)]


def inactive_targets(spec: dict) -> dict[str, str]:
    """Name -> 'needs <columns> (<awaits>)' for every target the model cannot measure yet."""
    return {t["name"]: f"needs {', '.join(missing_columns(t))} ({t['awaits']})"
            for t in spec["targets"] if missing_columns(t)}


def validate_targets(spec: dict) -> None:
    """Raise ValueError naming any target that is malformed, or that names an outcome the model does
    not produce without saying (``awaits``) which work will provide it."""
    design = Design.from_targets(spec)
    names = [t["name"] for t in spec["targets"]]
    if len(set(names)) != len(names):
        raise ValueError("duplicate target names")
    for t in spec["targets"]:
        missing = {"name", "case", "source", "measure", "use"} - set(t)
        if missing or ("value" not in t and "range" not in t):
            raise ValueError(f"target {t.get('name')!r} lacks {sorted(missing) or 'a value or range'}")
        m = t["measure"]
        unknown = missing_columns(t)
        if unknown and not t.get("awaits"):
            raise ValueError(f"target {t['name']!r}: unknown outcome column(s) {unknown} (not in "
                             "sim.outcomes; if another branch adds it, say so in `awaits`)")
        if m["stat"] not in STATS or m["across"] not in ACROSS or m["groups"] not in ("lastage", "others", "all"):
            raise ValueError(f"target {t['name']!r}: bad measure {m}")
        if (m["stat"] == "share") != ("denominator" in m):
            raise ValueError(f"target {t['name']!r}: a share needs a denominator, and only a share")
        if t["use"] == "calibrate" and ("value" not in t or not t.get("sd", 0) > 0):
            raise ValueError(f"target {t['name']!r}: a calibration target needs a value and sd > 0")
        if t["use"] not in ("calibrate", "check"):
            raise ValueError(f"target {t['name']!r}: use must be calibrate or check")
        if t.get("noise", "normal") not in NOISE:
            raise ValueError(f"target {t['name']!r}: noise must be one of {NOISE}")
    if not any(g.rate_quantile is None for g in design.groups):
        raise ValueError("the design needs the Lastage group (rate_quantile: null)")


def require_measurable(targets: list[dict]) -> None:
    """Raise naming the missing outcome if any of ``targets`` cannot be measured."""
    for t in targets:
        if missing_columns(t):
            raise ValueError(f"target {t['name']!r} needs outcome column(s) {missing_columns(t)}, which "
                             f"sim.outcomes does not have ({t.get('awaits', 'no `awaits` given')})")
