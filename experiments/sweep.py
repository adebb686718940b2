"""The Hydra app: one job = a batch of simulation runs; a callback turns a multirun into a sweep.

Hydra's multirun alone stops at the first failed job, has no resume and prints a line per job.
Here:

- before any run, :class:`SweepCallback` composes the config of every job and validates its
  parameters, so an unknown case or scenario, an out-of-range value or an unknown runner stops
  the sweep with a one-line message naming it; a single run is validated the same way before its
  directory is made, and a broken config file is named in one line too (:func:`main`);
- a Hydra job runs a batch of seeds of one config (``job_seeds``, made by the sweepers in
  ``hydra_plugins/buurtsim_sweeper`` with :func:`batch_jobs`; ``seeds_per_job=auto`` sizes the
  batches to the launcher's workers), because each job costs Hydra a composition and set-up; a
  run's result does not depend on its batch; with the default, forked launcher
  (``hydra_plugins/buurtsim_launcher``) a job takes its config from the composition made to
  validate it (:func:`job_config`);
- a run that fails records its error in ``jobs/<n>/runs.json`` and the job goes on, so the
  other runs go on; the sweep reports the failures at the end and exits with status 1;
- a job whose key is already in the run cache is not run again (resume);
- a progress bar counts finished jobs; at the end the sweep writes its tables and, with
  ``compare=true``, the comparison.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hydra
import yaml
from hydra._internal.config_loader_impl import get_overrides_dirname
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import CompactHydraException
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict
from tqdm import tqdm

import sim
from experiments import store
from experiments.schema import SeedParams, check_run
from hydra_plugins.buurtsim_launcher import forked_launcher

CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")
REFERENCE = "baseline"   # what a sweep's effects are measured against, unless hydra.sweeper.reference
_sweep_errors: list[str] = []   # set by the callback in the launching process; exit status 1


def identity(cfg: DictConfig, choices: Any) -> dict[str, Any]:
    """Which run this is: the chosen case, scenario and calibration, seed and days."""
    return {"case": choices["case"], "scenario": choices["scenario"],
            "calibration": choices["calibration"], "seed": int(cfg.seed), "days": int(cfg.days)}


def run_job(cfg: DictConfig) -> list[dict[str, Any]]:
    """One Hydra job: simulate each of its seeds (``job_seeds``, a batch the sweeper made, or just
    ``seed``) unless cached, and leave a record of each run in ``runs.json``."""
    logging.getLogger("MESA").setLevel(logging.ERROR)
    hc = HydraConfig.get()
    seeds = list(cfg.job_seeds) if cfg.get("job_seeds") is not None else [cfg.seed]
    params = SeedParams()
    records = [run_seed(cfg, int(seed), hc, params) for seed in seeds]
    out = Path(hc.runtime.output_dir)
    store.write_json(out / store.RECORDS, records)
    if hc.mode == RunMode.RUN:
        finish_single(cfg, out, records[0])
    return records


def run_seed(cfg: DictConfig, seed: int, hc: Any, seed_params: SeedParams) -> dict[str, Any]:
    """One run of a job: its seed's parameters (a posterior draw may depend on the seed), its
    key, then the cache or a simulation; a failure is recorded, not raised."""
    cfg.seed = seed
    overrides = [f"seed={seed}" if o.split("=", 1)[0] == "job_seeds" else o for o in hc.overrides.task]
    record: dict[str, Any] = {**identity(cfg, hc.runtime.choices), "status": "failed",
                              "overrides": overrides, "key": None, "params": None}
    cache = store.cache_dir(cfg.results_dir)
    try:
        params = seed_params(cfg)
        record["params"] = params.to_dict()
        record["key"] = key = store.run_key(record, record["params"], cfg.runner)
        with store.lock(cache, key):  # another sweep computing this run: wait, then reuse it
            # a sweep named damaged entries before it started; a single run names them here
            if store.cached(cache, key, report=hc.mode == RunMode.RUN):
                record["status"] = "cached"
            else:
                simulate = hydra.utils.get_method(cfg.runner)
                start = time.perf_counter()
                result = simulate(params, seed=record["seed"], days=record["days"])
                record["seconds"] = time.perf_counter() - start
                store.save_run(cache, key, {k: v for k, v in record.items() if k != "status"}, result)
                record["status"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure of a run is recorded, not raised
        record["error"] = f"{type(error).__name__}: {error}"
        record["traceback"] = traceback.format_exc()
    return record


def finish_single(cfg: DictConfig, out: Path, record: dict[str, Any]) -> None:
    """A single run: write its tables and provenance, show its summary, raise if it failed."""
    write_provenance(out, cfg, HydraConfig.get().runtime.choices, [record["overrides"]])
    runs = store.write_tables(out, [record], store.cache_dir(cfg.results_dir))
    if record["status"] == "failed":
        raise SystemExit(f"run failed: {record['error']} (traceback in {out / store.RECORDS})")
    print(f"{record['case']} / {record['scenario']} / seed {record['seed']}, "
          f"{record['days']} days ({record['status']}) -> {out}")
    for name in sim.OUTCOME_NAMES:
        print(f"  {name:34s} {runs.iloc[0][name]:12.4g}")


def write_provenance(out: Path, cfg: DictConfig, choices: Any, jobs: Sequence[Sequence[str]]) -> None:
    """The resolved config, the job overrides, package versions and the git commit."""
    plain = OmegaConf.to_container(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]),
                                   resolve=True)
    store.atomic_write(out / "config.yaml", lambda p: p.write_text(OmegaConf.to_yaml(plain)))
    store.write_json(out / "provenance.json", {
        "command": sys.argv, "choices": dict(choices), "jobs": [list(j) for j in jobs],
        "versions": store.versions(), "git": store.git_state()})


# --- the sweep ----------------------------------------------------------------------------------
def planned_jobs(config: DictConfig) -> list[list[str]]:
    """The overrides of every job, as Hydra's basic sweeper will expand them."""
    sweep_params = config.hydra.sweeper.get("params") or {}
    arguments = [f"{k}={v}" for k, v in sweep_params.items()]
    arguments += list(config.hydra.overrides.task)
    parser = OverridesParser.create(config_loader=GlobalHydra.instance().config_loader())
    batches = BasicSweeper.split_arguments(parser.parse_overrides(arguments), None)
    return [job for batch in batches for job in batch]


