"""Calibrate the behavioural parameters to the six study groups by ABC-SMC, and report.

    python -m experiments.calibrate            # default: about 20 minutes on an idle 2-core machine
    python -m experiments.calibrate --quick    # CI smoke run: about a minute, results not meaningful
    python -m experiments.calibrate --budget 0.6 --workers 4   # fewer studies, more processes (busy machine)

Reads the targets and study design (conf/targets/targets.yaml) and the priors
(conf/targets/priors.yaml); simulates the six-group study (experiments/study.py) for each parameter
set; runs ABC-SMC (experiments/abc.py). Writes ``results/calibration-<unique>/`` (report.md, figures,
posterior and predictive tables) and, in default mode, the preset sim/calibrated.yaml.
See docs/calibration.md.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from multiprocessing import get_context
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

import sim
from experiments import abc, cli, store
from experiments.study import (CONF, PRIORS_FILE, STUDY_HYPERPARAMETERS, TARGETS_FILE, Design, load_yaml,
                               measure, run_study, validate_targets)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the non-interactive backend)

PRESET_FILE = sim.params.CALIBRATED_FILE  # the package's calibration: one default for API and CLI
NAN_MISS = 3.0       # a target the run cannot measure (e.g. a share of zero reports) counts as a 3-sd miss
IDENTIFIED, WEAK = 0.5, 0.8   # posterior/prior 95%-interval width ratios: identified | weakly | prior-bound


@dataclass(frozen=True)
class Settings:
    particles: int = 80
    first_draws: int = 160             # generation 0: prior draws, the best `particles` kept
    max_simulations: int = 1400        # studies in the main ABC (each ~2 CPU-seconds)
    alpha: float = 0.5                 # tolerance = this quantile of the previous distances
    predictive_runs: int = 50          # studies from the posterior (posterior predictive check)
    point_runs: int = 16               # studies at the calibrated preset (posterior mean)
    holdout: str = "groups_with_arrests"
    holdout_particles: int = 40
    holdout_first_draws: int = 80
    holdout_max_simulations: int = 200
    months_scale: float = 1.0          # < 1 simulates shorter windows (quick mode only)
    seed: int = 20180601


DEFAULT = Settings()
QUICK = Settings(particles=20, first_draws=40, max_simulations=110, predictive_runs=16, point_runs=6,
                 holdout_particles=12, holdout_first_draws=24, holdout_max_simulations=24,
                 months_scale=0.2)


def scaled(settings: Settings, factor: float) -> Settings:
    """Every particle and study count times ``factor`` (at least 4 each)."""
    counts = ("particles", "first_draws", "max_simulations", "predictive_runs", "point_runs",
              "holdout_particles", "holdout_first_draws", "holdout_max_simulations")
    return replace(settings, **{c: max(4, round(getattr(settings, c) * factor)) for c in counts})


# -- the simulator handed to the ABC: a study per parameter row, all targets measured ------------------
def _study_stats(job) -> list[float]:
    base, names, design, targets, theta, seed = job
    values = dict(zip(names, theta))
    study = {k: values.pop(k) for k in list(values) if k in STUDY_HYPERPARAMETERS}
    records = run_study(base.replace(**values), design, int(seed), study)
    return [measure(t, records, design) for t in targets]


@dataclass
class Simulator:
    """Maps parameter rows to (distance, all target values), in a process pool."""

    base: sim.Params
    names: tuple[str, ...]
    design: Design
    targets: list[dict]
    fitted: tuple[str, ...]           # names of the targets in the distance
    pool: ProcessPoolExecutor | None = None

    def stats(self, theta: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        jobs = [(self.base, self.names, self.design, self.targets, tuple(map(float, row)), s)
                for row, s in zip(theta, seeds)]
        mapper = self.pool.map if self.pool else map
        return np.array(list(mapper(_study_stats, jobs)), dtype=float).reshape(len(jobs), len(self.targets))

    def distance(self, stats: np.ndarray) -> np.ndarray:
        idx = [i for i, t in enumerate(self.targets) if t["name"] in self.fitted]
        value = np.array([self.targets[i]["value"] for i in idx], dtype=float)
        sd = np.array([self.targets[i]["sd"] for i in idx], dtype=float)
        z = (stats[:, idx] - value) / sd
        z = np.where(np.isnan(z), NAN_MISS, z)
        return np.sqrt(np.mean(z ** 2, axis=1))

    def __call__(self, theta: np.ndarray, seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        stats = self.stats(theta, seeds)
        return self.distance(stats), stats


def pool(workers: int):
    """A process pool of ``workers`` (spawned: safe beside threads), or no pool when 1."""
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn")) if workers > 1 else nullcontext()


def load_prior(spec: dict | None = None) -> abc.Prior:
    spec = spec or load_yaml(PRIORS_FILE)
    prior = abc.Prior.from_spec({**spec["params"], **spec.get("study", {})})
    for name, lo, hi in zip(prior.names, prior.low, prior.high):
        if name not in STUDY_HYPERPARAMETERS:
            sim.params.check_value(name, float(lo))
            sim.params.check_value(name, float(hi))
    return prior


def calibrate(simulator: Simulator, prior: abc.Prior, settings: Settings, rng: np.random.Generator,
              particles: int, first_draws: int, max_simulations: int, label: str) -> abc.Result:
    def progress(i, g):
        print(f"  [{label}] generation {i}: tolerance {g.tolerance:.2f}, acceptance {g.acceptance:.2f}, "
              f"{g.simulations} studies", flush=True)
    return abc.abc_smc(simulator, prior, n=particles, n0=first_draws, max_simulations=max_simulations,
                       alpha=settings.alpha, rng=rng, batch=max(2 * particles // 3, 4), on_generation=progress)


# -- summaries ---------------------------------------------------------------------------------------
def posterior_table(result: abc.Result) -> pd.DataFrame:
    prior = result.prior
    q = result.quantiles([0.025, 0.5, 0.975])
    zq = prior.to_z(q)
    prior_width = 0.95 * (prior.z_high - prior.z_low)
    ratio = (zq[2] - zq[0]) / prior_width
    verdict = np.where(ratio < IDENTIFIED, "identified", np.where(ratio < WEAK, "weakly identified",
                                                                   "prior-bound (not identified)"))
    return pd.DataFrame({
        "parameter": prior.names, "kind": ["study" if n in STUDY_HYPERPARAMETERS else "model"
                                           for n in prior.names],
        "prior": [f"{'log-' if lg else ''}U({lo:g}, {hi:g})" for lo, hi, lg in
                  zip(prior.low, prior.high, prior.log)],
        "mean": result.mean(), "median": q[1], "low95": q[0], "high95": q[2],
        "width_ratio": ratio, "verdict": verdict})


def predictive_table(targets: list[dict], stats: np.ndarray, fitted: tuple[str, ...]) -> pd.DataFrame:
    rows = []
    for i, t in enumerate(targets):
        x = stats[:, i][~np.isnan(stats[:, i])]
        lo, med, hi = np.quantile(x, [0.05, 0.5, 0.95]) if len(x) else (np.nan,) * 3
        rows.append({"target": t["name"], "case": t["case"], "use": "calibrate" if t["name"] in fitted
                     else ("held out" if t["use"] == "calibrate" else "check"),
                     "target_value": _target_text(t), "sim_median": med, "sim_q5": lo, "sim_q95": hi,
                     "met": _met(t, lo, med, hi)})
    return pd.DataFrame(rows)


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
        return (a is None or med >= a) and (b is None or med <= b)
    return bool(lo <= t["value"] <= hi)


# -- outputs -----------------------------------------------------------------------------------------
def write_preset(path: Path, table: pd.DataFrame, settings: Settings, fitted: tuple[str, ...],
                 elapsed_min: float, result: abc.Result) -> dict[str, float]:
    model = table[table.kind == "model"]
    values = {r.parameter: _round(r.mean) for r in model.itertuples()}
    sim.Params().replace(**values)  # validates
    today = dt.date.today().isoformat()
    lines = [
        "# The point calibration (calibration=calibrated): the defaults of sim.Params.preset(), "
        "sim.run() and the command line.",
        "# Calibrated behavioural parameters: written by `python -m experiments.calibrate` "
        f"on {today}; do not edit by hand.",
        "# Method: ABC-SMC (population Monte Carlo with adaptive tolerance and importance weights,",
        "# Beaumont et al. 2009; experiments/abc.py) on a simulated six-group study (experiments/study.py),",
        f"# {settings.particles} particles, {result.simulations} simulated studies, {len(result.generations)} "
        f"generations, final tolerance {result.final.tolerance:.2f}, {elapsed_min:.1f} min in all.",
        f"# Model: git {model_version()}. Re-run the calibration when the model changes.",
        f"# Targets (conf/targets/targets.yaml): {', '.join(fitted)}.",
        "# Priors: conf/targets/priors.yaml. Values are posterior means; docs/calibration.md explains.",
        "# parameter: posterior mean [95% interval] (prior) - identified | weakly identified | prior-bound",
    ]
    for r in table.itertuples():
        lines.append(f"#   {r.parameter}: {r.mean:.4g} [{r.low95:.4g}, {r.high95:.4g}] ({r.prior}) - {r.verdict}"
                     + (" (study hyperparameter, not a model parameter)" if r.kind == "study" else ""))
    lines += [f"{k}: {v}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return values


def model_version() -> str:
    """The commit the model was calibrated at (and whether sim/ had uncommitted changes)."""
    root = CONF.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "sim"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + (" with uncommitted changes in sim/" if dirty else "")


def _round(x: float) -> float:
    return float(f"{x:.4g}")


def plot_predictive(path: Path, targets: list[dict], stats: np.ndarray, table: pd.DataFrame,
                    prior_stats: np.ndarray | None) -> None:
    k = len(targets)
    cols = 4
    fig, axes = plt.subplots(math.ceil(k / cols), cols, figsize=(4 * cols, 2.6 * math.ceil(k / cols)))
    for ax, (i, t) in zip(axes.flat, enumerate(targets)):
        x = stats[:, i][~np.isnan(stats[:, i])]
        if prior_stats is not None:
            p = prior_stats[:, i][~np.isnan(prior_stats[:, i])]
            ax.hist(p, bins=25, color="0.85", label="prior predictive", density=True)
        ax.hist(x, bins=25, color="tab:blue", alpha=0.7, label="posterior predictive", density=True)
        if "range" in t:
            a, b = t["range"]
            ax.axvspan(a if a is not None else ax.get_xlim()[0], b if b is not None else ax.get_xlim()[1],
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


def plot_posterior(path: Path, result: abc.Result) -> None:
    prior, g = result.prior, result.final
    d = len(prior.names)
    cols = 4
    fig, axes = plt.subplots(math.ceil(d / cols), cols, figsize=(4 * cols, 2.4 * math.ceil(d / cols)))
    for j, ax in enumerate(axes.flat[:d]):
        bins = np.linspace(prior.low[j], prior.high[j], 21)
        if prior.log[j]:
            bins = np.geomspace(prior.low[j], prior.high[j], 21)
            ax.set_xscale("log")
        ax.hist(g.theta[:, j], bins=bins, weights=g.weights, color="tab:blue", alpha=0.8)
        ax.axhline(1 / 20, color="0.5", ls="--", lw=1)   # the prior's mass per bin
        ax.set_title(prior.names[j], fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[d:]:
        ax.axis("off")
    fig.suptitle("Posterior (bars) against the prior (dashed: uniform mass per bin)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_holdout(path: Path, name: str, target: dict, held: np.ndarray, held_w: np.ndarray,
                 prior_pred: np.ndarray, full_pred: np.ndarray) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.2))
    bins = np.histogram_bin_edges(np.concatenate([prior_pred, held, full_pred]), bins=20)
    ax.hist(prior_pred, bins=bins, density=True, color="0.85", label="prior predictive")
    ax.hist(held, bins=bins, weights=held_w, density=True, alpha=0.7, label=f"calibrated without {name}")
    ax.hist(full_pred, bins=bins, density=True, histtype="step", lw=2, label="calibrated on all targets")
    ax.axvline(target["value"], color="tab:red", lw=2, label="observed")
    ax.set_title(f"Hold-out check: {name}", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def results_dir(root: Path) -> Path:
    return store.new_results_dir(root, "calibration")


def _weighted_interval(x: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    ok = ~np.isnan(x)
    return tuple(abc.weighted_quantile(x[ok], w[ok] / w[ok].sum(), [0.05, 0.5, 0.95]))


def run(settings: Settings, out_root: Path, write_conf: bool, workers: int,
        spec: dict | None = None, prior: abc.Prior | None = None, base: sim.Params | None = None) -> dict:
    """The whole calibration; returns a summary (also written to summary.json)."""
    start = time.time()
    spec = spec or load_yaml(TARGETS_FILE)
    validate_targets(spec)
    prior = prior or load_prior()
    base = base or sim.Params()
    design = Design.from_targets(spec, settings.months_scale)
    targets = spec["targets"]
    calib = tuple(t["name"] for t in targets if t["use"] == "calibrate")
    if settings.holdout not in calib:
        raise ValueError(f"hold-out target {settings.holdout!r} is not a calibration target {calib}")
    out = results_dir(out_root)
    rng = np.random.default_rng(settings.seed)
    with pool(workers) as workers_pool:
        simulator = Simulator(base, prior.names, design, targets, calib, workers_pool)
        print(f"calibrating {len(prior.names)} parameters to {len(calib)} targets -> {out}", flush=True)
        result = calibrate(simulator, prior, settings, rng, settings.particles, settings.first_draws,
                           settings.max_simulations, "all targets")
        post = posterior_table(result)
        abc_minutes = (time.time() - start) / 60

        # posterior predictive check: fresh studies from posterior draws, and at the preset itself
        draws = result.resample(rng, settings.predictive_runs)
        pred = simulator.stats(draws, rng.integers(0, 2**31 - 1, len(draws)))
        mean_row = np.tile(result.mean(), (settings.point_runs, 1))
        point = simulator.stats(mean_row, rng.integers(0, 2**31 - 1, settings.point_runs))
        ppc = predictive_table(targets, pred, calib)
        at_point = predictive_table(targets, point, calib)
        ppc["met_at_preset"] = at_point["met"].values
        ppc["preset_median"] = at_point["sim_median"].values

        # hold-out: calibrate without one target, predict it
        held_names = tuple(n for n in calib if n != settings.holdout)
        held_sim = replace(simulator, fitted=held_names)
        held = calibrate(held_sim, prior, settings, rng, settings.holdout_particles,
                         settings.holdout_first_draws, settings.holdout_max_simulations, "hold-out")
        h = [t["name"] for t in targets].index(settings.holdout)
        held_pred = _weighted_interval(held.final.stats[:, h], held.final.weights)
        holdout_target = targets[h]
        holdout = {"target": settings.holdout, "observed": holdout_target["value"],
                   "predicted_median": held_pred[1], "predicted_q5": held_pred[0], "predicted_q95": held_pred[2],
                   "covered": bool(held_pred[0] <= holdout_target["value"] <= held_pred[2]),
                   "prior_predictive": list(np.nanquantile(result.prior_stats[:, h], [0.05, 0.5, 0.95])),
                   "posterior_table": posterior_table(held).to_dict(orient="records")}
    elapsed = (time.time() - start) / 60

    preset_path = PRESET_FILE if write_conf else out / "calibrated.yaml"
    values = write_preset(preset_path, post, settings, calib, elapsed, result)
    post.to_csv(out / "posterior_summary.csv", index=False)
    pd.DataFrame(result.final.theta, columns=prior.names).assign(weight=result.final.weights,
                                                                 distance=result.final.distances
                                                                 ).to_csv(out / "posterior.csv", index=False)
    ppc.to_csv(out / "predictive_check.csv", index=False)
    plot_predictive(out / "predictive_check.png", targets, pred, ppc, result.prior_stats)
    plot_posterior(out / "posterior.png", result)
    plot_holdout(out / "holdout.png", settings.holdout, holdout_target, held.final.stats[:, h],
                 held.final.weights, result.prior_stats[:, h][~np.isnan(result.prior_stats[:, h])],
                 pred[:, h][~np.isnan(pred[:, h])])
    summary = {"settings": asdict(settings), "elapsed_minutes": elapsed, "model": model_version(),
               "cpu_minutes": _cpu_minutes(), "abc_minutes": abc_minutes,
               "studies": result.simulations + held.simulations + len(pred) + len(point),
               "generations": [{"tolerance": g.tolerance, "acceptance": g.acceptance, "studies": g.simulations,
                                "ess": g.ess()} for g in result.generations],
               "stop_reason": result.stop_reason, "preset": str(preset_path), "values": values,
               "posterior": post.to_dict(orient="records"), "predictive": ppc.to_dict(orient="records"),
               "holdout": holdout, "out": str(out)}
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    (out / "report.md").write_text(report(summary, post, ppc, holdout, result, held))
    print(f"done in {elapsed:.1f} min: {out / 'report.md'}; preset {preset_path}", flush=True)
    return summary


def _cpu_minutes() -> float:
    """CPU time of this process and its finished workers."""
    t = os.times()
    return (t.user + t.system + t.children_user + t.children_system) / 60


def _md(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    fmt = [[f"{v:.3g}" if isinstance(v, float) else str(v) for v in row] for row in df.itertuples(index=False)]
    return "\n".join(["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)] +
                     ["| " + " | ".join(r) + " |" for r in fmt])


def report(summary: dict, post: pd.DataFrame, ppc: pd.DataFrame, holdout: dict, result: abc.Result,
           held: abc.Result) -> str:
    s = summary["settings"]
    quick = s["months_scale"] < 1
    ident = post[post.verdict == "identified"].parameter.tolist()
    weak = post[post.verdict == "weakly identified"].parameter.tolist()
    bound = post[post.verdict.str.startswith("prior")].parameter.tolist()
    fitted = ppc[ppc.use == "calibrate"]
    checks = ppc[ppc.use != "calibrate"]
    gens = pd.DataFrame(summary["generations"])
    lines = [
        f"# Calibration report ({'QUICK smoke run: windows shortened, results not meaningful' if quick else 'default'})",
        "",
        f"Run time {summary['elapsed_minutes']:.1f} min ({summary['studies']} simulated six-group studies; "
        f"main ABC {summary['abc_minutes']:.1f} min; {summary['cpu_minutes']:.1f} CPU-minutes). "
        f"Model: git {summary['model']}. Preset written to `{summary['preset']}`.",
        "Method: ABC-SMC (experiments/abc.py) over the study of experiments/study.py; targets and their "
        "measurement in conf/targets/targets.yaml; priors in conf/targets/priors.yaml; see docs/calibration.md.",
        "",
        "## ABC generations",
        "",
        _md(gens),
        "",
        f"Stopped: {summary['stop_reason']}.",
        "",
        "## Posterior: which parameters the data identify",
        "",
        f"Width ratio = posterior 95% interval / prior 95% interval (log scale for log-uniform priors): "
        f"below {IDENTIFIED} identified, below {WEAK} weakly identified, otherwise the data leave the "
        "parameter at its prior.",
        "",
        f"- **Identified by the targets:** {', '.join(ident) or 'none'}",
        f"- **Weakly identified:** {', '.join(weak) or 'none'}",
        f"- **Stay at their prior (the targets do not inform them; their preset value is the prior "
        f"mean, an assumption):** {', '.join(bound) or 'none'}",
        "",
        _md(post),
        "",
        "![posterior](posterior.png)",
        "",
        "## Posterior predictive check",
        "",
        f"{summary['settings']['predictive_runs']} studies with parameters drawn from the posterior, and "
        f"{summary['settings']['point_runs']} at the preset (posterior mean). A point target is *met* when "
        "it lies inside the central 90% of simulated values; a range target when the simulated median "
        "lies in the range.",
        "",
        f"- Calibration targets met: {int(fitted.met.sum())} of {len(fitted)}"
        + (f"; **not met: {', '.join(fitted[~fitted.met].target)}**" if (~fitted.met).any() else ""),
        f"- Checks (design inputs, qualitative facts, held-out target) met: {int(checks.met.sum())} of "
        f"{len(checks)}" + (f"; **not met: {', '.join(checks[~checks.met].target)}**"
                            if (~checks.met).any() else ""),
        "",
        _md(ppc),
        "",
        "![predictive check](predictive_check.png)",
        "",
        "## Hold-out check",
        "",
        f"Calibrated again without `{holdout['target']}` ({held.simulations} studies, "
        f"{len(held.generations)} generations), then predicted it from that posterior.",
        "",
        f"- observed: {holdout['observed']}",
        f"- predicted (median, 90% interval): {holdout['predicted_median']:.3g} "
        f"[{holdout['predicted_q5']:.3g}, {holdout['predicted_q95']:.3g}] - "
        f"{'covers' if holdout['covered'] else 'does NOT cover'} the observed value",
        f"- prior predictive (median, 90% interval): {holdout['prior_predictive'][1]:.3g} "
        f"[{holdout['prior_predictive'][0]:.3g}, {holdout['prior_predictive'][2]:.3g}]",
        "",
        "![hold-out](holdout.png)",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    ap = cli.parser(__doc__.split("\n\n")[0], "sim/calibrated.yaml")
    ap.add_argument("--holdout", default=None, help="calibration target to hold out")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--budget", type=float, default=1.0,
                    help="scale every particle and study count (e.g. 0.6 on a busy machine)")
    args = ap.parse_args(argv)
    settings = QUICK if args.quick else DEFAULT
    if args.holdout:
        settings = replace(settings, holdout=args.holdout)
    if args.seed is not None:
        settings = replace(settings, seed=args.seed)
    if args.budget != 1.0:
        settings = scaled(settings, args.budget)
    return run(settings, Path(args.results_dir), cli.writes_conf(args), args.workers)


if __name__ == "__main__":
    main()
