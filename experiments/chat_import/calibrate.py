"""Fit a case to one group's chat statistics by ABC-SMC (pyabc 0.13), and write it as a case preset.

The narrow interface the rest of the import uses (and that a shared calibration module can later take
over): ``start_params`` (what the chat cannot tell), ``fit_case`` (observed statistics in, ``CaseFit``
out: posterior, parameter table, posterior predictive check) and ``write_case``.

- **What is fitted**: the chat-related parameters of conf/chat_import/priors.yaml (posting, chatter,
  replies, SAAR use, admin availability and speed), each informed mainly by one statistic
  (``statistics.FITTED``). **Group size** is set, not fitted: ``n_households`` = members at the start of
  the export / ``coverage``.
- **Everything else** starts from the calibrated preset (sim/calibrated.yaml, the six-case
  calibration). That preset is a posterior *mean* from the numpy ABC; the six-case pyabc posterior
  (issue 12) does not exist yet, so its uncertainty is not propagated here.
- **Simulator**: one model run over the export's window (without the spatial layer), its chat turned into
  the same text-free log as an export (``statistics.from_model``) and measured by the same function.
- **Distance**: pyabc's adaptive weighted Euclidean distance (each statistic scaled by its median absolute
  deviation in the current population), so statistics of different units count alike.

The database pyabc keeps lives in memory (``sqlite://``): nothing is written, and it holds derived
statistics only.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyabc

import sim
from experiments.chat_import import statistics
from experiments.study import CONF, RATE_FIELDS, load_yaml

PRIORS_FILE = CONF / "chat_import" / "priors.yaml"
RATE_MULTIPLIER = "situation_rate_multiplier"   # scales every situation rate (study.RATE_FIELDS)


@dataclass(frozen=True)
class FitSettings:
    population: int = 200            # particles per generation
    generations: int = 8             # at most
    max_simulations: int = 20_000    # model runs in the ABC at most
    predictive_runs: int = 100       # runs from the posterior for the predictive check
    seed: int = 20240101


DEFAULT = FitSettings()
QUICK = FitSettings(population=30, generations=3, max_simulations=400, predictive_runs=20)


@dataclass
class CaseFit:
    """The result of a case fit: everything the case file and the report show."""

    start: sim.Params               # the parameters before the fit (preset + group size)
    days: int                       # simulated window
    posterior: pd.DataFrame         # one row per particle: fitted parameters and ``weight``
    table: pd.DataFrame             # parameter, prior, mean, low95, high95, width_ratio
    predictive: pd.DataFrame        # statistic, observed, sim_q5, sim_median, sim_q95, met
    predictive_runs: pd.DataFrame   # the statistics of each posterior predictive run
    simulations: int
    generations: int
    epsilon: float

    @property
    def values(self) -> dict[str, float]:
        """Model parameter values of the case: posterior means (the rate multiplier applied to the rates)."""
        return model_values(self.start, {r.parameter: r.mean for r in self.table.itertuples()})

    def params(self) -> sim.Params:
        return self.start.replace(**self.values)


def model_values(start: sim.Params, theta: dict[str, float]) -> dict[str, float]:
    """Fitted values as model parameters (4 significant digits): the rate multiplier becomes rates."""
    values = {k: float(v) for k, v in theta.items() if k != RATE_MULTIPLIER}
    if RATE_MULTIPLIER in theta:
        values.update({f: getattr(start, f) * float(theta[RATE_MULTIPLIER]) for f in RATE_FIELDS})
    return {k: float(f"{v:.4g}") for k, v in values.items()}


def load_priors(path: Path = PRIORS_FILE) -> dict[str, dict]:
    spec = load_yaml(path)
    for name, p in spec.items():
        if name != RATE_MULTIPLIER:
            sim.params.check_value(name, float(p["low"]))
            sim.params.check_value(name, float(p["high"]))
    return spec


def start_params(members_start: int, base: sim.Params | None = None) -> sim.Params:
    """The calibrated preset with this group's size: what the fit starts from."""
    if base is None:
        base = sim.Params.preset()   # the package's point calibration (sim/calibrated.yaml)
    households = max(10, round(members_start / base.coverage))
    # an export is one group: its size is the group size, so the neighbourhood is that one group
    return base.replace(n_households=households, group_size=float(min(max(members_start, 2), 256)))


