"""Calibrate the behavioural parameters to the six study groups by ABC-SMC (pyabc), and report.

    python -m experiments.calibrate                    # default: >= 10,000 simulated studies
    python -m experiments.calibrate --quick            # CI smoke run (under 2 minutes); not meaningful
    python -m experiments.calibrate --run-dir DIR      # continue a stopped calibration in DIR
    python -m experiments.calibrate --adopt            # also install the result (point preset, posterior)

Reads the targets and study design (conf/targets/targets.yaml) and the priors
(conf/targets/priors.yaml); simulates the six-group study (experiments/study.py) for each parameter
set; runs ABC-SMC with pyabc (adaptive distance, or with ``--acceptor stochastic`` per-target noise
kernels: Poisson for small counts, normal otherwise). pyabc's history database (``history.db`` in the
run directory) is written after every generation, so a killed run started again on the same
directory continues from its last complete generation. Writes ``results/calibration-<unique>/``
(report.md, figures, tables, the point preset ``calibrated.yaml``, installed with ``--adopt`` as sim/calibrated.yaml, and the weighted posterior sample
``posterior.csv``). See docs/calibration.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import os
import shutil
import sqlite3
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing, nullcontext
from dataclasses import asdict, dataclass, replace
from multiprocessing import get_context
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pyabc
from pyabc.distance import SCALE_LOG, StochasticKernel
from pyabc.transition import Transition, silverman_rule_of_thumb
from pyabc.transition.util import smart_cov
from scipy import stats as st

import sim
from experiments import posterior, store
from experiments.study import (CONF, PRIORS_FILE, STUDY_HYPERPARAMETERS, TARGETS_FILE, Design,
                               active_targets, groups_needed, inactive_targets, load_yaml, measure,
                               require_measurable, run_study, validate_targets)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the non-interactive backend)

PRESET_FILE = sim.params.CALIBRATED_FILE  # the package's point calibration: one default for API and CLI
ROOT = CONF.parent
ADOPTED_PRESET = PRESET_FILE
NAN_MISS = 3.0       # a target the run cannot measure (e.g. a share of zero reports) counts as a 3-sd miss
POISSON_FLOOR = 0.5  # a simulated count of 0 is read as a mean of 0.5 in the Poisson kernel
IDENTIFIED, WEAK = 0.5, 0.8   # posterior/prior 95%-interval width ratios: identified | weakly | prior-bound
LOW_ESS = 0.3        # a generation whose effective sample size is below this share of its particles is degenerate


# -- priors -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prior:
    """Independent uniform priors, log-uniform where ``log``. The sampler works in z-space (log of
    log-uniform parameters), where every prior is uniform."""

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    log: np.ndarray

    @classmethod
    def from_spec(cls, spec: dict[str, dict]) -> "Prior":
        names = tuple(spec)
        low = np.array([float(spec[n]["low"]) for n in names])
        high = np.array([float(spec[n]["high"]) for n in names])
        log = np.array([bool(spec[n].get("log", False)) for n in names])
        if np.any(high <= low) or np.any(log & (low <= 0)):
            bad = [n for n, lo, hi, lg in zip(names, low, high, log) if hi <= lo or (lg and lo <= 0)]
            raise ValueError(f"prior(s) {bad}: need low < high (and low > 0 when log-uniform)")
        return cls(names, low, high, log)

    @property
    def z_low(self) -> np.ndarray:
        return self.to_z(self.low)

    @property
    def z_high(self) -> np.ndarray:
        return self.to_z(self.high)

    def to_z(self, theta: np.ndarray) -> np.ndarray:
        return np.where(self.log, np.log(np.where(self.log, theta, 1.0)), theta)

    def from_z(self, z: np.ndarray) -> np.ndarray:
        return np.where(self.log, np.exp(z), z)

    def __add__(self, other: "Prior") -> "Prior":
        """Both priors' parameters, these first."""
        return Prior(self.names + other.names, np.r_[self.low, other.low], np.r_[self.high, other.high],
                     np.r_[self.log, other.log])

    def without(self, names) -> "Prior":
        """The prior of the other parameters."""
        keep = np.array([n not in set(names) for n in self.names], dtype=bool)
        return Prior(tuple(n for n, k in zip(self.names, keep) if k), self.low[keep], self.high[keep],
                     self.log[keep])

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draws in natural units, shape (size, d)."""
        return self.from_z(rng.uniform(self.z_low, self.z_high, size=(size, len(self.names))))

    def distribution(self) -> pyabc.Distribution:
        """The prior in z-space, for pyabc."""
        return pyabc.Distribution(**{n: pyabc.RV("uniform", lo, hi - lo)
                                     for n, lo, hi in zip(self.names, self.z_low, self.z_high)})

    def label(self, j: int) -> str:
        return f"{'log-' if self.log[j] else ''}U({self.low[j]:g}, {self.high[j]:g})"


def load_prior(spec: dict | None = None, section: tuple[str, ...] = ("params", "study")) -> Prior:
    """The calibrated parameters' prior (``params`` and ``study``), or e.g. ``("carried",)``."""
    spec = spec or load_yaml(PRIORS_FILE)
    prior = Prior.from_spec({k: v for s in section for k, v in (spec.get(s) or {}).items()})
    for name, lo, hi in zip(prior.names, prior.low, prior.high):
        if name not in STUDY_HYPERPARAMETERS:
            sim.params.check_value(name, float(lo))
            sim.params.check_value(name, float(hi))
    return prior


# -- the simulator handed to pyabc: one study per parameter set --------------------------------------
@dataclass(frozen=True)
class StudyModel:
    """pyabc model: z-space parameters -> the fitted targets' simulated values (one study)."""

    base: sim.Params
    prior: Prior
    design: Design
    targets: tuple[dict, ...]
    carried: Prior | None = None   # drawn from their prior in every study: marginalised, not fitted
    first: tuple["FirstFit", ...] = ()   # fitted first, on their own: drawn from that fit in every study

    def __call__(self, pars: dict) -> dict[str, float]:
        theta = self.prior.from_z(np.array([pars[n] for n in self.prior.names], dtype=float))
        names = self.prior.names
        if self.carried is not None and self.carried.names:   # np.random: pyabc seeds each worker
            names += self.carried.names
            theta = np.r_[theta, self.carried.from_z(np.random.uniform(self.carried.z_low, self.carried.z_high))]
        if self.first:
            names += tuple(f.name for f in self.first)
            theta = np.r_[theta, [f.sample(np.random, 1)[0] for f in self.first]]
        values = simulate_targets(self.base, names, self.design, self.targets, theta,
                                  int(np.random.randint(0, 2**31 - 1)))
        return {t["name"]: (t["value"] + NAN_MISS * t["sd"] if math.isnan(v) else v)
                for t, v in zip(self.targets, values)}


def simulate_targets(base: sim.Params, names, design: Design, targets, theta, seed: int) -> list[float]:
    """One study at ``theta`` (natural units): every target's simulated value (NaN = unmeasurable).
    Only the groups the targets measure are simulated (each group's seed is the same either way)."""
    values = dict(zip(names, map(float, theta)))
    study = {k: values.pop(k) for k in list(values) if k in STUDY_HYPERPARAMETERS}
    needed = tuple(sorted({g for t in targets for g in groups_needed(t, design)}))
    records = run_study(base.replace(**values), design, seed, study, only=needed)
    return [measure(t, records, design) for t in targets]


def _study_job(job) -> list[float]:
    return simulate_targets(*job)


def predictive(base, prior: Prior, design: Design, targets: list[dict], theta: np.ndarray,
               rng: np.random.Generator, executor, carried: Prior | None = None,
               seeds: np.ndarray | None = None) -> np.ndarray:
    """Studies at each row of ``theta`` (natural units): shape (rows, targets). With ``carried``,
    each row also draws those parameters from their prior (as the calibration's studies do);
    without, they stay at the base parameters' values (as in the point preset). ``seeds``: one per
    row (default: drawn from ``rng``)."""
    names = prior.names
    if carried is not None and carried.names:
        names += carried.names
        theta = np.hstack([theta, carried.sample(rng, len(theta))])
    seeds = rng.integers(0, 2**31 - 1, len(theta)) if seeds is None else seeds
    jobs = [(base, names, design, targets, tuple(row), int(s)) for row, s in zip(theta, seeds)]
    mapper = executor.map if executor else map
    return np.array(list(mapper(_study_job, jobs)), dtype=float).reshape(len(jobs), len(targets))


def process_pool(workers: int):
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn")) if workers > 1 else nullcontext()


# -- the first stage: a parameter fitted on its own ----------------------------------------------------
# A parameter that the targets named for it in priors.yaml (``first:``) depend on nearly one to one, and
# no other target does, is fitted to those targets alone before the joint ABC-SMC, which then draws it
# from this fit in every study. In the joint ABC it competed with every other target's miss at the
# tolerance the budget reaches: session 11's last generation put fear_baseline's posterior mean at
# 0.278 and the posterior's national fear figure at 0.11, the target 0.16 (docs/calibration.md: The
# first stage).
FIRST_BANDWIDTH = 3.0   # local regression half-width, in grid steps


