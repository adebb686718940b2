"""Fit a case to one group's chat statistics with the six-case calibration's machinery, and write it.

The narrow interface the rest of the import uses: ``start_params`` (the group's size on the calibrated
preset), ``fit_case`` (observed statistics in, ``CaseFit`` out: posterior, parameter table, posterior
predictive check) and ``write_case``. The machinery is experiments/calibrate.py's, not a copy:

- **ABC-SMC**: ``experiments.calibrate.abc_smc``, the very function of the six-case calibration: pyabc,
  the same adaptive p-norm distance (p=2, each statistic scaled by its RMSD in the population, weight
  ratio capped at 100), the same stopping rules (acceptance below ``min_acceptance``, a budget of runs,
  of generations) and the same resumable history database (``history.db`` in the run's directory);
- **prior**: ``experiments.calibrate.Prior`` (uniform or log-uniform, sampled in z-space) from
  conf/chat_import/priors.yaml: the chat-related parameters (posting, chatter, replies, SAAR use, admin
  availability and speed), each informed mainly by one statistic (``statistics.FITTED``);
- **posterior summary**: ``experiments.calibrate.final_sample`` and ``posterior_table`` (mean, 95%
  interval, width against the prior's, verdict).

**What the chat cannot tell** comes from the six-case posterior: every simulated run draws all other
calibrated parameters from the adopted posterior sample (conf/calibration/posterior.csv, read through
``experiments.posterior.draw``, one weighted row per run's seed); the fitted parameters override the
sample's values of the same name. So the fit marginalises over the six-case uncertainty, and the case
file holds the fitted parameters only: with ``calibration=posterior`` every seed of a sweep draws the
rest from the same sample again, with ``calibration=calibrated`` they are its point values. **Group
size** is set, not fitted: ``n_households`` = members at the start of the export / ``coverage``.

**Simulator**: one model run over the export's window (without the spatial layer), its chat turned into
the same text-free log as an export (``statistics.from_model``) and measured by the same function.
Only statistics and parameters reach the history database; it holds no text and no pseudonyms.
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
from experiments import calibrate as six_case
from experiments import posterior
from experiments.chat_import import statistics
from experiments.study import CONF, RATE_FIELDS, load_yaml

PRIORS_FILE = CONF / "chat_import" / "priors.yaml"
RATE_MULTIPLIER = "situation_rate_multiplier"   # scales every situation rate (study.RATE_FIELDS)


@dataclass(frozen=True)
class FitSettings:
    population: int = 200            # particles per generation
    generations: int = 8             # at most
    max_simulations: int = 20_000    # model runs in the ABC at most
    min_acceptance: float = 0.01     # stop when acceptance falls below (tolerance at the noise)
    predictive_runs: int = 100       # runs from the posterior for the predictive check
    seed: int = 20240101

    def abc(self) -> six_case.Settings:
        """The six-case calibration's settings with this fit's sizes (the distance acceptor)."""
        return six_case.Settings(population=self.population, max_studies=self.max_simulations,
                                 max_generations=self.generations, min_acceptance=self.min_acceptance,
                                 acceptor="distance", scales="adaptive",   # a chat's counts have no sd
                                 predictive_runs=self.predictive_runs, seed=self.seed)


DEFAULT = FitSettings()
QUICK = FitSettings(population=30, generations=3, max_simulations=400, predictive_runs=20)


@dataclass
class CaseFit:
    """The result of a case fit: everything the case file and the report show."""

    start: sim.Params               # the parameters before the fit (preset + group size)
    days: int                       # simulated window
    sample: Path                    # the six-case posterior sample the rest was drawn from
    posterior: pd.DataFrame         # one row per particle: fitted parameters and ``weight``
    table: pd.DataFrame             # experiments.calibrate.posterior_table + what informs each
    predictive: pd.DataFrame        # statistic, observed, sim_q5, sim_median, sim_q95, met
    predictive_runs: pd.DataFrame   # the statistics of each posterior predictive run
    simulations: int
    generations: int
    epsilon: float
    stop_reason: str

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


def load_prior(path: Path = PRIORS_FILE) -> six_case.Prior:
    """The fitted parameters' prior, checked against each parameter's allowed range."""
    prior = six_case.Prior.from_spec(load_yaml(path))
    for name, lo, hi in zip(prior.names, prior.low, prior.high):
        if name != RATE_MULTIPLIER:
            sim.params.check_value(name, float(lo))
            sim.params.check_value(name, float(hi))
    return prior


def start_params(members_start: int, base: sim.Params | None = None) -> sim.Params:
    """The calibrated preset with this group's size: what the fit starts from."""
    if base is None:
        base = sim.Params.preset()   # the package's point calibration (sim/calibrated.yaml)
    households = max(10, round(members_start / base.coverage))
    # an export is one group: its size is the group size, so the neighbourhood is that one group
    return base.replace(n_households=households, group_size=float(min(max(members_start, 2), 256)))


def run_params(start: sim.Params, theta: dict[str, float], seed: int, sample: Path) -> sim.Params:
    """One run's parameters: the six-case posterior's draw for ``seed``, then the fitted values."""
    return start.replace(**posterior.draw(seed, sample)).replace(**model_values(start, theta))


def simulate_statistics(params: sim.Params, days: int, seed: int) -> dict:
    """One model run over ``days``, measured like an export."""
    model = sim.NeighbourhoodWatch(params, seed=int(seed), with_space=False)
    model.run_days(days)
    return statistics.describe(statistics.from_model(model, days))


