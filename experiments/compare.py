"""Compare scenarios: ``python -m experiments.compare RESULTS_DIR [--reference baseline]``.

RESULTS_DIR is a sweep directory (with ``runs.parquet``), or a results directory, whose latest
sweep is then used. A sweep that did not finish (no completion marker), an unknown reference, a
reference scenario the sweep lacks, or a broken or empty table is an error in one line: nothing
is written, and an older sweep is never used instead.

For every outcome of ``sim.OUTCOMES`` and every scenario it writes, under
``RESULTS_DIR/comparison/``:

- ``means.csv``: mean and 95% interval (t-interval over seeds) per scenario;
- ``differences.csv``: the *paired* difference to the reference scenario over the seeds both
  ran (same seed = same exogenous world), with its 95% interval;
- ``comparison.md``: both as tables, one per headline group;
- ``<headline>.png``: one figure per headline outcome group (alertness, fear, follow-up,
  stigmatisation) showing the paired differences, and ``overview.png``: every outcome's means.

Runs are compared within one setting (case, calibration and run length); a sweep over several
cases gets one set of tables and figures per case.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.special import stdtrit

import sim
from experiments import store
from sim.outcomes import MIN_EVENTS

SETTING = ["case", "calibration", "days"]
DONE = ("ok", "cached")
OUTCOME = {o.name: o for o in sim.OUTCOMES}
TOO_FEW = "too few events"
GROUPS = {**sim.HEADLINE, "other": [o.name for o in sim.OUTCOMES if o.headline is None]}


def latest_sweep(results: Path) -> Path:
    """The sweep started last under ``results/sweeps/`` (finished or not)."""
    sweeps = [p.parent for p in (results / "sweeps").glob("*/provenance.json")]
    if not sweeps:
        raise SystemExit(f"no runs.parquet in {results} and no sweep in {results / 'sweeps'}/")
    return max(sweeps, key=lambda p: (p.name[:19], (p / "provenance.json").stat().st_mtime))


def load_runs(path: Path) -> tuple[pd.DataFrame, Path]:
    """The completed runs of a finished sweep, and the sweep directory they came from."""
    if not (path / "runs.parquet").exists() and not (path / "provenance.json").exists():
        path = latest_sweep(path)
    missing = store.missing_runs(path)
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise SystemExit(f"sweep {path} is incomplete: {len(missing)} run(s) have no record "
                         f"({'; '.join(missing[:5])}{more}); run its command again to finish it "
                         "(completed runs are cached)")
    if missing is not None:
        raise SystemExit(f"sweep {path} is incomplete: its tables were not finished (no "
                         f"{store.COMPLETE}); run its command again")
    table = path / "runs.parquet"
    try:
        runs = pd.read_parquet(table)
    except Exception as error:  # noqa: BLE001 - whatever pyarrow finds wrong, name the file
        raise SystemExit(f"cannot read {table}: {type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else ''}") from None
    lacking = [c for c in (*SETTING, "scenario", "seed", "status", *sim.OUTCOME_NAMES)
               if c not in runs.columns]
    if lacking:
        raise SystemExit(f"{table} lacks the column(s) {lacking}")
    if runs.empty:
        raise SystemExit(f"{table} has no runs")
    return runs[runs["status"].isin(DONE)], path


def check_reference(runs: pd.DataFrame, reference: str, sweep: Path) -> None:
    """The reference scenario must have completed runs in every setting of the sweep."""
    have = ", ".join(scenario_order(runs["scenario"].unique(), reference))
    if reference not in set(runs["scenario"]):
        what = "reference scenario" if reference in sim.SCENARIOS else "unknown reference scenario"
        raise SystemExit(f"{what} {reference!r}: no completed runs of it in {sweep} (it has: {have}); "
                         "choose one with --reference")
    for key, group in runs.groupby(SETTING, sort=False):
        if reference not in set(group["scenario"]):
            raise SystemExit(f"reference scenario {reference!r} has no completed runs for "
                             f"{setting_label(key)} in {sweep}")


def interval(values: Sequence[float]) -> tuple[int, float, float, float]:
    """n, mean and 95% t-interval of the finite values (no interval below two values)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return 0, np.nan, np.nan, np.nan
    mean = float(x.mean())
    if n == 1:
        return 1, mean, np.nan, np.nan
    half = float(stdtrit(n - 1, 0.975) * x.std(ddof=1) / np.sqrt(n))
    return n, mean, mean - half, mean + half


