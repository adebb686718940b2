"""Recovery study: can the calibration find parameters it knows? Identification measured, not hoped for.

    python -m experiments.recovery                 # 10 parameter sets, 1,000 studies each
    python -m experiments.recovery --quick         # pipeline smoke run, not meaningful
    python -m experiments.recovery --sets 12 --max-studies 2000 --population 200

Draws parameter sets from the prior; for each, simulates *one* study at that truth (the analogue of
the one study we have) and takes its values as synthetic targets, with the real targets' sd and
noise; calibrates to them with the same ABC-SMC as experiments.calibrate; then reports per parameter
how often its 90% posterior interval covers the truth and how wide that interval is against the
prior's 90% interval (z-space), and the posterior correlations averaged over the sets: which
combinations the targets fix when single parameters are not. Writes ``results/recovery-<unique>/``
(report.md, recovery.csv per set and parameter, summary.json, one history database per set).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

import sim
from experiments import calibrate, store
from experiments.calibrate import Prior, Settings, StudyModel, final_sample, simulate_targets, weighted_quantile
from experiments.study import TARGETS_FILE, Design, load_yaml

RECOVERED = 0.8   # mean 90%-interval width ratio below which a parameter counts as recovered ...
COVERAGE = 0.8    # ... if its 90% intervals also cover the truth this often (else: overconfident)


def synthetic_targets(base: sim.Params, names, design: Design, targets: list[dict],
                      truth: np.ndarray, seed: int) -> list[dict] | None:
    """The targets as one study at ``truth`` (values of ``names``) produced them (None if one is
    unmeasurable there)."""
    values = simulate_targets(base, names, design, targets, truth, seed)
    if any(math.isnan(v) for v in values):
        return None
    return [{**t, "value": float(v)} for t, v in zip(targets, values)]


def recover(base: sim.Params, prior: Prior, design: Design, targets: list[dict], settings: Settings,
            n_sets: int, out: Path, workers: int = 1, seed: int = 1, carried: Prior | None = None,
            first: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Calibrate to ``n_sets`` synthetic target sets; one row per (set, parameter). ``carried``:
    parameters the truth draws from their prior too, and the calibration marginalises (as the
    real one does); ``first``: parameters fitted on their own first, to the targets named (as the
    real calibration does, priors.yaml ``first:``)."""
    logging.getLogger("ABC").setLevel(logging.WARNING)
    rng = np.random.default_rng(seed)
    names = prior.names + (carried.names if carried is not None else ())
    rows, k = [], 0
    while k < n_sets:
        truth = prior.sample(rng, 1)[0]
        world = np.r_[truth, carried.sample(rng, 1)[0]] if carried is not None else truth
        synthetic = synthetic_targets(base, names, design, targets, world, int(rng.integers(2**31 - 1)))
        if synthetic is None:
            continue   # a target undefined at this truth (e.g. no reports): draw again
        start = time.time()
        set_rng = np.random.default_rng([seed, k])   # the first stage's and the combination's draws
        with calibrate.process_pool(workers) as executor:
            fits = calibrate.fit_first(base, prior, carried, design, synthetic, first or {}, settings, set_rng,
                                       executor)
        joint, own = prior.without([f.name for f in fits]), {n for f in fits for n in f.targets}
        history = calibrate.abc_smc(StudyModel(base, joint, design, tuple(t for t in synthetic if t["name"] not in own),
                                               carried, fits),
                                    out / f"set-{k}.db", replace(settings, seed=settings.seed + k),
                                    settings.population, settings.max_studies, workers, label=f"set {k}")
        theta, w = final_sample(history, joint)
        theta = calibrate.with_first(prior, joint, theta, fits, set_rng)
        z, zt = prior.to_z(theta), prior.to_z(truth)
        cov = np.atleast_2d(np.cov(z, rowvar=False, aweights=w))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
        for j, name in enumerate(prior.names):
            lo, hi = weighted_quantile(z[:, j], w, [0.05, 0.95])
            natural = np.exp if prior.log[j] else float
            rows.append({"set": k, "parameter": name, "truth": float(truth[j]),
                         "mean": float(natural(w @ z[:, j])), "low90": float(natural(lo)),
                         "high90": float(natural(hi)), "covered": bool(lo <= zt[j] <= hi),
                         "width_ratio": float((hi - lo) / (0.9 * (prior.z_high[j] - prior.z_low[j]))),
                         "studies": int(history.total_nr_simulations), "ess": float(1 / np.sum(w ** 2)),
                         "seconds": time.time() - start,
                         "correlations": json.dumps({prior.names[i]: round(float(corr[j, i]), 3)
                                                     for i in range(len(truth)) if i != j})})
        print(f"  set {k}: {history.total_nr_simulations} studies, {time.time() - start:.0f} s", flush=True)
        k += 1
    return pd.DataFrame(rows)