@dataclass(frozen=True)
class ChatModel:
    """pyabc model for ``experiments.calibrate.abc_smc``: z-space parameters -> the fitted statistics of
    one run (``targets`` and ``prior`` are what ``abc_smc`` reads, as from its own ``StudyModel``)."""

    start: sim.Params
    prior: six_case.Prior
    days: int
    sample: Path
    targets: tuple[dict, ...]

    def __call__(self, pars: dict) -> dict[str, float]:
        theta = dict(zip(self.prior.names, self.prior.from_z(np.array([pars[n] for n in self.prior.names]))))
        seed = int(np.random.randint(0, 2**31 - 1))
        stats = simulate_statistics(run_params(self.start, theta, seed, self.sample), self.days, seed)
        return statistics.fitted_vector(stats)


def fit_case(observed: dict, days: int, start: sim.Params, run_dir: Path, settings: FitSettings = DEFAULT,
             prior: six_case.Prior | None = None, sample: Path = posterior.SAMPLE_FILE,
             workers: int = 1) -> CaseFit:
    """ABC-SMC of the chat parameters to the observed statistics (``statistics.describe`` output);
    pyabc's history goes to ``run_dir/history.db`` (a stopped fit continues there)."""
    prior = prior or load_prior()
    posterior.load_sample(sample)   # a missing or broken sample is an error before any run
    targets = tuple({"name": k, "value": v} for k, v in statistics.fitted_vector(observed).items())
    model = ChatModel(start, prior, days, Path(sample), targets)
    quiet = logging.getLogger("ABC")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        history = six_case.abc_smc(model, Path(run_dir) / "history.db", settings.abc(), settings.population,
                                   settings.max_simulations, workers, label="case fit")
    finally:
        quiet.setLevel(level)
    theta, w = six_case.final_sample(history, prior)
    post = pd.DataFrame(theta, columns=prior.names).assign(weight=w)
    table = six_case.posterior_table(prior, theta, w).drop(columns="kind").assign(
        informs=[", ".join(s for s, q in statistics.FITTED.items() if n in q) for n in prior.names])
    fit = CaseFit(start, days, Path(sample), post, table, pd.DataFrame(), pd.DataFrame(),
                  int(history.total_nr_simulations), int(history.max_t) + 1,
                  float(history.get_all_populations().epsilon.iloc[-1]),
                  six_case.stop_reason(history, settings.abc(), settings.population,
                                      settings.max_simulations))
    fit.predictive, fit.predictive_runs = predictive_check(fit, observed, settings)
    return fit


PREDICTED = (*statistics.FITTED, "messages_per_month", "offtopic_share", "sightings_per_signal",
             "removals_per_month", "closings_per_signal", "feedback_per_signal")


def predictive_check(fit: CaseFit, observed: dict, settings: FitSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs with parameters drawn from the posterior (the rest from the six-case sample, as in the fit):
    each statistic of the export beside its spread."""
    rng = np.random.default_rng(settings.seed + 1)
    idx = rng.choice(len(fit.posterior), size=settings.predictive_runs, p=fit.posterior.weight)
    names = [c for c in fit.posterior.columns if c != "weight"]
    seeds = rng.integers(2**31 - 1, size=len(idx))
    runs = [simulate_statistics(run_params(fit.start, fit.posterior.loc[i, names].to_dict(), int(seed), fit.sample),
                                fit.days, int(seed)) for i, seed in zip(idx, seeds)]
    rows = []
    for s in PREDICTED:
        x = np.array([r[s] for r in runs], dtype=float)
        x = x[~np.isnan(x)]
        q5, med, q95 = np.quantile(x, [0.05, 0.5, 0.95]) if len(x) else (math.nan,) * 3
        obs = float(observed[s])
        rows.append({"statistic": s, "fitted": s in statistics.FITTED, "observed": obs, "sim_q5": q5,
                     "sim_median": med, "sim_q95": q95, "met": bool(q5 <= obs <= q95)})
    return pd.DataFrame(rows), pd.DataFrame([{s: r[s] for s in PREDICTED} for r in runs])


def sample_name(sample: Path) -> str:
    sample = Path(sample).resolve()
    root = CONF.parent.resolve()
    return str(sample.relative_to(root)) if sample.is_relative_to(root) else sample.name


def sample_provenance(sample: Path) -> str:
    """The sample's size and its first provenance line (when and how it was written)."""
    table, _ = posterior.load_sample(sample)
    first = next((ln[1:].strip() for ln in Path(sample).read_text().splitlines() if ln.startswith("#")), "")
    when = first.split(" on ")[-1].split(";")[0] if " on " in first else "date unknown"
    return f"{len(table)} particles, written {when}"


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
        f"# Start (everything the chat cannot tell): drawn per run from the six-case posterior sample {sample_name(fit.sample)}",
        f"#   ({sample_provenance(fit.sample)}); the rest of sim/calibrated.yaml. Not in this file: they come from",
        "#   the calibration group when the case is used (calibration=posterior draws them per seed, as the fit did).",
        f"# Method: ABC-SMC (experiments.calibrate.abc_smc, pyabc {pyabc.__version__}, adaptive distance), population "
        f"{settings.population}, {fit.generations} generations ({fit.stop_reason}),",
        f"#   {fit.simulations} model runs of {fit.days} days; final epsilon {fit.epsilon:.3g}.",
        "# Fit of each statistic: observed | posterior predictive median [90% interval] | met",
    ]
    for s in statistics.FITTED:
        r = pred.loc[s]
        lines.append(f"#   {s}: {r.observed:.3g} | {r.sim_median:.3g} [{r.sim_q5:.3g}, {r.sim_q95:.3g}] | "
                     f"{'met' if r.met else 'NOT met'}")
    lines.append("# parameter: posterior mean [95% interval] (prior) - verdict")
    for r in fit.table.itertuples():
        lines.append(f"#   {r.parameter}: {r.mean:.4g} [{r.low95:.4g}, {r.high95:.4g}] ({r.prior}) - {r.verdict}")
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
