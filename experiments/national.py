"""The national run: every Dutch WhatsApp neighbourhood group for a year, under one or more scenarios.

    python -m experiments.national [scenario=officer_in_group] [population.groups=1000] [batches=auto]
    python -m experiments.national scenario=baseline,officer_in_group      # paired comparison

A synthetic population of groups is drawn from ``conf/national.yaml`` (number of groups, sizes with
WhatsApp's cap, coverage by region, between-neighbourhood spread of incident rates; each value's
source is given there). Group *g* always has the same size, region, rates and seed, so scenarios
are compared on common random numbers, group by group. The work is split into ``batches`` Hydra
jobs per scenario (group *g* is in batch ``g % batches``; ``auto``: one per worker of the
launcher, none under 500 groups, as a Hydra job costs a few tenths of a CPU-second); each job
writes one self-checking store entry (``experiments.store``), keyed by everything it depends on,
so a killed run resumes where it stopped, a damaged entry is named and recomputed, and any
launcher (forked, joblib, submitit_local, submitit_slurm) gives the same results. At the end the
batches are read back into ``groups.parquet``, national and per-region totals, distributions and,
with several scenarios, the paired differences to ``reference``; the last line reads
``national: <N> groups in <S> s``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import pandas as pd
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf
from scipy.special import stdtrit

import sim
from experiments import store
from sim.params import FIELDS
from experiments.schema import ParamsConf, check_run

CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")
FORMAT = 3  # version of a batch entry's layout; part of its key (3: Arrow table)
TABLE = "groups"   # a batch entry's table: one row per group
GROUPS_PER_BATCH = 500   # batches=auto: no batch smaller than this, unless there are more workers

# What a national table reports per group-year: (outcome, how it adds up across groups).
NATIONAL_OUTCOMES = {
    "reports_from_group_per_month": "sum",  # reports from the group to the police (issue 15)
    "police_reports": "sum",            # all reports reaching the police from the neighbourhood
    "reports_per_month": "sum",
    "police_workload": "sum",           # follow-up actions per month
    "arrests": "sum",
    "undesired_episodes": "sum",        # wrongful confrontations + crowds + stigmatising messages left visible
    "false_alarms": "sum",
    "fear_members": "member_mean",      # mean fear of members, weighted by group size
    "feels_unsafe_share": "household_mean",
}
UNDESIRED = ("wrongful_confrontations", "crowds", "stigmatising_messages_visible")


@dataclass
class RegionConf:
    population_share: float
    coverage: float


@dataclass
class PopulationConf:
    seed: int = 0
    groups: int = 9000
    size_median: float = 65.0
    size_sigma: float = 0.35
    size_min: int = 10
    size_cap: int = 256
    rate_spread: float = 0.79
    regions: dict[str, RegionConf] = field(default_factory=dict)


@dataclass
class NationalConf:
    params: ParamsConf = field(default_factory=ParamsConf)  # type: ignore[valid-type]
    population: PopulationConf = field(default_factory=PopulationConf)
    days: int = 365
    results_dir: str = "results"
    runner: str = "sim.run"
    batches: Any = "auto"   # jobs per scenario: an integer, or auto (batch_count)
    batch: int = 0
    reference: str = "baseline"
    seed: int = 0   # unused (each group has its own seed); kept so check_run's checks apply


ConfigStore.instance().store(name="buurtsim_national_schema", node=NationalConf)


# --- the population ---------------------------------------------------------------------------
def draw_population(spec: PopulationConf | DictConfig) -> pd.DataFrame:
    """One row per group: region, members, households, coverage, rate multiplier, seed.

    Groups are shared out over the regions in proportion to population share x coverage (largest
    remainders, so the total is exact); sizes are log-normal, clipped to [size_min, size_cap].
    """
    regions = dict(spec.regions)
    if spec.groups < 1 or not regions:
        raise ValueError("population: needs groups >= 1 and at least one region")
    for name, r in regions.items():
        if not (0 < r.coverage <= 1 and r.population_share > 0):
            raise ValueError(f"population region {name!r}: coverage must be in (0, 1] and "
                             f"population_share > 0")
    if not 1 <= spec.size_min <= spec.size_cap:
        raise ValueError("population: needs 1 <= size_min <= size_cap")
    weight = np.array([r.population_share * r.coverage for r in regions.values()])
    exact = spec.groups * weight / weight.sum()
    count = np.floor(exact).astype(int)
    count[np.argsort(count - exact)[: spec.groups - count.sum()]] += 1
    region = np.repeat(list(regions), count)
    coverage = np.repeat([r.coverage for r in regions.values()], count)

    draw_ss, seed_ss = np.random.SeedSequence(int(spec.seed)).spawn(2)
    rng = np.random.default_rng(draw_ss)
    order = rng.permutation(spec.groups)       # regions interleaved, so every batch samples all
    region, coverage = region[order], coverage[order]
    size = np.exp(np.log(spec.size_median) + spec.size_sigma * rng.standard_normal(spec.groups))
    size = np.clip(np.round(size), spec.size_min, spec.size_cap).astype(int)
    households = np.maximum(np.round(size / coverage), 10).astype(int)
    members = np.minimum(np.round(coverage * households), spec.size_cap).astype(int)
    # assumption: the spread describes neighbourhoods within 3 sigma of the median; beyond that a
    # log-normal tail is an artefact (unclipped, 1 in 370 groups lies beyond 3 sigma: over 11x the
    # rates at sigma 0.79)
    rate = np.exp(spec.rate_spread * np.clip(rng.standard_normal(spec.groups), -3.0, 3.0))
    seeds = seed_ss.generate_state(spec.groups, dtype=np.uint32)
    return pd.DataFrame({"group": np.arange(spec.groups), "region": region, "members": members,
                         "n_households": households, "coverage": coverage, "rate_multiplier": rate,
                         "seed": seeds.astype(np.int64)})


def group_params(base: sim.Params, group: Any) -> sim.Params:
    """The model parameters one group runs under: the composed scenario, its size and its rates.

    The population fixes each group's neighbourhood (households) and its coverage; a scenario that
    changes coverage scales it (``coverage_high`` doubles it, ``no_group`` makes it 0).
    """
    values = base.to_dict()
    scale = base.coverage / FIELDS["coverage"].default
    values.update(n_households=int(group.n_households),
                  coverage=min(1.0, float(group.coverage) * scale))
    for name in ("burglary_rate", "attempted_burglary_rate", "vehicle_crime_rate", "vandalism_rate",
                 "ambiguous_rate"):
        values[name] *= float(group.rate_multiplier)
    return sim.Params.from_dict(values)


def check_population(base: sim.Params, population: pd.DataFrame) -> None:
    """Every group's parameters are valid (before any run), or an error naming the first that is not."""
    for group in population.itertuples():
        try:
            group_params(base, group)
        except ValueError as error:
            raise ValueError(f"population group {group.group} (rate multiplier {group.rate_multiplier:.3g}, "
                             f"{group.n_households} households): {error}; lower population.rate_spread "
                             "or the scenario's rates") from None