def simulate_statistics(params: sim.Params, days: int, seed: int) -> dict:
    """One model run over ``days``, measured like an export."""
    model = sim.NeighbourhoodWatch(params, seed=int(seed), with_space=False)
    model.run_days(days)
    return statistics.describe(statistics.from_model(model, days))


def _prior(spec: dict[str, dict]) -> pyabc.Distribution:
    rvs = {n: pyabc.RV("loguniform", p["low"], p["high"]) if p.get("log") else
           pyabc.RV("uniform", p["low"], p["high"] - p["low"]) for n, p in spec.items()}
    return pyabc.Distribution(**rvs)


def fit_case(observed: dict, days: int, start: sim.Params, settings: FitSettings = DEFAULT,
             priors: dict[str, dict] | None = None, workers: int = 1) -> CaseFit:
    """ABC-SMC of the chat parameters to the observed statistics (``statistics.describe`` output)."""
    priors = priors or load_priors()
    names = tuple(priors)

    def model(theta: dict) -> dict:
        p = start.replace(**model_values(start, {n: theta[n] for n in names}))
        return statistics.fitted_vector(simulate_statistics(p, days, np.random.randint(2**31 - 1)))

    sampler = (pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers) if workers > 1
               else pyabc.sampler.SingleCoreSampler())
    np.random.seed(settings.seed)
    quiet = [logging.getLogger(n) for n in ("ABC", "ABC.History", "ABC.Sampler", "ABC.Distance",
                                             "ABC.Epsilon", "ABC.Transition", "ABC.Predictor")]
    levels = [lg.level for lg in quiet]
    for lg in quiet:
        lg.setLevel(logging.WARNING)
    try:
        abc = pyabc.ABCSMC(model, _prior(priors), pyabc.AdaptivePNormDistance(p=2),
                           population_size=settings.population, sampler=sampler)
        abc.new("sqlite://", statistics.fitted_vector(observed))
        history = abc.run(max_nr_populations=settings.generations,
                          max_total_nr_simulations=settings.max_simulations)
    finally:
        for lg, level in zip(quiet, levels):
            lg.setLevel(level)
    df, w = history.get_distribution(m=0, t=history.max_t)
    posterior = df[list(names)].reset_index(drop=True).assign(weight=w / w.sum())
    table = _table(posterior, priors)
    fit = CaseFit(start, days, posterior, table, pd.DataFrame(), pd.DataFrame(),
                  int(history.total_nr_simulations), int(history.max_t) + 1,
                  float(history.get_all_populations().epsilon.iloc[-1]))
    fit.predictive, fit.predictive_runs = predictive_check(fit, observed, settings)
    return fit


def _table(posterior: pd.DataFrame, priors: dict[str, dict]) -> pd.DataFrame:
    rows = []
    w = posterior.weight.to_numpy()
    for name, p in priors.items():
        x = posterior[name].to_numpy()
        lo, hi = _weighted_quantile(x, w, [0.025, 0.975])
        to = np.log if p.get("log") else (lambda v: v)
        ratio = (to(hi) - to(lo)) / (0.95 * (to(p["high"]) - to(p["low"])))
        rows.append({"parameter": name, "prior": f"{'log-' if p.get('log') else ''}U({p['low']:g}, {p['high']:g})",
                     "mean": float(w @ x), "low95": lo, "high95": hi, "width_ratio": float(ratio),
                     "informs": ", ".join(s for s, q in statistics.FITTED.items() if name in q)})
    return pd.DataFrame(rows)


def _weighted_quantile(x: np.ndarray, w: np.ndarray, qs) -> np.ndarray:
    order = np.argsort(x)
    cw = np.cumsum(w[order])
    cw = (cw - 0.5 * w[order]) / cw[-1]
    return np.interp(qs, cw, x[order])