def seed_of(override: str) -> str | None:
    """The seed an override sets (``seed=3``, ``+seed=3``), or None if it sets something else."""
    key, _, value = override.partition("=")
    return value if key.lstrip("+~") == "seed" else None


def check_jobs(config: DictConfig, jobs: list[list[str]]) -> list[dict[str, Any]]:
    """Validate every job before any run; return the identity and run key of each.

    Composing a config takes Hydra a tenth of a second or more, so jobs that differ only in
    their seed share one composition (kept for :func:`job_config`); each seed's parameters are
    resolved from it (a posterior draw depends on the seed).
    """
    loader = GlobalHydra.instance().config_loader()
    _compositions.clear()
    seed_params: dict[tuple[str, ...], SeedParams] = {}
    keys = []
    for job in jobs:
        seeds = [s for s in map(seed_of, job) if s is not None]
        rest = tuple(o for o in job if seed_of(o) is None)
        try:
            if rest not in _compositions:
                _compositions[rest] = loader.load_sweep_config(config, list(rest))
                seed_params[rest] = SeedParams()
            cfg = _compositions[rest]
            default_seed = cfg.seed
            try:
                if seeds:
                    cfg.seed = int(seeds[-1])
                ident = identity(cfg, cfg.hydra.runtime.choices)
                if ident["seed"] < 0:
                    raise ValueError(f"seed = {ident['seed']} must be at least 0")
                params = seed_params[rest](cfg).to_dict()
            finally:
                cfg.seed = default_seed   # the composition stays as Hydra made it
        except Exception as error:
            raise SystemExit(f"error in sweep job {' '.join(job)}: {one_line(error)}") from None
        keys.append({**ident, "key": store.run_key(ident, params, cfg.runner)})
    return keys


_compositions: dict[tuple[str, ...], DictConfig] = {}   # check_jobs': overrides but the seed -> config
SEED_SETTINGS = ("seed", "job_seeds")   # what tells apart the jobs that share a composition


def job_config(master: DictConfig, job: Sequence[str]) -> DictConfig | None:
    """The config Hydra's ``load_sweep_config`` composes for ``job``, derived from the composition
    :func:`check_jobs` made of the same overrides without the seed (a tenth of a CPU-second saved
    per job; ``hydra.launcher.composer`` of the forked launcher). The two differ only in the seed
    setting (``seed=`` or ``job_seeds=``) and in the two records of the overrides
    (``hydra.overrides.task``, ``hydra.job.override_dirname``); tests/test_experiments.py holds
    the result equal to Hydra's. The composition is taken, not copied (a forked job has a copy of
    its own), so it serves one job in a process. None if there is no such composition."""
    rest = tuple(o for o in job if o.split("=", 1)[0] not in SEED_SETTINGS)
    if len(job) - len(rest) != 1 or rest not in _compositions:
        return None
    parsed = OverridesParser.create().parse_overrides(list(job))
    (setting,) = [o for o in parsed if o.key_or_group in SEED_SETTINGS]
    cfg = _compositions.pop(rest)
    OmegaConf.copy_cache(from_config=master, to_config=cfg)   # as load_sweep_config does
    dirname = cfg.hydra.job.config.override_dirname
    with open_dict(cfg):
        cfg[setting.key_or_group] = setting.value()
        cfg.hydra.overrides.task = list(job)
        cfg.hydra.job.override_dirname = get_overrides_dirname(
            overrides=parsed, kv_sep=dirname.kv_sep, item_sep=dirname.item_sep,
            exclude_keys=dirname.exclude_keys)
    return cfg