def scenario_order(scenarios: Sequence[str], reference: str) -> list[str]:
    """Reference first, then the order of sim.SCENARIOS, then any others."""
    known = [reference, *(s for s in sim.SCENARIOS if s != reference)]
    present = set(scenarios)
    return [s for s in known if s in present] + sorted(present - set(known))


def scenario_means(runs: pd.DataFrame) -> pd.DataFrame:
    """Per setting, outcome and scenario: n, mean and 95% interval."""
    rows = []
    for key, group in runs.groupby(SETTING + ["scenario"], sort=False):
        for name in sim.OUTCOME_NAMES:
            n, mean, lo, hi = interval(group[name])
            rows.append({**dict(zip(SETTING + ["scenario"], key)), "outcome": name,
                         "headline": OUTCOME[name].headline, "n": n, "mean": mean, "lo": lo, "hi": hi})
    return pd.DataFrame(rows)


def paired_differences(runs: pd.DataFrame, reference: str = "baseline") -> pd.DataFrame:
    """Per setting, outcome and scenario: mean and 95% interval of (scenario - reference) over
    the seeds both ran; seeds where either value is missing (NaN) are left out."""
    rows = []
    for key, group in runs.groupby(SETTING, sort=False):
        if reference not in set(group["scenario"]):
            continue
        for name in sim.OUTCOME_NAMES:
            wide = group.pivot_table(index="seed", columns="scenario", values=name, aggfunc="first",
                                     dropna=False)
            for scenario in scenario_order(list(wide.columns), reference):
                n, diff, lo, hi = interval(wide[scenario] - wide[reference])
                rows.append({**dict(zip(SETTING, key)), "outcome": name,
                             "headline": OUTCOME[name].headline, "scenario": scenario,
                             "reference": reference, "n_pairs": n, "difference": diff,
                             "lo": lo, "hi": hi})
    return pd.DataFrame(rows)