def group_record(summary: dict[str, float]) -> dict[str, float]:
    row = {name: summary[name] for name in NATIONAL_OUTCOMES if name in summary}
    row["undesired_episodes"] = float(sum(summary[u] for u in UNDESIRED))
    return row


# --- one job: a batch of groups -----------------------------------------------------------------
def batch_key(params: dict[str, Any], population: dict[str, Any], batch: int, batches: int,
              days: int, runner: str) -> str:
    payload = {"params": params, "population": population, "batch": batch, "batches": batches,
               "days": days, "runner": runner, "model": store.model_fingerprint(), "format": FORMAT}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


def batch_cache(results_dir: str) -> Path:
    """Where the batches live: store entries (``<key>.json`` + ``<key>.groups.arrow``)."""
    return store.cache_dir(results_dir) / "national"


def batch_done(results_dir: str, key: str, report: bool = True) -> bool:
    """Whether batch ``key`` has a sound entry; a damaged one is named (``report``) and recomputed."""
    return store.cached(batch_cache(results_dir), key, report=report, table=TABLE, fields=())


def read_batch(results_dir: str, key: str) -> pd.DataFrame:
    """The groups of a completed batch, verified against its entry (store.DamagedEntry if not)."""
    cache = batch_cache(results_dir)
    store.load_entry(cache, key, TABLE)
    return store.read_table(cache, key, TABLE).to_pandas()