@functools.cache   # once a process, however many rounds of jobs (seeds=auto) it launches
def load_model() -> None:
    """Load the model's compiled loops (numba's disk cache) with a ten-day run: done once before
    the forked launcher's first fork, instead of once in every job (0.05 CPU-s a job)."""
    sim.run(sim.Params.preset(), seed=0, days=10)


# --- batches: several seeds per Hydra job ---------------------------------------------------------
def launcher_workers(launcher: DictConfig) -> int:
    """How many jobs the launcher runs at once: n_jobs of the forked and joblib launchers, Slurm's
    array_parallelism, one for the basic (sequential) launcher, else every core of this machine."""
    target = str(launcher.get("_target_", ""))
    if target.endswith(("ForkedLauncher", "JoblibLauncher")):
        return forked_launcher.workers(launcher.get("n_jobs"))
    if target.endswith("SlurmLauncher"):
        return max(1, int(launcher.get("array_parallelism") or 1))
    return 1 if target.endswith("BasicLauncher") else len(os.sched_getaffinity(0))


def seeds_per_job(config: DictConfig, runs: int) -> int:
    """``seeds_per_job``, or for ``auto`` as many as keep every worker of the launcher busy with
    about two jobs each: each Hydra job costs a config composition and set-up (a few tenths of a
    CPU-second), so fewer, larger jobs cost less; more jobs than workers balance the load."""
    setting = config.get("seeds_per_job", "auto")
    if setting == "auto":
        return max(1, -(-runs // (2 * launcher_workers(config.hydra.launcher))))
    if isinstance(setting, bool) or not isinstance(setting, int) or setting < 1:
        raise SystemExit(f"seeds_per_job = {setting!r} must be auto or an integer of at least 1")
    return setting


def batch_jobs(jobs: Sequence[Sequence[str]], per_job: int) -> list[list[str]]:
    """Jobs that differ only in their seed, as few jobs of at most ``per_job`` seeds each
    (``job_seeds=[...]``, seeds in their order, batches of near-equal size); a job of one seed,
    or without a seed override, stays as it is. Results do not depend on the batching: each run
    is ``runner(params, seed, days)`` whichever job it is in."""
    groups: dict[tuple[str | None, ...], list[str | None]] = {}   # job shape -> its seed overrides
    for job in jobs:
        seeds = [o for o in job if seed_of(o) is not None]
        shape = tuple(None if o in seeds else o for o in job) if len(seeds) == 1 else tuple(job)
        groups.setdefault(shape, []).append(seeds[0] if len(seeds) == 1 else None)
    batched = []
    for shape, seeds in groups.items():
        n = -(-len(seeds) // per_job)
        for i in range(n):
            chunk = seeds[len(seeds) * i // n: len(seeds) * (i + 1) // n]
            setting = (chunk[0] if len(chunk) == 1 else
                       f"job_seeds=[{','.join(str(seed_of(o)) for o in chunk)}]")
            batched.append([setting if o is None else o for o in shape])  # no None: no seed
    return batched


def reference(config: DictConfig) -> str:
    """The scenario the sweep measures every effect against (``hydra.sweeper.reference`` of seeds=auto)."""
    return config.hydra.sweeper.get("reference", REFERENCE)


def check_reference(config: DictConfig, planned: list[dict[str, Any]]) -> None:
    """Stop before any run if the sweep does not run the reference that its comparison (compare=true)
    or its precision rule (seeds=auto: a sweeper with a reference) measures against."""
    ref, auto = reference(config), "reference" in config.hydra.sweeper
    scenarios = sorted({job["scenario"] for job in planned})
    if ref in scenarios or not (config.compare or auto):
        return
    why = " and ".join([*(["compare=true compares every scenario with it"] if config.compare else []),
                        *(["seeds=auto measures every effect against it"] if auto else [])])
    fix = "set hydra.sweeper.reference" if auto else "pass compare=false"
    raise SystemExit(f"the reference scenario {ref!r} is not in the sweep ({', '.join(scenarios)}): "
                     f"{why}; add scenario {ref} or {fix}")


class Progress:
    """A tqdm bar over the runs of a sweep, fed by the job records appearing on disk.

    Its thread does each tick under the forked launcher's fork lock, so that a worker is never
    forked while this thread holds a lock (tqdm's, stderr's); tqdm's own monitor thread is off."""

    def __init__(self, sweep_dir: Path, total: int):
        self.sweep_dir, self.stop = sweep_dir, threading.Event()
        self.counted: dict[Path, int] = {}   # runs recorded by each finished job
        tqdm.monitor_interval = 0
        self.bar = tqdm(total=total, unit="run", desc="runs", dynamic_ncols=True)
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _count(self) -> int:
        for path in self.sweep_dir.glob(f"jobs/*/{store.RECORDS}"):
            if path not in self.counted:
                self.counted[path] = len(store.read_json(path))  # written atomically: complete
        return sum(self.counted.values())

    def _watch(self) -> None:
        while not self.stop.wait(0.5):
            with forked_launcher.FORK_LOCK:
                self.bar.update(self._count() - self.bar.n)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.bar.update(self._count() - self.bar.n)
        self.bar.close()


class SweepCallback(Callback):
    """Checks before a sweep, progress during it, tables and comparison after it."""

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self.jobs: list[list[str]] = []

    def __getstate__(self) -> dict[str, Any]:
        return {"progress": None, "jobs": []}  # jobs get a copy of the callback; no thread there

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        """A single run: validate before Hydra makes its directory, so bad input writes nothing."""
        try:
            check_run(config)
        except Exception as error:
            raise SystemExit(f"error in run {' '.join(config.hydra.overrides.task)}: "
                             f"{one_line(error)}") from None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.jobs = planned_jobs(config)   # one per run; the sweeper batches their seeds
        planned = check_jobs(config, self.jobs)
        check_reference(config, planned)
        per_job = seeds_per_job(config, len(self.jobs))
        cache = store.cache_dir(config.results_dir)
        done = sum(store.cached(cache, job["key"]) for job in planned)
        sweep_dir = Path(config.hydra.sweep.dir)
        write_provenance(sweep_dir, config, config.hydra.runtime.choices, self.jobs)  # the plan
        print(f"sweep: {len(self.jobs)} runs ({done} already done, skipped), {config.days} days "
              f"each, up to {per_job} seed(s) per job, "
              f"launcher {config.hydra.launcher._target_.rsplit('.', 1)[-1]}\n"
              f"  -> {sweep_dir}", file=sys.stderr)
        self.progress = Progress(sweep_dir, len(self.jobs))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self.progress:
            self.progress.close()
        try:  # Hydra turns a callback's exception into a warning; make it an exit status
            self.finish(config)
        except Exception:  # noqa: BLE001
            traceback.print_exc()
            _sweep_errors.append("the sweep's tables or comparison could not be written")

    def finish(self, config: DictConfig) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        records = store.job_records(sweep_dir)
        runs = store.write_tables(sweep_dir, records, store.cache_dir(config.results_dir))
        counts = runs["status"].value_counts().to_dict()
        print(f"sweep done: {counts}; tables in {sweep_dir}", file=sys.stderr)
        failed = runs[runs["status"] == "failed"]
        if config.compare and len(failed) < len(runs):
            from experiments import compare  # here, so that jobs need not import matplotlib
            try:
                compare.main([str(sweep_dir), "--reference", reference(config)])
            except SystemExit as error:  # e.g. every run of the reference scenario failed
                print(f"no comparison: {error}", file=sys.stderr)
                _sweep_errors.append("the comparison could not be made")
        if len(failed):
            print(f"{len(failed)} run(s) failed; see {sweep_dir / 'failures.csv'}:", file=sys.stderr)
            for r in failed.itertuples():
                print(f"  {r.case} / {r.scenario} / seed {r.seed}: {r.error}", file=sys.stderr)
            _sweep_errors.append(f"{len(failed)} run(s) failed")


def one_line(error: Exception) -> str:
    """An error as one line: a YAML error with its file, line and column; Hydra's with its cause."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return (f"{mark.name}, line {mark.line + 1}, column {mark.column + 1}: not valid YAML: "
                f"{error.problem}" + (f" ({error.context})" if error.context else ""))
    text = str(error)
    if isinstance(error, CompactHydraException) and error.__cause__ is not None:
        text += "\n" + str(error.__cause__).splitlines()[0]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "".join(line if not n else (" " if lines[n - 1].endswith((":", ".")) else "; ") + line
                   for n, line in enumerate(lines))


def main() -> None:
    """``python -m experiments.run [overrides]``; ``-m`` sweeps (see conf/config.yaml).

    Hydra prints a traceback for a config file that is not valid YAML; here it is one line naming
    the file, as are composition errors (set HYDRA_FULL_ERROR=1 for Hydra's full traceback).
    """
    wants_traceback = "HYDRA_FULL_ERROR" in os.environ
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let Hydra's errors reach us instead of printing them
    try:
        hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")(run_job)()
    except (yaml.YAMLError, CompactHydraException) as error:
        if wants_traceback:
            raise
        sys.exit(one_line(error))
    if _sweep_errors:
        sys.exit("; ".join(_sweep_errors))