# --- tables -------------------------------------------------------------------------------------
def fmt(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{x:.3g}"


def cell(mean: float, lo: float, hi: float, signed: bool = False) -> str:
    head = f"{mean:+.3g}" if signed and np.isfinite(mean) else fmt(mean)
    return head if not np.isfinite(lo) else f"{head} [{fmt(lo)}, {fmt(hi)}]"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def events(m: pd.DataFrame, scenario: str, name: str) -> float:
    """Events behind a count outcome over all seeds of a scenario (inf for other outcomes)."""
    if not OUTCOME[name].counts_events:
        return float("inf")
    n, mean = m.loc[(scenario, name), ["n", "mean"]]
    return float(n * mean) if np.isfinite(mean) else 0.0


def group_table(means: pd.DataFrame, diffs: pd.DataFrame, names: list[str], reference: str) -> str:
    """Rows: scenarios. The reference row gives levels; the others give paired differences.

    A count outcome with fewer than ``MIN_EVENTS`` events (in the scenario, or in the scenario and
    the reference together) shows "too few events".
    """
    m = means.set_index(["scenario", "outcome"])
    d = diffs.set_index(["scenario", "outcome"]) if len(diffs) else None
    rows = []
    for scenario in scenario_order(means["scenario"].unique(), reference):
        if d is None or scenario == reference:
            label = f"**{scenario}** (mean)" if d is not None else scenario
            rows.append([label] + [TOO_FEW if events(m, scenario, n) < MIN_EVENTS else
                                   cell(*m.loc[(scenario, n), ["mean", "lo", "hi"]]) for n in names])
        elif (scenario, names[0]) in d.index:
            rows.append([f"{scenario} − {reference}"] +
                        [TOO_FEW if events(m, scenario, n) + events(m, reference, n) < MIN_EVENTS else
                         cell(*d.loc[(scenario, n), ["difference", "lo", "hi"]], signed=True)
                         for n in names])
    return markdown_table(["scenario", *names], rows)


def markdown(means: pd.DataFrame, diffs: pd.DataFrame, reference: str, source: Path,
             groups: Sequence[str] = tuple(GROUPS)) -> str:
    parts = [f"# Scenario comparison\n\nRuns: `{source}`. Each cell: mean and 95% interval over "
             f"seeds. The **{reference}** row gives levels; every other row gives the *paired* "
             f"difference scenario − {reference} over the seeds both ran (same seed = same "
             f"exogenous world). “–”: not defined (e.g. no events to take a share of). “{TOO_FEW}”: a "
             f"count with fewer than {MIN_EVENTS} events over the seeds compared (see "
             f"docs/experiments.md for how many neighbourhood-years an outcome needs)."]
    for key, m in means.groupby(SETTING, sort=False):
        d = diffs[(diffs[SETTING] == pd.Series(key, index=SETTING)).all(axis=1)] if len(diffs) else diffs
        n = int(m["n"].max())
        parts.append(f"## {setting_label(key)}, up to {n} seeds per scenario")
        for group in groups:
            parts.append(f"### {group}\n\n" + group_table(m, d, GROUPS[group], reference) + "\n\n" +
                         "\n".join(f"- `{name}`: {OUTCOME[name].doc}" for name in GROUPS[group]))
    return "\n\n".join(parts) + "\n"


def setting_label(key: Sequence) -> str:
    case, calibration, days = key
    return f"case {case}, calibration {calibration}, {days} days"


# --- figures ------------------------------------------------------------------------------------
def wrap(text: str, width: int = 38) -> str:
    return "\n".join(textwrap.wrap(text, width))


def grid(n: int, columns: int, size: tuple[float, float]) -> tuple[Figure, list]:
    rows = -(-n // columns)
    fig = Figure(figsize=(size[0] * columns, size[1] * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, list(axes[:n])


def dot_whisker(ax, labels: list[str], mean, lo, hi, highlight=None) -> None:
    y = np.arange(len(labels))[::-1]
    mean, lo, hi = (np.asarray(v, dtype=float) for v in (mean, lo, hi))
    err = np.vstack([mean - lo, hi - mean])
    colours = ["tab:red" if (highlight is not None and highlight[i]) else "tab:blue"
               for i in range(len(labels))]
    for i in range(len(labels)):
        ax.errorbar(mean[i], y[i], xerr=np.nan_to_num(err[:, i:i + 1]), fmt="o", color=colours[i],
                    capsize=3, markersize=5)
    ax.set_yticks(y, labels)
    ax.grid(axis="x", alpha=0.3)


def headline_figure(diffs: pd.DataFrame, means: pd.DataFrame, group: str, key: Sequence,
                    reference: str) -> Figure:
    """Paired differences to the reference, one panel per outcome of the headline group."""
    names = GROUPS[group]
    columns = 2 if len(names) == 4 else min(3, len(names))
    fig, axes = grid(len(names), columns, (5.2, 0.45 * diffs["scenario"].nunique() + 1.6))
    ref = means[means["scenario"] == reference].set_index("outcome")
    for ax, name in zip(axes, names):
        d = diffs[(diffs["outcome"] == name) & (diffs["scenario"] != reference)]
        d = d.set_index("scenario").loc[scenario_order(d["scenario"], reference)]
        significant = ((d["lo"] > 0) | (d["hi"] < 0)).to_numpy()
        dot_whisker(ax, list(d.index), d["difference"], d["lo"], d["hi"], highlight=significant)
        ax.axvline(0, color="black", linewidth=1)
        ax.set_title(wrap(OUTCOME[name].doc), fontsize=10)
        ax.set_xlabel(f"{name}: change vs {reference}\n({reference} mean {fmt(ref.loc[name, 'mean'])})",
                      fontsize=9)
    n = int(diffs["n_pairs"].max())
    fig.suptitle(f"{group.capitalize()}: each scenario minus {reference}, mean and 95% interval over "
                 f"{n} paired seeds\n{setting_label(key)}; red = interval excludes 0", fontsize=12)
    return fig


def overview_figure(means: pd.DataFrame, key: Sequence, reference: str) -> Figure:
    """Small multiples: every outcome's scenario means with 95% intervals."""
    names = [n for g in GROUPS.values() for n in g]
    fig, axes = grid(len(names), 5, (4.0, 0.32 * means["scenario"].nunique() + 1.4))
    for ax, name in zip(axes, names):
        m = means[means["outcome"] == name].set_index("scenario")
        m = m.loc[scenario_order(m.index, reference)]
        is_ref = (m.index == reference)
        dot_whisker(ax, list(m.index), m["mean"], m["lo"], m["hi"], highlight=is_ref)
        if is_ref.any() and np.isfinite(m.loc[reference, "mean"]):
            ax.axvline(m.loc[reference, "mean"], color="tab:red", linewidth=0.8, linestyle="--")
        group = OUTCOME[name].headline or "other"
        ax.set_title(f"[{group}] {name}\n{wrap(OUTCOME[name].doc, 44)}", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(f"All outcomes: scenario means and 95% intervals over seeds; {setting_label(key)}; "
                 f"red = {reference}", fontsize=12)
    return fig


# --- command line -------------------------------------------------------------------------------
def compare(source: Path, reference: str = "baseline", out: Path | None = None) -> str:
    """Write the tables, figures and report of ``source``'s runs; return the text scorecard."""
    runs, sweep = load_runs(source)
    if runs.empty:
        raise SystemExit(f"no completed runs in {sweep}")
    check_reference(runs, reference, sweep)
    out = out or sweep / ("comparison" if reference == "baseline" else f"comparison_vs_{reference}")
    out.mkdir(parents=True, exist_ok=True)
    means, diffs = scenario_means(runs), paired_differences(runs, reference)
    means.to_csv(out / "means.csv", index=False)
    diffs.to_csv(out / "differences.csv", index=False)
    (out / "comparison.md").write_text(markdown(means, diffs, reference, sweep))
    many = runs[SETTING].drop_duplicates().shape[0] > 1
    for key, m in means.groupby(SETTING, sort=False):
        suffix = "_" + "_".join(map(str, key)) if many else ""
        overview_figure(m, key, reference).savefig(out / f"overview{suffix}.png", dpi=110)
        d = diffs[(diffs[SETTING] == pd.Series(key, index=SETTING)).all(axis=1)] if len(diffs) else diffs
        if len(d):
            for group in sim.HEADLINE:
                headline_figure(d[d["outcome"].isin(GROUPS[group])], m, group, key, reference).savefig(
                    out / f"{group}{suffix}.png", dpi=110)
    posterior = None
    if (runs["calibration"] == "posterior").any():   # effects over the posterior draws (issue 12)
        from experiments import posterior_effects
        posterior = posterior_effects.effects(runs, reference)
        posterior_effects.write(posterior, out)
    from experiments import report  # the decision maker's page and the text scorecard
    return report.write(sweep, out, means, diffs, reference, posterior)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m experiments.compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results_dir", type=Path, help="a sweep directory or a results directory")
    parser.add_argument("--reference", default="baseline", help="scenario to compare against")
    parser.add_argument("--out", type=Path, help="output directory (default RESULTS_DIR/comparison, "
                        "or comparison_vs_<reference>)")
    args = parser.parse_args(argv)
    print(compare(args.results_dir, args.reference, args.out))


if __name__ == "__main__":
    main()