def batch_count(batches: Any, groups: int, launcher: Any) -> int:
    """``batches``, or for ``auto`` enough jobs to keep every worker of the launcher busy and none
    smaller than GROUPS_PER_BATCH groups (a Hydra job costs a few tenths of a CPU-second, about
    two group-years): on 2 cores 9,000 groups are 18 batches, on a Slurm array of 200, 200."""
    if batches == "auto":
        from experiments.sweep import launcher_workers
        return max(1, min(groups, max(launcher_workers(launcher), -(-groups // GROUPS_PER_BATCH))))
    if isinstance(batches, bool) or not isinstance(batches, int) or batches < 1:
        raise ValueError(f"batches = {batches!r} must be auto or an integer of at least 1")
    return batches


def run_batch(cfg: DictConfig) -> dict[str, Any]:
    """One Hydra job: every ``batches``-th group, from ``batch`` on, under the composed scenario."""
    logging.getLogger("MESA").setLevel(logging.ERROR)
    hc = HydraConfig.get()
    base = check_run(cfg)
    population = OmegaConf.to_container(cfg.population, resolve=True)
    batches = batch_count(cfg.batches, int(cfg.population.groups), hc.launcher)
    key = batch_key(base.to_dict(), population, int(cfg.batch), batches, int(cfg.days), cfg.runner)
    record = {"scenario": hc.runtime.choices["scenario"], "batch": int(cfg.batch), "key": key}
    cache = batch_cache(cfg.results_dir)
    with store.lock(cache, key):  # another national run computing this batch: wait, then reuse it
        if batch_done(cfg.results_dir, key, report=False):  # named before the run started
            return {**record, "status": "cached"}
        simulate = hydra.utils.get_method(cfg.runner)
        groups = draw_population(cfg.population).iloc[int(cfg.batch)::batches]
        rows, start = [], time.process_time()
        for g in groups.itertuples():
            result = simulate(group_params(base, g), seed=int(g.seed), days=int(cfg.days))
            rows.append({"group": g.group, **group_record(result.summary)})
        table = pd.DataFrame(rows, columns=["group", *NATIONAL_OUTCOMES]).astype({"group": int})
        store.save_entry(cache, key, {"scenario": record["scenario"], "batch": record["batch"],
                                      "batches": batches, "groups": len(table),
                                      "cpu_seconds": time.process_time() - start}, table, TABLE)
    return {**record, "status": "ok"}


def job(cfg: DictConfig) -> dict[str, Any]:
    """A failed batch prints its error and returns; the other jobs go on, and the end says which
    batches are missing (run the command again to compute them)."""
    try:
        return run_batch(cfg)
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        return {"batch": int(cfg.batch), "status": "failed"}


# the sweep over batches (conf/national.yaml): batch=range(${national_batches:...})
OmegaConf.register_new_resolver(
    "national_batches", lambda batches, groups, launcher: batch_count(batches, int(groups), launcher),
    replace=True)


# --- the whole run ------------------------------------------------------------------------------
def summarise(groups: pd.DataFrame) -> pd.DataFrame:
    """National totals per scenario (and per region, where a ``region`` column is present)."""
    keys = [c for c in ("scenario", "region") if c in groups]
    rows = []
    for values, g in groups.groupby(keys, sort=False):
        row = {**dict(zip(keys, values)), "groups": len(g), "members": int(g["members"].sum()),
               "households": int(g["n_households"].sum())}
        for name, how in NATIONAL_OUTCOMES.items():
            if how == "sum":
                row[name] = float(g[name].sum())
            else:
                weight = g["members" if how == "member_mean" else "n_households"]
                row[name] = float(np.average(g[name], weights=weight))
        rows.append(row)
    return pd.DataFrame(rows)


def distributions(groups: pd.DataFrame) -> pd.DataFrame:
    """Per scenario and outcome: quantiles of the per-group values."""
    q = groups.groupby("scenario", sort=False)[list(NATIONAL_OUTCOMES)].quantile(
        [0.05, 0.25, 0.5, 0.75, 0.95])
    return q.rename_axis(["scenario", "quantile"]).reset_index()


def paired_differences(groups: pd.DataFrame, reference: str) -> pd.DataFrame:
    """National total of each scenario minus the reference, paired group by group.

    Groups are independent given the population, so a national total's difference is the sum of
    the N per-group differences, with variance N x var(difference); a weighted mean (fear) is
    compared as the weighted mean of the differences, with variance sum(w^2 (d - mean)^2) N/(N-1).
    """
    if reference not in set(groups["scenario"]):
        raise SystemExit(f"national: the reference scenario {reference!r} was not run; run it too "
                         f"(scenario={reference},...) or set reference=")
    ref = groups[groups["scenario"] == reference].set_index("group")
    rows = []
    for scenario, g in groups[groups["scenario"] != reference].groupby("scenario", sort=False):
        g = g.set_index("group")
        n = len(g)
        for name, how in NATIONAL_OUTCOMES.items():
            d = (g[name] - ref.loc[g.index, name]).to_numpy(dtype=float)
            if how == "sum":   # a national total: the sum of n independent group differences
                w = np.ones(n)
            else:              # a weighted mean over groups
                w = g["members" if how == "member_mean" else "n_households"].to_numpy(dtype=float)
                w = w / w.sum()
            total = float(np.sum(w * d))
            base = float(np.sum(w * ref.loc[g.index, name].to_numpy(dtype=float)))
            mean = float(np.sum(w * d) / np.sum(w))
            sd = float(np.sqrt(n / (n - 1) * np.sum(w**2 * (d - mean)**2))) if n > 1 else np.nan
            half = float(stdtrit(n - 1, 0.975) * sd) if n > 1 else np.nan
            rows.append({"scenario": scenario, "outcome": name, "reference": reference,
                         "reference_value": base, "difference": total, "low": total - half,
                         "high": total + half, "relative": total / base if base else np.nan,
                         "groups": n})
    return pd.DataFrame(rows)


def write_figures(out: Path, groups: pd.DataFrame, regions: pd.DataFrame) -> None:
    from matplotlib.figure import Figure  # here: jobs need not import matplotlib

    names = list(NATIONAL_OUTCOMES)
    fig = Figure(figsize=(12, 2.6 * ((len(names) + 3) // 4)), layout="constrained")
    for ax, name in zip(fig.subplots((len(names) + 3) // 4, 4).flat, names):
        for scenario, g in groups.groupby("scenario", sort=False):
            ax.hist(g[name].dropna(), bins=40, histtype="step", label=scenario)
        ax.set_title(name, fontsize=9)
        ax.set_yscale("log")
    fig.axes[0].legend(fontsize=7)
    fig.suptitle("per-group distribution over one year (log count of groups)")
    fig.savefig(out / "distributions.png", dpi=110)

    fig = Figure(figsize=(12, 3.2), layout="constrained")
    for ax, name in zip(fig.subplots(1, 4), ("reports_per_month", "police_workload", "arrests",
                                              "undesired_episodes")):
        table = regions.pivot(index="region", columns="scenario", values=name)
        table.plot.bar(ax=ax, rot=0, legend=ax is fig.axes[0], fontsize=8)
        ax.set_title(f"{name} (national total per region)", fontsize=9)
    fig.savefig(out / "regions.png", dpi=110)


def _markdown(table: pd.DataFrame) -> str:
    def cell(v: Any) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    rows = [list(table.columns), ["---"] * table.shape[1], *[[cell(v) for v in r] for r in table.itertuples(index=False)]]
    return "\n".join("| " + " | ".join(map(str, r)) + " |" for r in rows)


def finish(cfg: DictConfig, jobs: list[dict[str, Any]], started: float) -> None:
    """Collect every batch, write the tables and figures, print the summary line."""
    out = Path(cfg.hydra.sweep.dir)
    out.mkdir(parents=True, exist_ok=True)
    population = draw_population(cfg.population)
    frames, missing = [], []
    for j in jobs:
        try:
            frames.append(read_batch(cfg.results_dir, j["key"]).assign(scenario=j["scenario"]))
        except (FileNotFoundError, store.DamagedEntry):
            missing.append(f"{j['scenario']} batch {j['batch']}")
    if missing:
        raise SystemExit(f"national: {len(missing)} batch(es) did not finish ({', '.join(missing[:5])}"
                         f"{' ...' if len(missing) > 5 else ''}); run the same command again to "
                         "resume")
    groups = pd.concat(frames, ignore_index=True).merge(
        population.drop(columns="seed"), on="group").sort_values(["scenario", "group"], kind="stable")
    store.atomic_write(out / "groups.parquet", lambda p: groups.to_parquet(p, index=False))
    national = summarise(groups.drop(columns="region"))
    regions = summarise(groups)
    tables = {"national.csv": national, "regions.csv": regions, "distributions.csv": distributions(groups)}
    if groups["scenario"].nunique() > 1:
        tables["differences.csv"] = paired_differences(groups, cfg.reference)
    for name, table in tables.items():
        store.atomic_write(out / name, lambda p, t=table: t.to_csv(p, index=False))
    write_figures(out, groups, regions)
    lines = [f"# National run: {len(population):,} groups, {cfg.days} days each", "",
             "## National totals (sums over groups; fear and unsafe share are weighted means)", "",
             _markdown(national), "", "## Per region", "",
             _markdown(regions)]
    if "differences.csv" in tables:
        lines += ["", f"## Paired differences to {cfg.reference} (95% interval over groups)", "",
                  _markdown(tables["differences.csv"])]
    store.atomic_write(out / "national.md", lambda p: p.write_text("\n".join(lines) + "\n"))
    store.write_json(out / store.COMPLETE, {"groups": len(population), "batches": len(jobs),
                                            "scenarios": sorted(groups["scenario"].unique())})
    print(national.to_string(index=False, float_format=lambda v: f"{v:.4g}"), file=sys.stderr)
    print(f"tables and figures in {out}", file=sys.stderr)
    print(f"national: {len(population)} groups in {time.perf_counter() - started:.1f} s")


class NationalCallback(Callback):
    """Validate before any job, collect after the last one."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.jobs: list[dict[str, Any]] = []

    def __getstate__(self) -> dict[str, Any]:
        return {"started": self.started, "jobs": []}

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from experiments.sweep import planned_jobs, write_provenance  # one home for a sweep's plan
        from hydra.core.global_hydra import GlobalHydra
        from hydra.types import RunMode

        self.started = time.perf_counter()
        gh = GlobalHydra.instance()
        self.jobs = []
        composed: dict[tuple[str, ...], dict[str, Any]] = {}
        try:
            planned = planned_jobs(config)
        except Exception as error:  # noqa: BLE001 - e.g. batches=0 in the sweep over batches
            while error.__cause__ is not None:
                error = error.__cause__
            raise SystemExit(f"national: {str(error).splitlines()[0]}") from None
        for overrides in planned:
            rest = tuple(o for o in overrides if not o.startswith("batch="))
            batch = int(next(o for o in overrides if o.startswith("batch=")).split("=", 1)[1])
            try:
                if rest not in composed:
                    cfg = gh.hydra.compose_config(config.hydra.job.config_name, list(rest),
                                                  run_mode=RunMode.RUN, with_log_configuration=False)
                    hydra.utils.get_method(cfg.runner)
                    check_population(check_run(cfg), draw_population(cfg.population))
                    composed[rest] = {"cfg": cfg, "params": check_run(cfg).to_dict(),
                                      "scenario": cfg.hydra.runtime.choices["scenario"],
                                      # the launcher is the command's (hydra/ overrides are not the jobs')
                                      "batches": batch_count(cfg.batches, int(cfg.population.groups),
                                                             config.hydra.launcher)}
            except Exception as error:  # noqa: BLE001
                raise SystemExit(f"national: error in job {' '.join(overrides)}: {error}") from None
            c = composed[rest]
            if not 0 <= batch < c["batches"]:
                raise SystemExit(f"national: batch={batch} is outside range({c['batches']})")
            self.jobs.append({"scenario": c["scenario"], "batch": batch, "key": batch_key(
                c["params"], OmegaConf.to_container(c["cfg"].population, resolve=True), batch,
                c["batches"], int(c["cfg"].days), c["cfg"].runner)})
        done = sum(batch_done(config.results_dir, j["key"]) for j in self.jobs)
        _launched.append(True)
        write_provenance(Path(config.hydra.sweep.dir), config, config.hydra.runtime.choices, planned)
        print(f"national: {len(self.jobs)} batch jobs ({done} already done), "
              f"{config.population.groups:,} groups -> {config.hydra.sweep.dir}", file=sys.stderr)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            finish(config, self.jobs, self.started)
        except SystemExit as error:
            _errors.append(str(error))
        except Exception:  # noqa: BLE001 - Hydra would turn it into a warning
            traceback.print_exc()
            _errors.append("national: the tables could not be written")


_errors: list[str] = []
_launched: list[bool] = []   # set once the jobs are validated: a later failure can be resumed


def main() -> None:
    """Always a multirun over the batches (``-m`` is implied)."""
    if not {"-m", "--multirun"} & set(sys.argv[1:]):
        sys.argv.insert(1, "--multirun")
    try:
        hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="national")(job)()
    except SystemExit as stop:  # Hydra has printed the error (e.g. a killed Slurm job)
        if stop.code and _launched:
            if isinstance(stop.code, str):   # the forked launcher's: which job died, and how
                print(stop.code, file=sys.stderr)
            sys.exit("national: not every batch finished (see above); finished batches are kept: "
                     "run the same command again to resume")
        raise
    if _errors:
        sys.exit("; ".join(_errors))


if __name__ == "__main__":  # run the imported module's main, so the callback shares its state
    from experiments.national import main as national_main
    national_main()