def per_parameter(table: pd.DataFrame) -> pd.DataFrame:
    """Coverage of the 90% interval and mean width ratio per parameter, with a verdict."""
    g = table.groupby("parameter", sort=False)
    out = pd.DataFrame({"coverage90": g.covered.mean(), "width_ratio": g.width_ratio.mean(),
                        "width_ratio_max": g.width_ratio.max(), "mean_ess": g.ess.mean(),
                        "sets": g.size()}).reset_index()
    narrow = out.width_ratio < RECOVERED
    out["verdict"] = np.where(narrow & (out.coverage90 >= COVERAGE), "recovered",
                              np.where(narrow, "overconfident (narrow but misses the truth)",
                                       "not recovered (prior-wide)"))
    return out


def mean_correlations(table: pd.DataFrame, threshold: float = 0.3) -> pd.DataFrame:
    """Posterior correlations averaged over the sets, pairs with |mean r| >= threshold."""
    pairs: dict[tuple[str, str], list[float]] = {}
    for r in table.itertuples():
        for other, value in json.loads(r.correlations).items():
            if r.parameter < other:
                pairs.setdefault((r.parameter, other), []).append(value)
    rows = [{"a": a, "b": b, "mean_r": float(np.nanmean(v))} for (a, b), v in pairs.items()
            if abs(np.nanmean(v)) >= threshold]
    return pd.DataFrame(rows, columns=["a", "b", "mean_r"]).sort_values(
        "mean_r", key=abs, ascending=False, ignore_index=True)


def report(summary: dict, params: pd.DataFrame, corr: pd.DataFrame) -> str:
    md = calibrate._md
    return "\n".join([
        "# Recovery study", "",
        f"{summary['n_sets']} parameter sets drawn from the prior; for each, one simulated study gave "
        f"synthetic targets ({', '.join(summary['targets'])}) and an ABC-SMC calibration "
        f"(population {summary['population']}, at most {summary['studies_per_set']} studies) tried to find "
        f"the truth again{first_text(summary)}. Windows x{summary['months_scale']:g}. {summary['minutes']:.1f} min in all. Width ratio: posterior 90% interval / prior "
        f"90% interval (z-space). *Recovered*: mean width ratio below {RECOVERED} and coverage of at "
        f"least {COVERAGE}; *overconfident*: narrower, but the intervals miss the truth too often (too few "
        "particles: the effective sample size is in the table); otherwise *not recovered*. A calibrated "
        "90% interval covers the truth in about 90% of sets.", "",
        md(params), "",
        *([f"**Caution:** the mean effective sample size of the final populations is "
           f"{params.mean_ess.min():.0f}; below 50 the intervals are too noisy for these verdicts to mean "
           "much. Run with a larger --population and --max-studies.", ""]
          if params.mean_ess.min() < 50 else []),
        "## Posterior correlations (mean over sets, |r| >= 0.3): combinations the targets fix", "",
        md(corr) if len(corr) else "None.", ""])


def first_text(summary: dict) -> str:
    first = summary.get("first") or {}
    return "".join(f", `{name}` fitted first to {', '.join(f'`{t}`' for t in targets)} alone, as the "
                   "calibration does" for name, targets in first.items())


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sets", type=int, default=10)
    ap.add_argument("--population", type=int, default=100)
    ap.add_argument("--max-studies", type=int, default=1000)
    ap.add_argument("--acceptor", choices=("distance", "stochastic"), default="distance")
    ap.add_argument("--transition", choices=tuple(calibrate.TRANSITIONS), default=calibrate.DEFAULT.transition)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--results-dir", default="results")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--months-scale", type=float, default=1.0,
                    help="< 1 shortens every window (cheaper, less informative studies)")
    args = ap.parse_args(argv)
    settings = calibrate.QUICK if args.quick else replace(
        calibrate.DEFAULT, population=args.population, max_studies=args.max_studies)
    settings = replace(settings, acceptor=args.acceptor, transition=args.transition,
                       months_scale=settings.months_scale if args.quick else args.months_scale)
    sets = 2 if args.quick else args.sets
    spec = load_yaml(TARGETS_FILE)
    measured, calib = calibrate.fitted_targets(spec, active_only=True)
    prior = calibrate.load_prior()
    design = Design.from_targets(spec, settings.months_scale)
    out = store.new_results_dir(Path(args.results_dir), "recovery")
    start = time.time()
    print(f"recovery: {sets} sets, {len(prior.names)} parameters, {len(calib)} targets -> {out}", flush=True)
    carried = calibrate.load_prior(section=("carried",)).without(prior.names)
    table = recover(sim.Params(), prior, design, calib, settings, sets, out, args.workers, args.seed, carried,
                    calibrate.first_spec())
    params, corr = per_parameter(table), mean_correlations(table)
    summary = {"out": str(out), "n_sets": sets, "months_scale": settings.months_scale, "targets": [t["name"] for t in calib],
               "first": calibrate.first_spec(),
               "population": settings.population, "studies_per_set": settings.max_studies,
               "minutes": (time.time() - start) / 60, "per_parameter": params.to_dict(orient="records"),
               "correlations": corr.to_dict(orient="records")}
    table.to_csv(out / "recovery.csv", index=False)
    store.write_json(out / "summary.json", summary)
    (out / "report.md").write_text(report(summary, params, corr))
    print(f"done in {summary['minutes']:.1f} min: {out / 'report.md'}", flush=True)
    return summary


if __name__ == "__main__":
    main()