PREDICTED = (*statistics.FITTED, "messages_per_month", "offtopic_share", "sightings_per_signal",
             "removals_per_month", "closings_per_signal", "feedback_per_signal")


def predictive_check(fit: CaseFit, observed: dict, settings: FitSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs with parameters drawn from the posterior: each statistic of the export beside its spread."""
    rng = np.random.default_rng(settings.seed + 1)
    idx = rng.choice(len(fit.posterior), size=settings.predictive_runs, p=fit.posterior.weight)
    names = [c for c in fit.posterior.columns if c != "weight"]
    runs = [simulate_statistics(fit.start.replace(**model_values(fit.start, fit.posterior.loc[i, names].to_dict())),
                                fit.days, int(rng.integers(2**31 - 1))) for i in idx]
    rows = []
    for s in PREDICTED:
        x = np.array([r[s] for r in runs], dtype=float)
        x = x[~np.isnan(x)]
        q5, med, q95 = np.quantile(x, [0.05, 0.5, 0.95]) if len(x) else (math.nan,) * 3
        obs = float(observed[s])
        rows.append({"statistic": s, "fitted": s in statistics.FITTED, "observed": obs, "sim_q5": q5,
                     "sim_median": med, "sim_q95": q95, "met": bool(q5 <= obs <= q95)})
    return pd.DataFrame(rows), pd.DataFrame([{s: r[s] for s in PREDICTED} for r in runs])


def write_case(path: Path, fit: CaseFit, observed: dict, settings: FitSettings) -> None:
    """``conf/case/<name>.yaml``: the fitted values, with provenance and the fit in its header."""
    today = dt.date.today().isoformat()
    pred = fit.predictive.set_index("statistic")
    lines = [
        "# @package params",
        f"# Case fitted to one WhatsApp group's own chat export by `python -m experiments.import_chat` "
        f"on {today}; do not edit by hand (docs/chat_import.md).",
        f"# Group: pseudonymised; no names, phone numbers or message text were kept. {observed['authors']} "
        f"members posted, {observed['members_start']} members at the start, {observed['members_end']} at the end.",
        f"# Period: {observed['start_month']} to {observed['end_month']} ({observed['window_days']:.0f} days); "
        f"{observed['messages']} messages (system lines and media not counted).",
        "# Start (everything the chat cannot tell): the calibrated preset sim/calibrated.yaml "
        "(posterior means of the six-case",
        "# calibration; the six-case pyabc posterior does not exist yet, so its uncertainty is not carried over).",
        f"# Method: ABC-SMC (pyabc {pyabc.__version__}), population {settings.population}, {fit.generations} "
        f"generations, {fit.simulations} model runs of {fit.days} days; final epsilon {fit.epsilon:.3g}.",
        "# Fit of each statistic: observed | posterior predictive median [90% interval] | met",
    ]
    for s in statistics.FITTED:
        r = pred.loc[s]
        lines.append(f"#   {s}: {r.observed:.3g} | {r.sim_median:.3g} [{r.sim_q5:.3g}, {r.sim_q95:.3g}] | "
                     f"{'met' if r.met else 'NOT met'}")
    lines.append("# parameter: posterior mean [95% interval] (prior)")
    for r in fit.table.itertuples():
        lines.append(f"#   {r.parameter}: {r.mean:.4g} [{r.low95:.4g}, {r.high95:.4g}] ({r.prior})")
    lines.append(f"n_households: {fit.start.n_households}   # inferred: {observed['members_start']} members at "
                 f"the start / coverage {fit.start.coverage:g}")
    informs = dict(zip(fit.table.parameter, fit.table.informs))
    for name, value in fit.values.items():
        fitted = RATE_MULTIPLIER if name in RATE_FIELDS else name
        how = (f"the start's rate x {RATE_MULTIPLIER} {fit.table.set_index('parameter').loc[fitted, 'mean']:.4g}"
               if fitted != name else "posterior mean")
        lines.append(f"{name}: {value}   # calibrated: ABC-SMC to this group's {informs[fitted]} ({how})")
    fit.params()   # validates every value before anything is written
    path.write_text("\n".join(lines) + "\n")
