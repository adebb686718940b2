"""Compare ABC-SMC proposal kernels and acceptors on one small, real budget (docs/calibration.md, *Weights*).

    python -m experiments.sampler_comparison --runs mvn/distance local/distance mvn/stochastic
    python -m experiments.sampler_comparison --population 150 --max-studies 1500 --months-scale 0.25

Each run calibrates the same active targets from the same seed with ``experiments.calibrate.abc_smc``
and one worker, and is reported by what decides whether a posterior is usable: the effective sample
size (ESS) of every generation's weights, the acceptance rate, the studies spent, and how much
narrower than the prior each parameter's 95% interval ends (width ratio, z-space). Writes
``results/samplers-<unique>/`` (generations.csv, narrowing.csv, report.md, one history per run; a
stopped comparison continues with ``--out`` on the same directory).
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

import sim
from experiments import calibrate, store
from experiments.study import TARGETS_FILE, Design, load_yaml


def compare(runs: list[str], settings: calibrate.Settings, out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One calibration per ``transition/acceptor``: (generations table, width ratios per parameter)."""
    logging.getLogger("ABC").setLevel(logging.WARNING)
    spec = load_yaml(TARGETS_FILE)
    _, calib = calibrate.fitted_targets(spec, active_only=True)
    prior = calibrate.load_prior()
    model = calibrate.StudyModel(sim.Params(), prior, Design.from_targets(spec, settings.months_scale),
                                 tuple(calib))
    gens, widths = [], {}
    for run in runs:
        kernel, acceptor = run.split("/")
        start = time.time()
        history = calibrate.abc_smc(model, out / f"{kernel}-{acceptor}.db",
                                    replace(settings, transition=kernel, acceptor=acceptor),
                                    settings.population, settings.max_studies, workers=1, label=run)
        table = calibrate.generations_table(history)
        gens.append(table.assign(run=run, total_studies=history.total_nr_simulations))
        widths[run] = calibrate.posterior_table(prior, *calibrate.final_sample(history, prior)
                                                ).set_index("parameter").width_ratio
        print(f"  {run}: {history.total_nr_simulations} studies, {time.time() - start:.0f} s, ESS "
              + " ".join(f"{e:.0f}" for e in table.ess), flush=True)
    return pd.concat(gens, ignore_index=True), pd.DataFrame(widths)


def report(gens: pd.DataFrame, widths: pd.DataFrame, settings: calibrate.Settings) -> str:
    last = gens.groupby("run", sort=False).tail(1).set_index("run")
    runs = gens.groupby("run", sort=False)
    summary = pd.DataFrame({
        "studies": runs.total_studies.first(), "generations": runs.size(),
        "ess_share_after_0": runs.apply(lambda d: d.ess_share[d.t > 0].min(), include_groups=False),
        "final_ess": last.ess, "final_epsilon": last.epsilon, "final_acceptance": last.acceptance,
        "median_width_ratio": widths.median(), "params_below_0.8": (widths < calibrate.WEAK).sum(),
    }).rename_axis("run").reset_index()
    md = calibrate._md
    return "\n".join([
        "# ABC-SMC proposal kernels and acceptors on one budget", "",
        f"Population {settings.population}, at most {settings.max_studies} studies, windows "
        f"x{settings.months_scale:g}, seed {settings.seed}, one worker. ess_share_after_0: the lowest "
        "ESS / population of the generations after the first; studies include the first scale (or "
        "temperature) sample; epsilon is the tolerance, or for the stochastic acceptor the temperature "
        "(exact inference at 1). Width ratio: posterior 95% interval / "
        "prior 95% interval (z-space); at low ESS it is noise.", "",
        md(summary), "", "## Every generation", "",
        md(gens[["run", "t", "epsilon", "studies", "acceptance", "ess", "ess_share"]]), "",
        "## Width ratio per parameter", "", md(widths.reset_index()), ""])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", nargs="+", default=["mvn/distance", "local/distance"],
                    help=f"transition/acceptor pairs; transitions: {', '.join(calibrate.TRANSITIONS)}")
    ap.add_argument("--population", type=int, default=150)
    ap.add_argument("--max-studies", type=int, default=1500)
    ap.add_argument("--months-scale", type=float, default=0.25)
    ap.add_argument("--seed", type=int, default=calibrate.DEFAULT.seed)
    ap.add_argument("--out", type=Path, help="run in (or continue) this directory")
    args = ap.parse_args(argv)
    settings = replace(calibrate.DEFAULT, population=args.population, max_studies=args.max_studies,
                       months_scale=args.months_scale, seed=args.seed)
    out = args.out or store.new_results_dir(Path("results"), "samplers")
    out.mkdir(parents=True, exist_ok=True)
    gens, widths = compare(args.runs, settings, out)
    gens.to_csv(out / "generations.csv", index=False)
    widths.to_csv(out / "narrowing.csv")
    (out / "report.md").write_text(report(gens, widths, settings))
    print(f"-> {out / 'report.md'}", flush=True)


if __name__ == "__main__":
    main()
