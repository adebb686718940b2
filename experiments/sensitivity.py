"""Global sensitivity of the headline outcomes to the model's parameters (Morris elementary effects).

    python -m experiments.sensitivity            # default: a few minutes on 2 cores
    python -m experiments.sensitivity --quick    # CI smoke run: well under a minute

Every numeric parameter of sim.Params (except the neighbourhood's size) is varied by the Morris
method (SALib; Morris 1991, Campolongo et al. 2007) around the calibrated preset
(sim/calibrated.yaml, or the defaults if there is none): calibrated parameters over their
prior (conf/targets/priors.yaml), every other over half to twice its value within its allowed range
(the full range when the value is 0). Switches (booleans, rules) are scenarios, not assumptions, and are
left out. All runs share their seeds (common random numbers), so an elementary effect is the effect of
the parameter, not of a different world. Writes ``results/sensitivity-<unique>/`` (morris.csv,
ranking.md, sensitivity.png) and, in default mode, conf/sensitivity/top_parameters.yaml for the
workshop app. See docs/calibration.md.
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import yaml
from SALib.analyze import morris as morris_analyze
from SALib.sample import morris as morris_sample

import sim
from experiments import cli, store
from experiments.study import CONF, PRIORS_FILE, load_yaml
from sim.params import FIELDS

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PRESET_FILE = sim.params.CALIBRATED_FILE
TOP_FILE = CONF / "sensitivity" / "top_parameters.yaml"
EXCLUDED = ("n_households",)   # the size of the neighbourhood is the unit of analysis, not an assumption
# One representative outcome per headline (the first one that is defined in every run is used).
REPRESENTATIVE = {"alertness": ["alertness_members", "offences_signalled_share"],
                  "fear": ["fear_members", "feels_unsafe_share"],
                  "follow-up": ["follow_up_share", "reports_per_month"],
                  "stigmatisation": ["innocent_signal_share", "wrongful_confrontations"]}


@dataclass(frozen=True)
class Settings:
    trajectories: int = 12
    levels: int = 4
    households: int = 1000
    days: int = 365
    seeds: tuple[int, ...] = (1, 2)     # replicate worlds; every run uses all of them (averaged)
    top: int = 8                         # parameters per headline in top_parameters.yaml


DEFAULT = Settings()
QUICK = Settings(trajectories=4, households=300, days=90, seeds=(1,))


def base_params(which: str = "calibrated") -> tuple[sim.Params, str]:
    """The point the analysis varies around: the calibrated preset if there is one, else defaults."""
    if which == "calibrated" and PRESET_FILE.exists():
        return sim.Params().replace(**load_yaml(PRESET_FILE)), str(PRESET_FILE.relative_to(CONF.parent))
    return sim.Params(), "sim.Params defaults"


def problem(base: sim.Params, names: list[str] | None = None) -> dict:
    """SALib problem: the varied parameters and their bounds."""
    priors = load_yaml(PRIORS_FILE)["params"]
    numeric = [n for n, f in FIELDS.items() if f.type in ("int", "float", int, float) and n not in EXCLUDED]
    names = names or numeric
    bounds = []
    for n in names:
        lo, hi = FIELDS[n].metadata["range"]
        value = getattr(base, n)
        if n in priors:
            a, b = priors[n]["low"], priors[n]["high"]
        elif value == 0:
            a, b = lo, hi
        else:
            a, b = max(lo, value / 2), min(hi, value * 2)
        bounds.append([float(a), float(b)])
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def _run(job) -> dict[str, float]:
    base, names, row, settings = job
    values = {}
    for n, x in zip(names, row):
        values[n] = int(round(x)) if FIELDS[n].type in ("int", int) else float(x)
    params = base.replace(n_households=settings.households, **values)
    results = []
    for seed in settings.seeds:
        model = sim.NeighbourhoodWatch(params, seed=seed, with_space=False)
        model.run_days(settings.days)
        results.append(model.summary())
    return {k: float(np.mean([r[k] for r in results])) for k in results[0]}


def analyse(base: sim.Params, settings: Settings, workers: int, names: list[str] | None = None,
            rng_seed: int = 7) -> tuple[pd.DataFrame, dict[str, str]]:
    """Morris indices of every headline outcome; and the representative outcome per headline."""
    prob = problem(base, names)
    X = morris_sample.sample(prob, settings.trajectories, num_levels=settings.levels, seed=rng_seed)
    jobs = [(base, prob["names"], row, settings) for row in X]
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            runs = list(pool.map(_run, jobs, chunksize=max(1, len(jobs) // (8 * workers))))
    else:
        runs = [_run(j) for j in jobs]
    Y = pd.DataFrame(runs)
    tables = []
    for outcome in [o for h in sim.HEADLINE.values() for o in h]:
        y = Y[outcome].to_numpy()
        if not np.all(np.isfinite(y)):
            continue   # undefined in some run (e.g. a share of zero reports): not analysed
        res = morris_analyze.analyze(prob, X, y, num_levels=settings.levels, seed=rng_seed)
        t = pd.DataFrame({"parameter": prob["names"], "mu_star": res["mu_star"], "mu_star_conf":
                          res["mu_star_conf"], "sigma": res["sigma"], "mu": res["mu"]})
        t["mu_star_normalised"] = t.mu_star / t.mu_star.max() if t.mu_star.max() > 0 else 0.0
        t["rank"] = t.mu_star.rank(ascending=False, method="min").astype(int)
        t.insert(0, "outcome", outcome)
        t.insert(0, "headline", next(h for h, os_ in sim.HEADLINE.items() if outcome in os_))
        tables.append(t.sort_values("rank"))
    table = pd.concat(tables, ignore_index=True)
    analysed = set(table.outcome)
    rep = {h: next((o for o in opts if o in analysed), None) for h, opts in REPRESENTATIVE.items()}
    return table, {h: o for h, o in rep.items() if o}


def top_parameters(table: pd.DataFrame, rep: dict[str, str], top: int) -> dict:
    by_headline = {}
    for h, o in rep.items():
        t = table[table.outcome == o].head(top)
        by_headline[h] = {"outcome": o, "parameters": [
            {"name": r.parameter, "mu_star_normalised": round(float(r.mu_star_normalised), 3)}
            for r in t.itertuples()]}
    reps = table[table.outcome.isin(rep.values())]
    overall = reps.groupby("parameter").mu_star_normalised.mean().sort_values(ascending=False).head(top)
    return {"overall": [{"name": n, "score": round(float(v), 3)} for n, v in overall.items()],
            "by_headline": by_headline}


def write_top(path: Path, ranking: dict, settings: Settings, base_label: str, elapsed: float) -> None:
    header = [
        "# The parameters that matter most, per headline outcome: for the workshop app to offer as",
        "# sliders. Written by `python -m experiments.sensitivity` on "
        f"{dt.date.today().isoformat()}; do not edit by hand.",
        f"# Method: Morris elementary effects (SALib), {settings.trajectories} trajectories x "
        f"{settings.levels} levels, {settings.households} households x {settings.days} days, seeds "
        f"{list(settings.seeds)} (common random numbers), around {base_label}; {elapsed:.1f} min.",
        "# Score: mu* (mean absolute elementary effect) divided by the largest mu* for that outcome;",
        "# `overall` averages it over the four representative outcomes. See docs/calibration.md.",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(header) + "\n" + yaml.safe_dump(ranking, sort_keys=False))


def plot(path: Path, table: pd.DataFrame, rep: dict[str, str], n: int = 12) -> None:
    fig, axes = plt.subplots(1, len(rep), figsize=(4.2 * len(rep), 4.8))
    for ax, (h, o) in zip(np.atleast_1d(axes), rep.items()):
        t = table[table.outcome == o].head(n)[::-1]
        scale = table[table.outcome == o].mu_star.max() or 1.0
        ax.barh(t.parameter, t.mu_star / scale, xerr=t.mu_star_conf / scale, color="tab:blue", alpha=0.8)
        ax.set_title(f"{h}: {o}", fontsize=9)
        ax.set_xlabel("mu* / max mu*", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle("Morris sensitivity: parameters ranked per headline outcome", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(table: pd.DataFrame, rep: dict[str, str], ranking: dict, settings: Settings, base_label: str,
             elapsed: float, n: int = 10) -> str:
    lines = ["# Sensitivity of the headline outcomes (Morris)", "",
             f"{settings.trajectories} trajectories x {settings.levels} levels over "
             f"{table.parameter.nunique()} parameters, {settings.households} households x {settings.days} "
             f"days, seeds {list(settings.seeds)}, around {base_label}. Run time {elapsed:.1f} min.",
             "mu*: mean absolute elementary effect (in the outcome's unit, over the parameter's range); "
             "sigma: its spread (interactions / non-linearity). All outcomes: morris.csv.", "",
             "Overall (mean normalised mu* over the four representative outcomes): "
             + ", ".join(f"{p['name']} ({p['score']})" for p in ranking["overall"]), "",
             "![sensitivity](sensitivity.png)", ""]
    for h, o in rep.items():
        t = table[table.outcome == o].head(n)[["rank", "parameter", "mu_star", "mu_star_conf", "sigma"]]
        lines += [f"## {h}: `{o}`", "", "| rank | parameter | mu* | 95% conf | sigma |", "|---|---|---|---|---|"]
        lines += [f"| {r.rank} | {r.parameter} | {r.mu_star:.3g} | {r.mu_star_conf:.2g} | {r.sigma:.3g} |"
                  for r in t.itertuples()]
        lines.append("")
    return "\n".join(lines)


def run(settings: Settings, out_root: Path, write_conf: bool, workers: int, base: str = "calibrated",
        names: list[str] | None = None) -> dict:
    start = time.time()
    params, base_label = base_params(base)
    out = store.new_results_dir(out_root, "sensitivity")
    n_runs = (len(problem(params, names)["names"]) + 1) * settings.trajectories
    print(f"Morris: {n_runs} runs x {len(settings.seeds)} seeds -> {out}", flush=True)
    table, rep = analyse(params, settings, workers, names)
    elapsed = (time.time() - start) / 60
    ranking = top_parameters(table, rep, settings.top)
    table.to_csv(out / "morris.csv", index=False)
    plot(out / "sensitivity.png", table, rep)
    (out / "ranking.md").write_text(markdown(table, rep, ranking, settings, base_label, elapsed))
    top_path = TOP_FILE if write_conf else out / "top_parameters.yaml"
    write_top(top_path, ranking, settings, base_label, elapsed)
    print(f"done in {elapsed:.1f} min: {out / 'ranking.md'}; ranking {top_path}", flush=True)
    return {"out": out, "table": table, "representative": rep, "ranking": ranking, "elapsed_minutes": elapsed,
            "top_file": top_path}


def main(argv: list[str] | None = None) -> dict:
    ap = cli.parser(__doc__.split("\n\n")[0], "conf/sensitivity/top_parameters.yaml")
    ap.add_argument("--trajectories", type=int, default=None, help="Morris trajectories (default 12)")
    ap.add_argument("--seeds", type=int, default=None, help="replicate worlds per run (default 2)")
    ap.add_argument("--base", choices=("calibrated", "defaults"), default="calibrated")
    args = ap.parse_args(argv)
    settings = QUICK if args.quick else DEFAULT
    if args.trajectories:
        settings = replace(settings, trajectories=args.trajectories)
    if args.seeds:
        settings = replace(settings, seeds=tuple(range(1, args.seeds + 1)))
    return run(settings, Path(args.results_dir), cli.writes_conf(args), args.workers, args.base)


if __name__ == "__main__":
    main()