@dataclass(frozen=True)
class FirstFit:
    """One parameter's posterior from its own targets: a density on a fine grid in z-space (the prior is
    uniform there), from a Gaussian synthetic likelihood (Wood 2010) whose mean and covariance are
    local-linear fits to studies on a coarse grid, the other parameters drawn from their priors."""

    prior: Prior                 # the parameter's own prior (one name)
    targets: tuple[str, ...]
    z: np.ndarray                # fine grid (cell centres), z-space
    mass: np.ndarray             # posterior mass per cell
    table: pd.DataFrame          # per fine-grid point: value, mean and sd of each target, log-likelihood

    @property
    def name(self) -> str:
        return self.prior.names[0]

    def sample(self, rng, size: int) -> np.ndarray:
        """Draws in natural units (``rng``: a Generator or the ``np.random`` module, as in the workers)."""
        cells = rng.choice(len(self.z), size=size, p=self.mass)
        half = (self.prior.z_high[0] - self.prior.z_low[0]) / len(self.z) / 2
        return self.prior.from_z(self.z[cells] + rng.uniform(-half, half, size=size))

    def quantiles(self, qs) -> np.ndarray:
        return self.prior.from_z(weighted_quantile(self.z, self.mass, qs))


def local_moments(z: np.ndarray, stats: np.ndarray, at: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of ``stats`` (rows: studies) at ``z = at``: a local-linear regression with
    tricube weights of half-width ``width``, and the weighted covariance of its residuals."""
    k = np.clip(1 - (np.abs(z - at) / width) ** 3, 0, None) ** 3
    x = np.column_stack([np.ones_like(z), z - at]) * np.sqrt(k)[:, None]
    beta = np.linalg.lstsq(x, stats * np.sqrt(k)[:, None], rcond=None)[0]
    resid = stats - np.column_stack([np.ones_like(z), z - at]) @ beta
    return beta[0], (k[:, None] * resid).T @ resid / k.sum()


def synthetic_fit(prior: Prior, z: np.ndarray, stats: np.ndarray, targets: list[dict],
                  names: tuple[str, ...], fine: int) -> FirstFit:
    """The FirstFit of one parameter from studies at ``z`` (z-space) with ``stats`` (studies x targets):
    at each of ``fine`` points, the observed targets' log density under N(mean, cov + diag(sd^2))."""
    keep = ~np.isnan(stats).any(axis=1)
    z, stats = z[keep], stats[keep]
    value = np.array([t["value"] for t in targets], dtype=float)
    sd = np.array([t["sd"] for t in targets], dtype=float)
    lo, hi = prior.z_low[0], prior.z_high[0]
    width = FIRST_BANDWIDTH * (hi - lo) / max(len(np.unique(z)) - 1, 1)
    grid = lo + (np.arange(fine) + 0.5) * (hi - lo) / fine
    rows, loglik = [], []
    for at in grid:
        mean, cov = local_moments(z, stats, at, width)
        loglik.append(st.multivariate_normal.logpdf(value, mean, cov + np.diag(sd ** 2), allow_singular=True))
        rows.append({"value": float(prior.from_z(np.array([at]))[0]),
                     **{f"{t['name']}_mean": m for t, m in zip(targets, mean)},
                     **{f"{t['name']}_sd": float(np.sqrt(c)) for t, c in zip(targets, np.diag(cov))}})
    loglik = np.array(loglik)
    mass = np.exp(loglik - loglik.max())
    table = pd.DataFrame(rows).assign(loglik=loglik, mass=mass / mass.sum())
    return FirstFit(prior, names, grid, mass / mass.sum(), table)


def first_spec(spec: dict | None = None) -> dict[str, list[str]]:
    """priors.yaml's ``first:``: parameter -> the targets it is fitted to on its own."""
    spec = spec or load_yaml(PRIORS_FILE)
    return {name: list(targets) for name, targets in (spec.get("first") or {}).items()}


def fit_first(base: sim.Params, prior: Prior, carried: Prior | None, design: Design, targets: list[dict],
              first: dict[str, list[str]], settings: Settings, rng: np.random.Generator,
              executor) -> tuple[FirstFit, ...]:
    """The first stage: each parameter of ``first`` fitted to its targets (from ``targets``) by studies on
    a grid of ``settings.first_grid`` values, ``settings.first_runs`` each, every other parameter (the
    calibrated and the carried) drawn from its prior, so the fit is marginal over them."""
    by_name = {t["name"]: t for t in targets}
    fits = []
    for name, names in first.items():
        if name not in prior.names:
            raise ValueError(f"priors.yaml first: {name!r} is not a calibrated parameter ({', '.join(prior.names)})")
        unknown = [n for n in names if n not in by_name]
        if not names or unknown:
            raise ValueError(f"priors.yaml first: {name!r} needs calibration targets; not one: {unknown or names}")
        rest = prior.without([name])
        own = prior.without(rest.names)
        z = np.repeat(np.linspace(own.z_low[0], own.z_high[0], settings.first_grid), settings.first_runs)
        theta = np.column_stack([rest.sample(rng, len(z)), own.from_z(z)])
        fitted = [by_name[n] for n in names]
        stats = predictive(base, rest + own, design, fitted, theta, rng, executor, carried)
        fits.append(synthetic_fit(own, z, stats, fitted, tuple(names), settings.first_fine))
    return tuple(fits)


def with_first(prior: Prior, joint: Prior, theta: np.ndarray, fits: tuple[FirstFit, ...],
               rng: np.random.Generator) -> np.ndarray:
    """The joint ABC's particles (columns: ``joint.names``) with each first-stage parameter drawn from
    its fit, independently per particle: columns in ``prior.names``' order."""
    columns = dict(zip(joint.names, theta.T))
    columns.update({f.name: f.sample(rng, len(theta)) for f in fits})
    return np.column_stack([columns[n] for n in prior.names])


class InSdUnits(pyabc.sumstat.IdentitySumstat):
    """The distance's statistics in units of each target's ``sd``: the cap on the adaptive scale
    weights' ratio then compares like with like. In raw units it capped every share (a few hundredths
    wide) at 100 times the weight of the report count (tens), so fear, signalling and feedback
    weighed a third to a half of what their spread asked (docs/calibration.md: The sampler).
    Targets without an ``sd`` (the chat fit's statistics) stay in their own units."""

    def __init__(self, targets):
        super().__init__()
        self.sd_of = {t["name"]: float(t["sd"]) for t in targets}

    def initialize(self, t, get_sample, x_0, total_sims):
        super().initialize(t=t, get_sample=get_sample, x_0=x_0, total_sims=total_sims)
        self.sd = np.array([self.sd_of[k] for k in self.x_keys])   # pyabc's order of the statistics

    def __call__(self, data) -> np.ndarray:
        return super().__call__(data) / self.sd


class NoiseKernel(StochasticKernel):
    """Stochastic-acceptor kernel: the observed value of each target is a draw around the simulated
    one: Poisson for small counts (``noise: poisson``), normal with the target's ``sd`` otherwise.
    Returns the summed log density (Wilkinson 2013: ABC as exact inference under a noise model)."""

    def __init__(self, targets: list[dict]):
        super().__init__(ret_scale=SCALE_LOG, keys=[t["name"] for t in targets])
        self.poisson = np.array([t.get("noise", "normal") == "poisson" for t in targets])
        self.sd = np.array([float(t["sd"]) for t in targets])

    def initialize(self, t, get_sample, x_0, total_sims):
        super().initialize(t=t, get_sample=get_sample, x_0=x_0, total_sims=total_sims)
        if self.pdf_max is None:
            self.pdf_max = self(x_0, x_0)

    def __call__(self, x, x_0, t=None, par=None) -> float:  # noqa: ARG002 - pyabc's signature
        sim_, obs = (np.array([d[k] for k in self.keys], dtype=float) for d in (x, x_0))
        normal = st.norm.logpdf(obs, sim_, self.sd)
        poisson = st.poisson.logpmf(np.round(obs), np.maximum(sim_, POISSON_FLOOR))
        return float(np.sum(np.where(self.poisson, poisson, normal)))


# -- settings -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    population: int = 500
    max_studies: int = 8_500           # at most, in the main ABC-SMC (the last generation sized to fit)
    max_generations: int = 40
    min_acceptance: float = 0.01       # stop when acceptance falls below (tolerance at the noise)
    acceptor: str = "distance"         # distance: p-norm | stochastic: NoiseKernel
    scales: str = "adaptive"           # the distance's: adaptive (rmsd each generation) | sd (the targets' own)
    transition: str = "independent"    # proposal kernel, one of TRANSITIONS (docs/calibration.md: Weights)
    defensive: float = 0.0             # share of proposals from the prior (DefensiveTransition; 0: none)
    predictive_runs: int = 100         # studies from the posterior (posterior predictive check)
    point_candidates: int = 16         # posterior points tried for the point preset (choose_point)
    point_trials: int = 10             # studies per candidate point
    point_steps: int = 9               # posterior quantiles tried per learnt parameter (refine_point)
    point_runs: int = 20               # fresh studies at the chosen point preset (its predictive check)
    first_grid: int = 25               # first stage: values of each parameter fitted on its own ...
    first_runs: int = 16               # ... studies at each (the other parameters from their priors)
    first_fine: int = 200              # ... cells of its posterior density
    holdout: str = "lastage"           # the case whose targets the hold-out calibration leaves out
    holdout_population: int = 200
    holdout_max_studies: int = 2_000
    months_scale: float = 1.0          # < 1 simulates shorter windows (quick mode only)
    seed: int = 20180601


# The six cases leave most parameters near their prior, where the kernel alone lets a few particles
# carry a generation (docs/calibration.md: Weights), hence 20% of proposals from the prior. An
# informative fit (a group's own chat) does without. The distance is in each target's own sd: the
# adaptive scales down-weight the targets the prior misses most, fear among them (docs/calibration.md:
# Distance).
DEFAULT = Settings(defensive=0.2, scales="sd")
QUICK = replace(DEFAULT, population=10, max_studies=60, max_generations=3, predictive_runs=6, point_runs=2,
                point_candidates=3, point_trials=2, point_steps=2, first_grid=5, first_runs=3, first_fine=40,
                holdout_population=6, holdout_max_studies=12, months_scale=0.2)


def scaled(settings: Settings, factor: float) -> Settings:
    """Every population and study count times ``factor`` (at least 4 each)."""
    counts = ("population", "max_studies", "predictive_runs", "point_runs", "holdout_population",
              "holdout_max_studies")
    return replace(settings, **{c: max(4, round(getattr(settings, c) * factor)) for c in counts})


def _points(x: pyabc.Parameter | pd.Series | pd.DataFrame, columns) -> tuple[np.ndarray, bool]:
    """A transition's ``pdf`` argument as rows in ``columns`` order, and whether it was one point."""
    if isinstance(x, pd.DataFrame):
        return x[list(columns)].to_numpy(dtype=float), False
    return np.array([[x[k] for k in columns]], dtype=float), True


class IndependentNormalTransition(Transition):
    """Each parameter perturbed on its own: the proposal density is the product of one-dimensional
    weighted Gaussian kernel density estimates (Silverman bandwidth from the effective sample size).
    The same density as ``pyabc.AggregatedTransition`` of one-dimensional
    ``MultivariateNormalTransition``s (tested), vectorised: that one costs about 30 ms a proposal in
    15 dimensions, this one well under 1 ms. In 15 dimensions a joint kernel estimate from a few hundred
    particles is a sum of nearly separate bumps, so its density at its own draws varies by orders of
    magnitude and so do the importance weights; one dimension at a time it is smooth
    (docs/calibration.md: Weights)."""

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
        self._X_arr = X.to_numpy(dtype=float)
        sd = np.sqrt(np.diag(smart_cov(self._X_arr, w)))
        self.bandwidth = sd * silverman_rule_of_thumb(1 / np.sum(w ** 2), 1)

    def rvs_single(self) -> pyabc.Parameter:
        n, d = self._X_arr.shape
        rows = np.random.choice(n, size=d, p=self.w)   # every parameter from its own particle
        values = self._X_arr[rows, np.arange(d)] + self.bandwidth * np.random.normal(size=d)
        return pyabc.Parameter(dict(zip(self.X.columns, values)))

    def pdf(self, x: pyabc.Parameter | pd.Series | pd.DataFrame) -> float | np.ndarray:
        arr, single = _points(x, self.X.columns)
        kernels = st.norm.pdf(arr[:, None, :], self._X_arr[None], self.bandwidth)   # (m, n, d)
        density = np.prod(np.einsum("n,mnd->md", self.w, kernels), axis=1)
        return float(density[0]) if single else density


# The proposal kernels compared in docs/calibration.md (*Weights*): pyabc's global multivariate normal
# (Silverman bandwidth, optionally scaled), its local one (covariance of the k nearest particles), and
# one kernel per parameter (IndependentNormalTransition), the default.
TRANSITIONS = {
    "mvn": pyabc.MultivariateNormalTransition,
    "mvn-half": lambda: pyabc.MultivariateNormalTransition(scaling=0.5),
    "mvn-double": lambda: pyabc.MultivariateNormalTransition(scaling=2.0),
    "local": pyabc.LocalTransition,
    "independent": IndependentNormalTransition,
}


def transition(name: str) -> Transition:
    if name not in TRANSITIONS:
        raise ValueError(f"transition {name!r}: choose one of {', '.join(TRANSITIONS)}")
    return TRANSITIONS[name]()


class DefensiveTransition(Transition):
    """A share of every generation's proposals drawn from the (uniform) prior, the rest from
    ``kernel``: proposal density ``(1 - share) * kernel + share * prior``. The importance weight
    prior / proposal is then at most 1 / share, so no particle can take over a generation
    (defensive importance sampling, Hesterberg 1995). Where the data hardly narrow the prior, as
    here, the kernel estimate is too thin near the prior's bounds; those draws weighed most."""

    def __init__(self, kernel: Transition, bounds: dict[str, tuple[float, float]], share: float):
        if not 0 < share < 1:
            raise ValueError(f"defensive share {share}: must lie strictly between 0 and 1")
        self.kernel, self.bounds, self.share = kernel, bounds, share

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
        self.kernel.fit(X, w)
        self.low, self.high = np.array([self.bounds[c] for c in X.columns], dtype=float).T   # pyabc's order
        self.prior_density = float(np.prod(1 / (self.high - self.low)))

    def rvs_single(self) -> pyabc.Parameter:
        if np.random.uniform() < self.share:
            return pyabc.Parameter(dict(zip(self.X.columns, np.random.uniform(self.low, self.high))))
        return self.kernel.rvs_single()

    def pdf(self, x: pyabc.Parameter | pd.Series | pd.DataFrame) -> float | np.ndarray:
        arr, single = _points(x, self.X.columns)
        inside = np.all((arr >= self.low) & (arr <= self.high), axis=1)
        density = (1 - self.share) * np.asarray(self.kernel.pdf(x), dtype=float) + self.share * self.prior_density * inside
        return float(np.ravel(density)[0]) if single else density


def abc_method(targets, settings: Settings, db: Path) -> dict:
    """pyabc.ABCSMC's distance (and acceptor and tolerance, for the stochastic acceptor)."""
    if settings.acceptor == "stochastic":
        method = dict(distance_function=NoiseKernel(list(targets)),
                      acceptor=pyabc.StochasticAcceptor(), eps=pyabc.Temperature())
    elif settings.acceptor == "distance" and settings.scales == "sd":
        if not all("sd" in t for t in targets):
            raise ValueError("scales='sd' needs an sd for every target: "
                             + ", ".join(t["name"] for t in targets if "sd" not in t) + " have none")
        # each target weighs by its own declared uncertainty, the same in every generation
        method = dict(distance_function=pyabc.PNormDistance(p=2, sumstat=InSdUnits(targets)))
    elif settings.acceptor == "distance" and settings.scales == "adaptive":
        method = dict(distance_function=pyabc.AdaptivePNormDistance(
            p=2, scale_function=pyabc.distance.rmsd, max_scale_weight_ratio=100,
            sumstat=InSdUnits(targets) if all("sd" in t for t in targets) else None,
            scale_log_file=str(db.with_suffix(".scales.json"))))   # not in the db
    else:
        raise ValueError(f"acceptor {settings.acceptor!r} with scales {settings.scales!r}: choose distance "
                         "(scales adaptive or sd) or stochastic")
    return method


# -- the ABC-SMC run -----------------------------------------------------------------------------------
def abc_smc(model: StudyModel, db: Path, settings: Settings, population: int, max_studies: int,
            workers: int, label: str = "calibration") -> pyabc.History:
    """Run (or continue, if ``db`` holds a run to the same targets) ABC-SMC; return its history."""
    observed = {t["name"]: float(t["value"]) for t in model.targets}
    sampler = (pyabc.SingleCoreSampler(check_max_eval=True) if workers <= 1   # the budget holds inside
               else pyabc.MulticoreEvalParallelSampler(n_procs=workers, check_max_eval=True))   # a generation
    method = abc_method(model.targets, settings, db)
    proposal = transition(settings.transition)
    if settings.defensive:
        bounds = dict(zip(model.prior.names, zip(model.prior.z_low, model.prior.z_high)))
        proposal = DefensiveTransition(proposal, bounds, settings.defensive)
    smc = pyabc.ABCSMC(model, model.prior.distribution(), population_size=population, sampler=sampler,
                       transitions=proposal, **method)
    url = f"sqlite:///{db}"
    done_generations = 0
    if db.exists() and _no_generation_finished(db):   # killed while starting: nothing to keep
        print(f"  [{label}] {db} holds no finished generation; starting it again", flush=True)
        db.unlink()
    if db.exists():
        history = pyabc.History(url, _id=1)
        stored = history.observed_sum_stat()
        if set(stored) != set(observed) or any(abs(stored[k] - observed[k]) > 1e-12 for k in observed):
            raise SystemExit(f"{db} holds a calibration to other targets; use a new --run-dir")
        done_generations = history.max_t + 1
        if budget_spent(history, population, max_studies) or done_generations >= settings.max_generations:
            print(f"  [{label}] {db} is complete ({done_generations} generations, "
                  f"{history.total_nr_simulations} studies)", flush=True)
            return history
        print(f"  [{label}] continuing {db}: {done_generations} generations, "
              f"{history.total_nr_simulations} studies done", flush=True)
        smc.load(url, 1)
    else:
        np.random.seed(settings.seed)   # reproducible with one worker (workers reseed themselves)
        smc.new(url, observed)
    return run_within_budget(smc, population, max_studies, settings.min_acceptance,
                             settings.max_generations - done_generations)


# -- the study budget ----------------------------------------------------------------------------------
# pyabc checks its simulation budget only after a generation, and generations grow by about half each
# (the tolerance shrinks, acceptance falls): a budget of 8,000 ended at 8,029 in one run and at 11,157
# in another (docs/calibration.md: Budget). So each generation's cost is predicted from the last two,
# the one that would overrun is run with as many particles as the studies left allow, and a generation
# that costs more than predicted is stopped at the budget (pyabc's max_eval). Its accepted particles are
# kept as a smaller last generation if they are at least MIN_LAST_SHARE of the population; otherwise the
# generation is not kept and the run ends with the one before.
FIRST_COST = 2.0          # studies per particle of generation 0: its tolerance is the calibration sample's median
MIN_LAST_SHARE = 0.25     # a last generation smaller than this share of the population is not run


def predicted_cost(costs: list[float]) -> float:
    """Studies per accepted particle of the next generation, from those of the generations so far."""
    if not costs:
        return FIRST_COST
    growth = costs[-1] / costs[-2] if len(costs) >= 2 else FIRST_COST
    return costs[-1] * max(growth, 1.0)


def next_population(costs: list[float], spent: int, population: int, max_studies: int) -> int:
    """Particles of the next generation within the budget: the full population, fewer if the studies
    left do not pay for it, 0 (stop) when they pay for less than MIN_LAST_SHARE of it."""
    affordable = int((max_studies - spent) / predicted_cost(costs))
    if affordable >= population:
        return population
    return affordable if affordable >= MIN_LAST_SHARE * population else 0


def _aborted_file(history: pyabc.History) -> Path:
    """Where a generation stopped at the budget is recorded (pyabc's history keeps only finished ones)."""
    return Path(history.db.split("///", 1)[-1] + ".aborted.json")


def aborted_studies(history: pyabc.History) -> int:
    """Studies of a generation stopped at the budget: spent, but not in the history."""
    f = _aborted_file(history)
    return int(json.loads(f.read_text())["studies"]) if f.exists() else 0


def next_size(history: pyabc.History, population: int, max_studies: int) -> int:
    """Particles of the history's next generation (generation 0 always whole; none after an abort)."""
    if history.max_t < 0:
        return population
    if aborted_studies(history):
        return 0
    return next_population(_costs(history), history.total_nr_simulations, population, max_studies)


def budget_spent(history: pyabc.History, population: int, max_studies: int) -> bool:
    """Whether the studies left pay for no further generation."""
    return next_size(history, population, max_studies) == 0


def _costs(history: pyabc.History) -> list[float]:
    pops = history.get_all_populations()
    pops = pops[pops.t >= 0]
    return list(pops.samples / pops.particles)


def keep_stopped_generations(sampler, population: int) -> None:
    """Make ``sampler`` return a generation stopped at the budget (pyabc's ``max_eval``) as a smaller
    population when it accepted at least MIN_LAST_SHARE of ``population``: its particles are those
    accepted among the first ``max_eval`` proposals (pyabc's samplers keep them in proposal order), so
    they are a sample of that generation's ABC posterior like a whole one, only smaller. Before, such a
    generation was thrown away: session 12's first run lost 2,289 of its 8,500 studies that way."""
    inner = sampler.sample_until_n_accepted

    def sample_until_n_accepted(n, simulate_one, t, **kwargs):
        sample = inner(n, simulate_one, t, **kwargs)
        if not sample.ok and t > 0 and sample.n_accepted >= max(MIN_LAST_SHARE * population, 2):
            print(f"  generation {t} reached the study budget with {sample.n_accepted} of {n} particles: "
                  "kept as a smaller last generation", flush=True)
            sample.ok = True
        return sample

    sampler.sample_until_n_accepted = sample_until_n_accepted


def run_within_budget(smc: pyabc.ABCSMC, population: int, max_studies: int, min_acceptance: float,
                      generations: int) -> pyabc.History:
    """pyabc's generation loop (ABCSMC.run) with the study budget kept before each generation."""
    history = smc.history
    keep_stopped_generations(smc.sampler, population)
    try:
        size = next_size(history, population, max_studies)
        if size == 0 or generations <= 0:
            return history
        t = smc.initialize_components_before_run(
            minimum_epsilon=None, max_nr_populations=generations, min_acceptance_rate=min_acceptance,
            max_total_nr_simulations=max_studies, max_walltime=None, min_eps_diff=0.0)
        while size:
            smc.population_size.nr_particles = size
            left = max_studies - history.total_nr_simulations
            if history.max_t >= 0:   # generation 0 always runs whole: a calibration has a posterior
                smc.min_acceptance_rate = max(min_acceptance, size / max(left, 1))   # max_eval = size / this
            result = smc.run_generation(t=t)
            if not result["successful"]:
                store.write_json(_aborted_file(history), {"generation": t, "studies": smc.sampler.nr_evaluations_})
                print(f"  generation {t} stopped at the study budget after {smc.sampler.nr_evaluations_} "
                      f"studies (not kept); the calibration ends with generation {t - 1}", flush=True)
                break
            if smc.check_terminate(t=t, acceptance_rate=result["acceptance_rate"]):
                break
            t += 1
            size = next_size(history, population, max_studies)
        return history
    finally:   # as ABCSMC.run does
        history.done(end_time=dt.datetime.now())
        smc.sampler.stop()


def _no_generation_finished(db: Path) -> bool:
    """Whether a history database holds no finished generation (t >= 0), read without writing."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as con:
        try:
            return con.execute("SELECT COUNT(*) FROM populations WHERE t >= 0").fetchone()[0] == 0
        except sqlite3.DatabaseError as error:
            if "no such table" in str(error):
                return True
            raise SystemExit(f"{db} is not a readable calibration history ({error}); use a new --run-dir")


def final_sample(history: pyabc.History, prior: Prior) -> tuple[np.ndarray, np.ndarray]:
    """The last generation: particles in natural units (rows) and normalised weights."""
    df, w = history.get_distribution(m=0, t=history.max_t)
    theta = prior.from_z(df[list(prior.names)].to_numpy(dtype=float))
    return theta, np.asarray(w, dtype=float) / np.sum(w)


def generations_table(history: pyabc.History) -> pd.DataFrame:
    pops = history.get_all_populations()
    pops = pops[pops.t >= 0].rename(columns={"samples": "studies"})
    ess = [pyabc.weighted_statistics.effective_sample_size(history.get_distribution(m=0, t=int(t))[1])
           for t in pops.t]
    return pops[["t", "epsilon", "studies", "particles", "wall_time"]].assign(
        acceptance=lambda d: d.particles / d.studies, ess=ess,
        ess_share=lambda d: d.ess / d.particles).reset_index(drop=True)


def degenerate_generations(gens: pd.DataFrame) -> pd.DataFrame:
    """Generations whose weights concentrate on a few particles (ESS below LOW_ESS of the population)."""
    return gens[gens.ess_share < LOW_ESS]


# -- summaries -----------------------------------------------------------------------------------------
def weighted_quantile(x: np.ndarray, w: np.ndarray, qs) -> np.ndarray:
    order = np.argsort(x)
    cw = np.cumsum(w[order])
    cw = (cw - 0.5 * w[order]) / cw[-1]
    return np.interp(qs, cw, x[order])


def posterior_table(prior: Prior, theta: np.ndarray, w: np.ndarray) -> pd.DataFrame:
    """Per parameter: mean, median, 95% interval and its width relative to the prior's (z-space)."""
    q = np.column_stack([weighted_quantile(theta[:, j], w, [0.025, 0.5, 0.975]) for j in range(theta.shape[1])])
    zq = prior.to_z(q)
    ratio = (zq[2] - zq[0]) / (0.95 * (prior.z_high - prior.z_low))
    verdict = np.where(ratio < IDENTIFIED, "identified",
                       np.where(ratio < WEAK, "weakly identified", "prior-bound (not identified)"))
    return pd.DataFrame({
        "parameter": prior.names,
        "kind": ["study" if n in STUDY_HYPERPARAMETERS else "model" for n in prior.names],
        "prior": [prior.label(j) for j in range(len(prior.names))],
        "mean": w @ theta, "median": q[1], "low95": q[0], "high95": q[2],
        "width_ratio": ratio, "verdict": verdict})


def correlations(prior: Prior, theta: np.ndarray, w: np.ndarray, threshold: float = 0.3) -> pd.DataFrame:
    """Weighted posterior correlations (z-space) with |r| >= threshold: the combinations the data fix."""
    z = prior.to_z(theta)
    r = np.atleast_2d(np.cov(z, rowvar=False, aweights=w))
    sd = np.sqrt(np.diag(r))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = r / np.outer(sd, sd)
    rows = [{"a": prior.names[i], "b": prior.names[j], "r": float(r[i, j])}
            for i in range(len(sd)) for j in range(i + 1, len(sd)) if abs(r[i, j]) >= threshold]
    return pd.DataFrame(rows, columns=["a", "b", "r"]).sort_values("r", key=abs, ascending=False,
                                                                  ignore_index=True)


def predictive_table(targets: list[dict], stats: np.ndarray, fitted: set[str]) -> pd.DataFrame:
    rows = []
    for i, t in enumerate(targets):
        x = stats[:, i][~np.isnan(stats[:, i])]
        lo, med, hi = np.quantile(x, [0.05, 0.5, 0.95]) if len(x) else (np.nan,) * 3
        rows.append({"target": t["name"], "case": t["case"],
                     "use": "calibrate" if t["name"] in fitted else
                     ("held out" if t["use"] == "calibrate" else "check"),
                     "target_value": _target_text(t), "sim_median": med, "sim_q5": lo, "sim_q95": hi,
                     "met": _met(t, lo, med, hi)})
    return pd.DataFrame(rows)


REACH_FLOOR = 0.025   # outside the prior predictive's central 95%


def prior_reach(t: dict, prior_stats: np.ndarray) -> float:
    """Share of prior studies at or beyond a point target on its side of the prior median (0.5 at the
    median; nan for a range target or no measurable study). Below REACH_FLOOR the target is out of the
    model's reach across the prior: in a distance it raises every particle's miss alike and informs
    nothing (docs/calibration.md: Reach)."""
    x = prior_stats[~np.isnan(prior_stats)]
    if "range" in t or not len(x):
        return float("nan")
    v = float(t["value"])
    return float(min(np.mean(x >= v), np.mean(x <= v)))


def _target_text(t: dict) -> str:
    if "range" in t:
        lo, hi = t["range"]
        return f"[{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]"
    return f"{t['value']:g}"


def _met(t: dict, lo: float, med: float, hi: float) -> bool:
    """Point target: inside the central 90% of simulated values. Range: the simulated median inside."""
    if np.isnan(med):
        return False
    if "range" in t:
        a, b = t["range"]
        return bool((a is None or med >= a) and (b is None or med <= b))
    return bool(lo <= t["value"] <= hi)


def _resample(rng: np.random.Generator, theta: np.ndarray, w: np.ndarray, size: int) -> np.ndarray:
    return theta[rng.choice(len(w), size=size, p=w)]


def point_candidates(theta: np.ndarray, w: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """Points the preset may be: the posterior mean, the weighted median, then distinct particles
    drawn by weight (as many as there are, up to ``size`` in all)."""
    median = [weighted_quantile(theta[:, j], w, [0.5])[0] for j in range(theta.shape[1])]
    distinct = np.flatnonzero(w > 0)
    picks = rng.choice(distinct, size=min(max(size - 2, 0), len(distinct)), replace=False,
                       p=w[distinct] / w[distinct].sum())
    return np.vstack([w @ theta, median, theta[picks]])[:max(size, 1)]


def mean_sq_distance(targets: list[dict], stats: np.ndarray) -> np.ndarray:
    """The ABC's distance, squared, in each target's sd, averaged over the studies (last axis but one);
    an unmeasurable value counts as a NAN_MISS-sd miss, as in the calibration."""
    value = np.array([t["value"] for t in targets], dtype=float)
    sd = np.array([t["sd"] for t in targets], dtype=float)
    miss = np.where(np.isnan(stats), NAN_MISS, (stats - value) / sd)
    return (miss ** 2).sum(axis=-1).mean(axis=-1)


def choose_point(base: sim.Params, prior: Prior, design: Design, targets: list[dict], candidates: np.ndarray,
                 trials: int, rng: np.random.Generator, executor) -> tuple[int, np.ndarray]:
    """The candidate whose studies, with the carried parameters at their defaults (as the preset runs),
    come closest to the targets on average: (its index, every candidate's mean squared distance).
    Every candidate runs on the same ``trials`` seeds (common random numbers), so they differ by their
    parameters, not by their dice. The posterior mean alone is a poor point when the posterior is
    wide and the model nonlinear (docs/calibration.md: The point preset)."""
    seeds = np.tile(rng.integers(0, 2**31 - 1, trials), len(candidates))
    stats = predictive(base, prior, design, targets, np.repeat(candidates, trials, axis=0), rng, executor,
                       seeds=seeds)
    fit = mean_sq_distance(targets, stats.reshape(len(candidates), trials, len(targets)))
    return int(np.argmin(fit)), fit


def refine_point(base: sim.Params, prior: Prior, design: Design, targets: list[dict], point: np.ndarray,
                 theta: np.ndarray, w: np.ndarray, learnt: list[int], steps: int, trials: int,
                 rng: np.random.Generator, executor) -> tuple[np.ndarray, dict[int, list[float]]]:
    """``point`` moved, one learnt parameter at a time (those the posterior narrows), to whichever of
    ``steps`` posterior quantiles between its 5% and 95% (or where it is) fits the targets best, the
    others held: the best point inside the posterior's support along the directions the data inform.
    Returns the point and, per learnt parameter, [from, to, rms distance before, after] (one set of
    seeds per parameter)."""
    moves = {}
    for j in learnt:
        grid = np.tile(point, (steps + 1, 1))
        grid[1:, j] = weighted_quantile(theta[:, j], w, np.linspace(0.05, 0.95, steps))
        best, fit = choose_point(base, prior, design, targets, grid, trials, rng, executor)
        moves[j] = [float(point[j]), float(grid[best, j]), float(np.sqrt(fit[0])), float(np.sqrt(fit[best]))]
        point = grid[best]
    return point, moves


# -- outputs -------------------------------------------------------------------------------------------
def model_version() -> str:
    """The commit the model was calibrated at (and whether sim/ had uncommitted changes)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "sim"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + (" with uncommitted changes in sim/" if dirty else "")


def _round(x: float) -> float:
    return float(f"{x:.4g}")


def header(summary: dict, table: pd.DataFrame, carried: Prior, what: str) -> list[str]:
    """The provenance comment shared by the point preset and the posterior sample."""
    s = summary["settings"]
    lines = [
        f"# {what}: written by `python -m experiments.calibrate` on {dt.date.today().isoformat()}; "
        "do not edit by hand.",
        f"# Method: ABC-SMC (pyabc {pyabc.__version__}, acceptor {s['acceptor']}, scales {s['scales']}) on the simulated "
        "six-group study (experiments/study.py):",
        f"#   population {summary['population']}, {summary['abc_studies']} studies, {summary['n_generations']} "
        f"generations ({summary['stop_reason']}), main ABC {summary['abc_minutes']:.1f} min.",
        f"# Model: git {summary['model']}. Re-run the calibration when the model changes.",
        f"# Targets (conf/targets/targets.yaml): {', '.join(summary['fitted'])}.",
    ]
    if summary["inactive"]:
        lines.append("# NOT used (outcome missing in this model): "
                     + "; ".join(f"{k} {v}" for k, v in summary["inactive"].items()) + ".")
    lines += [
        "# Calibrated (posterior mean [95% interval] (prior) - identified | weakly identified | prior-bound):",
        *[f"#   {r.parameter}: {r.mean:.4g} [{r.low95:.4g}, {r.high95:.4g}] ({r.prior}) - {r.verdict}"
          + (" (study hyperparameter, not a model parameter)" if r.kind == "study" else "")
          for r in table.itertuples()],
        *[f"# Fitted first, on its own (synthetic likelihood on {f['grid']} values x {f['runs']} studies): "
          f"{f['parameter']} to {', '.join(f['targets'])}; the joint ABC draws it from that fit"
          for f in summary.get("first", [])],
        "# Carried forward, not calibrated (the six cases cannot identify them): drawn from their prior in",
        "# every simulated study of the calibration (marginalised) and in every row of the posterior",
        "# sample, left at the documented default (sim/params.py) in the point preset:",
        *[f"#   {n}: {carried.label(j)}, default {getattr(sim.Params(), n):g} (conf/targets/priors.yaml: carried)"
          for j, n in enumerate(carried.names)],
        "# Every other parameter: its documented default in sim/params.py. docs/calibration.md explains.",
    ]
    return lines


def write_preset(path: Path, table: pd.DataFrame, point: np.ndarray, summary: dict,
                 carried: Prior) -> dict[str, float]:
    """The point calibration: a mapping parameter -> its value at ``point`` (choose_point), with a
    provenance header."""
    values = {r.parameter: _round(x) for r, x in zip(table.itertuples(), point) if r.kind == "model"}
    sim.Params().replace(**values)  # validates
    lines = header(summary, table, carried, "Point calibration (the posterior point that fits best)")
    lines.insert(-1, f"# The point: {point_text(summary)}.")
    store.atomic_write(path, lambda p: p.write_text("\n".join(lines + [f"{k}: {v}" for k, v in values.items()])
                                                    + "\n"))
    return values


def plot_predictive(path: Path, targets: list[dict], pred: np.ndarray, table: pd.DataFrame,
                    prior_pred: np.ndarray) -> None:
    k = len(targets)
    cols = 4
    fig, axes = plt.subplots(math.ceil(k / cols), cols, figsize=(4 * cols, 2.6 * math.ceil(k / cols)),
                             squeeze=False)
    for ax, (i, t) in zip(axes.flat, enumerate(targets)):
        p = prior_pred[:, i][~np.isnan(prior_pred[:, i])]
        x = pred[:, i][~np.isnan(pred[:, i])]
        bins = np.histogram_bin_edges(np.concatenate([p, x]) if len(p) + len(x) else [0, 1], bins=25)
        ax.hist(p, bins=bins, color="0.85", label="prior predictive", density=True)
        ax.hist(x, bins=bins, color="tab:blue", alpha=0.7, label="posterior predictive", density=True)
        if "range" in t:
            a, b = t["range"]
            ax.axvspan(a if a is not None else bins[0], b if b is not None else bins[-1],
                       color="tab:green", alpha=0.2, label="target range")
        if "value" in t:
            ax.axvline(t["value"], color="tab:red", lw=2, label="target")
        met = table.loc[table.target == t["name"], "met"].iloc[0]
        ax.set_title(f"{t['name']} ({'met' if met else 'NOT met'})", fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[k:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_posterior(path: Path, prior: Prior, theta: np.ndarray, w: np.ndarray) -> None:
    d = len(prior.names)
    cols = 4
    fig, axes = plt.subplots(math.ceil(d / cols), cols, figsize=(4 * cols, 2.4 * math.ceil(d / cols)),
                             squeeze=False)
    for j, ax in enumerate(axes.flat[:d]):
        bins = (np.geomspace if prior.log[j] else np.linspace)(prior.low[j], prior.high[j], 21)
        if prior.log[j]:
            ax.set_xscale("log")
        ax.hist(theta[:, j], bins=bins, weights=w, color="tab:blue", alpha=0.8)
        ax.axhline(1 / 20, color="0.5", ls="--", lw=1)   # the prior's mass per bin
        ax.set_title(prior.names[j], fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[d:]:
        ax.axis("off")
    fig.suptitle("Posterior (bars) against the prior (dashed: uniform mass per bin)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_first(path: Path, fits: tuple[FirstFit, ...], targets: list[dict]) -> None:
    """Per first-stage parameter: each target's simulated mean +- sd against the target, and the posterior."""
    by_name = {t["name"]: t for t in targets}
    fig, axes = plt.subplots(len(fits), 2, figsize=(9, 2.8 * len(fits)), squeeze=False)
    for (left, right), f in zip(axes, fits):
        x = f.table["value"]
        for i, name in enumerate(f.targets):
            color = f"C{i}"
            mean, sd = f.table[f"{name}_mean"], f.table[f"{name}_sd"]
            left.plot(x, mean, color=color, label=name)
            left.fill_between(x, mean - sd, mean + sd, color=color, alpha=0.2)
            left.axhspan(by_name[name]["value"] - by_name[name]["sd"], by_name[name]["value"] + by_name[name]["sd"],
                         color=color, alpha=0.15, hatch="//", fill=False)
            left.axhline(by_name[name]["value"], color=color, ls="--", lw=1)
        left.set_xlabel(f.name, fontsize=8)
        left.legend(fontsize=7)
        left.set_title("simulated mean +- sd (band), target +- sd (dashed, hatched)", fontsize=8)
        right.plot(x, f.table["mass"] * len(x), color="tab:blue")
        right.axhline(1, color="0.5", ls="--", lw=1)
        right.set_xlabel(f.name, fontsize=8)
        right.set_title("posterior density against the prior (dashed)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_holdout(path: Path, names: list[str], targets: list[dict], held: np.ndarray,
                 prior_pred: np.ndarray, full_pred: np.ndarray, case: str) -> None:
    idx = [i for i, t in enumerate(targets) if t["name"] in names]
    fig, axes = plt.subplots(1, len(idx), figsize=(5 * len(idx), 3.2), squeeze=False)
    for ax, i in zip(axes.flat, idx):
        parts = [a[:, i][~np.isnan(a[:, i])] for a in (prior_pred, held, full_pred)]
        bins = np.histogram_bin_edges(np.concatenate(parts), bins=20)
        ax.hist(parts[0], bins=bins, density=True, color="0.85", label="prior predictive")
        ax.hist(parts[1], bins=bins, density=True, alpha=0.7, label=f"calibrated without {case}")
        ax.hist(parts[2], bins=bins, density=True, histtype="step", lw=2, label="calibrated on all targets")
        ax.axvline(targets[i]["value"], color="tab:red", lw=2, label="observed")
        ax.set_title(targets[i]["name"], fontsize=10)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"Hold-out: calibrated without the {case} targets, predicting them", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _cpu_minutes() -> float:
    t = os.times()
    return (t.user + t.system + t.children_user + t.children_system) / 60


# -- the whole calibration -----------------------------------------------------------------------------
def fitted_targets(spec: dict, active_only: bool) -> tuple[list[dict], list[dict]]:
    """(targets measured, calibration targets in the distance). Without ``active_only`` a calibration
    target whose outcome the model lacks is an error naming it."""
    validate_targets(spec)
    measured = active_targets(spec)
    calib = [t for t in spec["targets"] if t["use"] == "calibrate"]
    if not active_only:
        require_measurable(calib)
    return measured, [t for t in calib if t in measured]


def run(settings: Settings, run_dir: Path, workers: int, active_only: bool = False,
        spec: dict | None = None, prior: Prior | None = None, base: sim.Params | None = None,
        recovery: dict | None = None) -> dict:
    """The whole calibration in ``run_dir`` (continued if it has one); returns the summary."""
    start = time.time()
    spec = spec or load_yaml(TARGETS_FILE)
    measured, calib = fitted_targets(spec, active_only)
    inactive = inactive_targets(spec)
    if inactive:
        print("targets not used (outcome missing in this model): "
              + "; ".join(f"{k} {v}" for k, v in inactive.items()), flush=True)
    prior = prior or load_prior()
    carried = load_prior(section=("carried",)).without(prior.names)   # a given prior may calibrate them
    base = base or sim.Params()
    design = Design.from_targets(spec, settings.months_scale)
    fitted = {t["name"] for t in calib}
    held_calib = [t for t in calib if t["case"] != settings.holdout]
    if not any(t["case"] == settings.holdout for t in calib):
        raise ValueError(f"hold-out case {settings.holdout!r} has no calibration target")
    held_names = [t["name"] for t in measured if t["case"] == settings.holdout]   # its checks too
    run_dir.mkdir(parents=True, exist_ok=True)
    logging.getLogger("ABC").setLevel(logging.WARNING)
    rng = np.random.default_rng(settings.seed)
    print(f"calibrating {len(prior.names)} parameters to {len(calib)} targets -> {run_dir}", flush=True)

    with process_pool(workers) as executor:
        fits = fit_first(base, prior, carried, design, calib, first_spec(), settings, rng, executor)
    first_start = time.time()
    for f in fits:
        print(f"  [first stage] {f.name} from {', '.join(f.targets)}: median {f.quantiles([0.5])[0]:.4g}, "
              f"95% [{', '.join(f'{q:.4g}' for q in f.quantiles([0.025, 0.975]))}]", flush=True)
    joint = prior.without([f.name for f in fits])
    own = {n for f in fits for n in f.targets}   # fitted in the first stage: not in the joint distance
    history = abc_smc(StudyModel(base, joint, design, tuple(t for t in calib if t["name"] not in own), carried, fits),
                      run_dir / "history.db", settings, settings.population, settings.max_studies, workers)
    # a continued run's generations ran in earlier sessions too: their summed wall time counts then
    abc_minutes = max(time.time() - first_start, generations_table(history).wall_time.astype(float).sum()) / 60
    theta, w = final_sample(history, joint)
    theta = with_first(prior, joint, theta, fits, rng)
    post = posterior_table(prior, theta, w)
    held_hist = abc_smc(StudyModel(base, joint, design, tuple(t for t in held_calib if t["name"] not in own),
                                   carried, fits),
                        run_dir / "holdout.db", settings, settings.holdout_population, settings.holdout_max_studies,
                        workers, label="hold-out")
    held_theta, held_w = final_sample(held_hist, joint)
    held_theta = with_first(prior, joint, held_theta, fits, rng)
    with process_pool(workers) as executor:
        pred = predictive(base, prior, design, measured, _resample(rng, theta, w, settings.predictive_runs),
                          rng, executor, carried)
        candidates = point_candidates(theta, w, rng, settings.point_candidates)
        best, fit = choose_point(base, prior, design, calib, candidates, settings.point_trials, rng, executor)
        learnt = [j for j, r in enumerate(post.itertuples()) if r.width_ratio < WEAK]
        chosen, moves = refine_point(base, prior, design, calib, candidates[best], theta, w, learnt,
                                     settings.point_steps, settings.point_trials, rng, executor)
        point = predictive(base, prior, design, measured, np.tile(chosen, (settings.point_runs, 1)),
                           rng, executor)
        prior_pred = predictive(base, prior, design, measured, prior.sample(rng, settings.predictive_runs),
                                rng, executor, carried)
        held_pred = predictive(base, prior, design, measured,
                               _resample(rng, held_theta, held_w, settings.predictive_runs), rng, executor,
                               carried)
    ppc = predictive_table(measured, pred, fitted)
    at_point = predictive_table(measured, point, fitted)
    ppc["met_at_preset"] = at_point["met"].values
    ppc["preset_median"] = at_point["sim_median"].values
    ppc["prior_reach"] = [prior_reach(t, prior_pred[:, i]) for i, t in enumerate(measured)]
    holdout = predictive_table(measured, held_pred, {t["name"] for t in held_calib})
    holdout = holdout[holdout.target.isin(held_names)].assign(
        covered=lambda d: d.met, prior_q5=[np.nanquantile(prior_pred[:, i], 0.05) for i, t in
                                           enumerate(measured) if t["name"] in held_names],
        prior_q95=[np.nanquantile(prior_pred[:, i], 0.95) for i, t in enumerate(measured)
                   if t["name"] in held_names]).drop(columns="met")
    gens = generations_table(history)
    if not degenerate_generations(gens).empty:
        print(f"WARNING: {ess_warning(gens)[0]}", flush=True)
    summary = {
        "settings": asdict(settings), "model": model_version(), "run_dir": str(run_dir),
        "fitted": [t["name"] for t in calib], "inactive": inactive, "active_only": active_only,
        "abc_studies": int(history.total_nr_simulations + aborted_studies(history)),
        "n_generations": int(history.max_t + 1),
        "stop_reason": stop_reason(history, settings, settings.population, settings.max_studies),
        "holdout_studies": int(held_hist.total_nr_simulations + aborted_studies(held_hist)),
        "studies": int(history.total_nr_simulations + held_hist.total_nr_simulations
                       + aborted_studies(history) + aborted_studies(held_hist))
        + 3 * settings.predictive_runs + settings.point_runs
        + (len(candidates) + len(learnt) * (settings.point_steps + 1)) * settings.point_trials
        + len(fits) * settings.first_grid * settings.first_runs,
        "abc_minutes": abc_minutes, "cpu_minutes": _cpu_minutes(),
        "generations": gens.to_dict(orient="records"), "carried": list(carried.names),
        "population": int(gens.particles.iloc[0]),   # as run (a continued run keeps its first size)
    }
    summary["first_minutes"] = (first_start - start) / 60
    summary["elapsed_minutes"] = (time.time() - start) / 60
    # from the history's own wall times, so a continued run reports the rate of all its sessions
    summary["studies_per_second"] = float(gens.studies.sum() / max(gens.wall_time.astype(float).sum(), 1e-9))
    summary["point"] = {"chosen": ["the posterior mean", "the posterior median"][best] if best < 2
                        else "a posterior particle",
                        "candidates": len(candidates), "trials": settings.point_trials,
                        "distance": float(np.sqrt(fit[best])), "mean_distance": float(np.sqrt(fit[0])),
                        "median_distance": float(np.sqrt(fit[1])) if len(fit) > 1 else None,
                        "refined": {prior.names[j]: m for j, m in moves.items()}}
    summary["first"] = [{"parameter": f.name, "targets": list(f.targets), "studies": settings.first_grid * settings.first_runs,
                         "grid": settings.first_grid, "runs": settings.first_runs,
                         **dict(zip(("low95", "median", "high95"), map(float, f.quantiles([0.025, 0.5, 0.975]))))}
                        for f in fits]
    summary["values"] = write_preset(run_dir / "calibrated.yaml", post, chosen, summary, carried)
    posterior.write_sample(run_dir / "posterior.csv", prior, theta, w, carried, rng,
                           header(summary, post, carried, "Posterior sample (weighted particles)"))
    if fits:
        pd.concat([f.table.assign(parameter=f.name) for f in fits]).to_csv(run_dir / "first_stage.csv", index=False)
        plot_first(run_dir / "first_stage.png", fits, calib)
    post.to_csv(run_dir / "posterior_summary.csv", index=False)
    corr = correlations(prior, theta, w)
    corr.to_csv(run_dir / "posterior_correlations.csv", index=False)
    ppc.to_csv(run_dir / "predictive_check.csv", index=False)
    holdout.to_csv(run_dir / "holdout.csv", index=False)
    plot_predictive(run_dir / "predictive_check.png", measured, pred, ppc, prior_pred)
    plot_posterior(run_dir / "posterior.png", prior, theta, w)
    plot_holdout(run_dir / "holdout.png", held_names, measured, held_pred, prior_pred, pred, settings.holdout)
    store.write_json(run_dir / "summary.json", {**summary, "posterior": post.to_dict(orient="records"),
                                                "predictive": ppc.to_dict(orient="records"),
                                                "holdout": holdout.to_dict(orient="records")})
    (run_dir / "report.md").write_text(report(summary, post, corr, ppc, holdout, gens, held_names, recovery))
    print(f"done in {summary['elapsed_minutes']:.1f} min ({summary['abc_studies']} studies in the ABC, "
          f"{summary['studies_per_second']:.2f} studies/s): {run_dir / 'report.md'}", flush=True)
    return summary


def stop_reason(history: pyabc.History, settings: Settings, population: int, max_studies: int) -> str:
    gens = history.max_t + 1
    if aborted_studies(history):
        return (f"study budget {max_studies} reached: generation {gens} cost more than predicted and was "
                f"stopped at it ({aborted_studies(history)} studies, not kept)")
    if budget_spent(history, population, max_studies):
        return (f"study budget {max_studies} reached (the studies left would not pay for "
                f"{MIN_LAST_SHARE:.0%} of the next generation)")
    if gens >= settings.max_generations:
        return f"{settings.max_generations} generations reached"
    return f"acceptance fell below {settings.min_acceptance} (tolerance at the simulation noise)"


def adopt(run_dir: Path, preset: Path = ADOPTED_PRESET, sample: Path = posterior.SAMPLE_FILE,
          conf: Path = posterior.CONF_FILE) -> None:
    """Install a calibration: its point preset, its posterior sample and the Hydra option for it."""
    shutil.copyfile(run_dir / "calibrated.yaml", preset)
    shutil.copyfile(run_dir / "posterior.csv", sample)
    posterior.write_conf(sample, conf)   # validates the sample
    print(f"adopted {run_dir}: point preset -> {preset}, posterior sample -> {sample}", flush=True)


# -- the report ----------------------------------------------------------------------------------------
def _md(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    fmt = [[f"{v:.3g}" if isinstance(v, float) else str(v) for v in row] for row in df.itertuples(index=False)]
    return "\n".join(["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)] +
                     ["| " + " | ".join(r) + " |" for r in fmt])


def _reach_lines(ppc: pd.DataFrame, runs: int) -> list[str]:
    """The targets no parameter set of the prior reaches (``prior_reach`` of ``runs`` prior studies)."""
    out = ppc[ppc.prior_reach < REACH_FLOOR]
    if out.empty:
        return [f"- Every point target lies inside the central 95% of {runs} studies from the prior."]
    text = ", ".join(f"{r.target} ({r.use}, {r.prior_reach:.0%})" for r in out.itertuples())
    return [f"- **Out of the model's reach across the prior** (prior_reach: share of {runs} prior studies "
            f"at or beyond the target; below {REACH_FLOOR:.1%}): {text}. In the distance such a target "
            "only raises every particle's miss; a calibration target among them should be a check "
            "until the model can reach it (docs/calibration.md: Reach)."]


def point_text(summary: dict) -> str:
    p = summary["point"]
    return (f"{p['chosen']}, the closest of {p['candidates']} posterior points to the targets in "
            f"{p['trials']} studies each: rms distance {p['distance']:.2f} sd, the posterior mean's "
            f"{p['mean_distance']:.2f}"
            + ("; then moved along each learnt parameter's posterior quantiles: "
               + ", ".join(f"{n} {a:.4g} -> {b:.4g} (rms distance {da:.2f} -> {db:.2f} sd on the same seeds)"
                           for n, (a, b, da, db) in p["refined"].items()) if p.get("refined") else ""))


def report(summary: dict, post: pd.DataFrame, corr: pd.DataFrame, ppc: pd.DataFrame,
           holdout: pd.DataFrame, gens: pd.DataFrame, held_names: list[str],
           recovery: dict | None) -> str:
    s = summary["settings"]
    quick = s["months_scale"] < 1
    ident = post[post.verdict == "identified"].parameter.tolist()
    weak = post[post.verdict == "weakly identified"].parameter.tolist()
    bound = post[post.verdict.str.startswith("prior")].parameter.tolist()
    fitted, checks = ppc[ppc.use == "calibrate"], ppc[ppc.use != "calibrate"]
    lines = [
        f"# Calibration report ({'QUICK smoke run: windows shortened, results not meaningful' if quick else 'default'})",
        "",
        f"Run time {summary['elapsed_minutes']:.1f} min in this process; main ABC {summary['abc_studies']} simulated "
        f"six-group studies in {summary['abc_minutes']:.1f} min ({summary['studies_per_second']:.2f} "
        f"studies/s), hold-out {summary['holdout_studies']} studies; {summary['cpu_minutes']:.1f} "
        f"CPU-minutes in this process and finished workers. Model: git {summary['model']}.",
        f"Method: ABC-SMC with pyabc {pyabc.__version__} (acceptor: {s['acceptor']}), history in "
        f"`{summary['run_dir']}/history.db` (a stopped run continues with `--run-dir`). Targets: "
        "conf/targets/targets.yaml; priors: conf/targets/priors.yaml; see docs/calibration.md.",
        "",
    ]
    if summary["inactive"]:
        lines += ["**Targets not used, because this model lacks their outcome** (they become active "
                  "when it exists):", "",
                  *[f"- `{k}`: {v}" for k, v in summary["inactive"].items()], ""]
    lines += [
        "## ABC generations", "", _md(gens), "", f"Stopped: {summary['stop_reason']}.", "",
        *ess_warning(gens),
        *first_lines(summary),
        "## Posterior: which parameters the data identify", "",
        f"Width ratio = posterior 95% interval / prior 95% interval (log scale for log-uniform priors): "
        f"below {IDENTIFIED} identified, below {WEAK} weakly identified, otherwise the data leave the "
        "parameter at its prior.", "",
        f"- **Identified by the targets:** {', '.join(ident) or 'none'}",
        f"- **Weakly identified:** {', '.join(weak) or 'none'}",
        f"- **Stay at their prior:** {', '.join(bound) or 'none'}",
        f"- **Carried forward, not calibrated** (drawn from their prior in every study of the calibration "
        f"and in every row of the posterior sample): "
        f"{', '.join(summary['carried']) or 'none'}",
        *([f"- **Caution:** the final generation's effective sample size is {gens.ess.iloc[-1]:.0f}; "
           "below 50 these verdicts are noise."] if gens.ess.iloc[-1] < 50 else []),
        "", _md(post), "", "![posterior](posterior.png)", "",
        "### Posterior correlations (z-space, |r| >= 0.3): combinations the data fix", "",
        _md(corr) if len(corr) else "None: no pair of parameters is traded off against each other.", "",
        "## Posterior predictive check", "",
        f"{s['predictive_runs']} studies with parameters drawn from the posterior, and {s['point_runs']} at "
        f"the point preset ({point_text(summary)}). A point target is *met* when it lies inside the central 90% "
        "of simulated values; a range target when the simulated median lies in the range.", "",
        f"- Calibration targets met: {int(fitted.met.sum())} of {len(fitted)}"
        + (f"; **not met: {', '.join(fitted[~fitted.met].target)}**" if (~fitted.met).any() else ""),
        f"- Checks met: {int(checks.met.sum())} of {len(checks)}"
        + (f"; **not met: {', '.join(checks[~checks.met].target)}**" if (~checks.met).any() else ""),
        *_reach_lines(ppc, s["predictive_runs"]),
        "", _md(ppc), "", "![predictive check](predictive_check.png)", "",
        "## Hold-out: calibrated without the Lastage targets, predicting them", "",
        f"A second calibration ({summary['holdout_studies']} studies) leaves out every target of case "
        f"`{s['holdout']}` ({', '.join(held_names)}); its posterior predicts them. Covered = the observed "
        "value lies in the central 90% of the prediction.", "",
        _md(holdout), "", "![hold-out](holdout.png)", "",
        "## Recovery: can the calibration find known parameters?", "",
    ]
    if recovery:
        lines += [f"From `{recovery['out']}` ({recovery['n_sets']} parameter sets from the prior, "
                  f"{recovery['studies_per_set']} studies each):", "",
                  _md(pd.DataFrame(recovery["per_parameter"])), ""]
    else:
        lines += ["Not run with this calibration: `python -m experiments.recovery` writes it "
                  "(pass `--recovery results/recovery-*/summary.json` to include it here).", ""]
    lines += ["## What the six cases do and do not tell us", "", *plain_statement(summary, post, ppc, holdout), ""]
    return "\n".join(lines)


def first_lines(summary: dict) -> list[str]:
    if not summary.get("first"):
        return []
    return ["## First stage: parameters fitted on their own", "",
            "Each is fitted to the targets that depend on it nearly one to one, before the joint ABC-SMC, "
            "which then draws it from this fit in every study and leaves those targets out of its distance "
            "(they are still in the predictive check below). The fit: studies on a grid of values, every "
            "other parameter drawn from its prior; a Gaussian synthetic likelihood whose mean and "
            "covariance are local-linear fits over the grid (docs/calibration.md: The first stage).", "",
            *[f"- `{f['parameter']}` from {', '.join(f'`{t}`' for t in f['targets'])} ({f['grid']} values x "
              f"{f['runs']} studies): median {f['median']:.4g}, 95% [{f['low95']:.4g}, {f['high95']:.4g}]"
              for f in summary["first"]],
            "", "![first stage](first_stage.png)", ""]


def ess_warning(gens: pd.DataFrame) -> list[str]:
    low = degenerate_generations(gens)
    if low.empty:
        return []
    return [f"**Warning: degenerate weights.** The effective sample size (ess) is below {LOW_ESS:.0%} of "
            f"the population in generation(s) {', '.join(str(int(t)) for t in low.t)} (lowest "
            f"{low.ess.min():.0f} of {int(low.particles.iloc[0])}): a few particles carry the posterior, "
            "so its intervals, verdicts and correlations below are noise. Do not adopt this run; see "
            "docs/calibration.md (*Weights*).", ""]


def plain_statement(summary: dict, post: pd.DataFrame, ppc: pd.DataFrame, holdout: pd.DataFrame) -> list[str]:
    ident = post[post.verdict != "prior-bound (not identified)"]
    bound = post[post.verdict == "prior-bound (not identified)"].parameter.tolist()
    fitted = ppc[ppc.use == "calibrate"]
    out = [f"- The model reproduces {int(fitted.met.sum())} of the {len(fitted)} calibration targets "
           "across its posterior."]
    if len(ident):
        out.append("- They narrow " + ", ".join(f"`{r.parameter}` (to {r.width_ratio:.0%} of its prior "
                                                 "interval)" for r in ident.itertuples()) + ".")
    else:
        out.append("- They narrow no single parameter below 80% of its prior interval.")
    for f in summary.get("first", []):
        out.append(f"- `{f['parameter']}` is set by {', '.join(f'`{t}`' for t in f['targets'])} alone (fitted "
                   f"first, on its own: {f['median']:.3g}, 95% [{f['low95']:.3g}, {f['high95']:.3g}]), not by the "
                   "six cases.")
    if bound:
        out.append(f"- They do not inform {', '.join(f'`{b}`' for b in bound)}: conclusions that depend on "
                   "these carry their prior range (calibration=posterior draws them).")
    out.append("- Crime prevention (`deterrence`) cannot be learnt from them (the study: \"could not be "
               "established\"; no target counts prevented offences): it is carried forward from the "
               "meta-analysis prior.")
    missed = holdout[~holdout.covered].target.tolist()
    out.append(f"- Without Lastage, the other five groups {'do not ' if missed else ''}predict Lastage's "
               + ("figures" if not missed else ", ".join(f"`{m}`" for m in missed)) + " within 90%.")
    if summary["inactive"]:
        out.append(f"- {len(summary['inactive'])} target(s) wait for outcomes this model lacks; "
                   "until then the fit says nothing about them.")
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="CI smoke run (under 2 minutes); implies --active-only")
    ap.add_argument("--results-dir", default="results", help="where a new calibration-<unique>/ goes")
    ap.add_argument("--run-dir", type=Path, help="run in (or continue) this directory")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--acceptor", choices=("distance", "stochastic"), default=None)
    ap.add_argument("--scales", choices=("adaptive", "sd"), default=None,
                    help=f"the distance's scales (default {DEFAULT.scales}): adapted each generation, or the targets' sd")
    ap.add_argument("--transition", choices=tuple(TRANSITIONS), default=None,
                    help=f"proposal kernel (default {DEFAULT.transition}; docs/calibration.md: Weights)")
    ap.add_argument("--active-only", action="store_true",
                    help="calibrate to the targets the model can measure, leaving out those whose outcome is missing")
    ap.add_argument("--budget", type=float, default=1.0, help="scale every population and study count")
    ap.add_argument("--max-studies", type=int, default=None, help="studies in the main ABC")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--recovery", type=Path, help="a recovery summary.json to include in the report")
    ap.add_argument("--adopt", action="store_true",
                    help=f"install the result: point preset -> {ADOPTED_PRESET.relative_to(ROOT)}, "
                    f"posterior sample -> {posterior.SAMPLE_FILE.relative_to(ROOT)}")
    args = ap.parse_args(argv)
    settings = QUICK if args.quick else DEFAULT
    if args.budget != 1.0:
        settings = scaled(settings, args.budget)
    changes = {k: v for k, v in (("acceptor", args.acceptor), ("scales", args.scales), ("transition", args.transition),
                                 ("seed", args.seed), ("max_studies", args.max_studies)) if v is not None}
    settings = replace(settings, **changes)
    run_dir = args.run_dir or store.new_results_dir(Path(args.results_dir), "calibration")
    recovery = json.loads(args.recovery.read_text()) if args.recovery else None
    summary = run(settings, run_dir, args.workers, active_only=args.active_only or args.quick,
                  recovery=recovery)
    if args.adopt:
        adopt(run_dir)
    return summary


if __name__ == "__main__":
    main()
