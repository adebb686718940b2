"""Experiments: configs compose, sweeps write results, resume, failures, collisions, comparison.

Sweeps run as subprocesses (as a user runs them) on a small neighbourhood for a few days.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

import sim
from experiments import compare, schema, store
from sim.params import FIELDS

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "conf"
SMALL = ["days=8", "params.n_households=120"]
SWEEP = ["-m", "scenario=baseline,officer_in_group", "seed=0,1", "compare=false", *SMALL]
IN_PROCESS = "hydra/launcher=basic"  # Hydra's sequential launcher: no process pool to start


def run_cli(*args: str, results: Path, module: str = "experiments.run", **popen) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    return subprocess.Popen([sys.executable, "-m", module, *args, f"results_dir={results}"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **popen)


def cli(*args: str, results: Path) -> subprocess.CompletedProcess:
    proc = run_cli(*args, results=results)
    out, err = proc.communicate(timeout=240)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def sweep_dirs(results: Path) -> list[Path]:
    return sorted((results / "sweeps").glob("*"))


def composed(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=True)


# --- configs ------------------------------------------------------------------------------------
def test_scenario_files_hold_exactly_the_differences_of_sim_scenarios():
    files = {p.stem: p for p in (CONF / "scenario").glob("*.yaml")}
    assert set(files) == set(sim.SCENARIOS)
    for name, overrides in sim.SCENARIOS.items():
        assert (OmegaConf.to_container(OmegaConf.load(files[name])) or {}) == overrides, name


def test_schema_is_generated_from_the_model_parameters():
    conf = OmegaConf.structured(schema.ParamsConf)
    assert list(conf) == list(FIELDS)
    assert sim.Params.from_dict(OmegaConf.to_container(conf)) == sim.Params()


@pytest.fixture
def test_calibration():
    """A calibration option that exists only during the test."""
    store = ConfigStore.instance()
    store.store(group="calibration", name="test_calibration", package="params",
                node={"coverage": 0.4, "minority_share": 0.25, "talk_rate": 0.2})
    yield
    del store.repo["calibration"]["test_calibration.yaml"]


def test_values_compose_calibration_then_case_then_scenario_then_command_line(test_calibration):
    cfg = composed("calibration=test_calibration", "case=lastage", "scenario=coverage_low")
    p = schema.to_params(cfg)
    assert (p.talk_rate, p.minority_share, p.coverage) == (0.2, 0.3, 0.10)  # cal, case, scenario
    cfg = composed("calibration=test_calibration", "case=lastage", "scenario=coverage_low",
                   "params.coverage=0.33", "params.minority_share=0.5")
    assert (schema.to_params(cfg).coverage, schema.to_params(cfg).minority_share) == (0.33, 0.5)
    assert cfg.hydra.runtime.choices.case == "lastage"


@pytest.mark.xdist_group("conf_case")  # reads conf/case/ while test_chat_import may add a case
def test_every_case_composes_to_valid_parameters():
    cases = {p.stem for p in (CONF / "case").glob("*.yaml")}
    assert {"generic", "lastage"} < cases
    for case in cases:
        params = schema.to_params(composed(f"case={case}", "scenario=no_admin"))
        assert params.n_admins == 0


@pytest.mark.parametrize("override", ["params.coverag=0.3", "params.n_households=many",
                                      "params.n_households=1.5", "seeed=3", "days=soon"])
def test_typos_and_wrong_types_fail_at_composition(override):
    with pytest.raises(ConfigCompositionException):
        composed(override)


# --- sweeps -------------------------------------------------------------------------------------
def test_sweep_writes_results_and_comparison_then_resumes(tmp_path):
    first = cli(*SWEEP, results=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "4/4" in first.stderr  # the progress bar reached the end
    (sweep,) = sweep_dirs(tmp_path)
    runs = pd.read_parquet(sweep / "runs.parquet")
    assert len(runs) == 4 and set(runs["status"]) == {"ok"}
    assert set(runs["scenario"]) == {"baseline", "officer_in_group"} and set(runs["seed"]) == {0, 1}
    assert set(sim.OUTCOME_NAMES) <= set(runs.columns)
    assert {f"param_{name}" for name in FIELDS} <= set(runs.columns)
    assert runs.groupby("scenario")["param_officer_in_group"].first().to_dict() == {
        "baseline": False, "officer_in_group": True}
    assert pd.read_csv(sweep / "runs.csv").shape == runs.shape
    days = pd.read_parquet(sweep / "days.parquet")
    assert len(days) == 4 * 8 and {"scenario", "seed", "key"} <= set(days.columns)
    provenance = (sweep / "provenance.json").read_text()
    assert '"hydra-core"' in provenance and '"commit"' in provenance
    assert "n_households: 120" in (sweep / "config.yaml").read_text()
    compare.main([str(sweep)])
    out = sweep / "comparison"
    for name in ["means.csv", "differences.csv", "comparison.md", "overview.png",
                 *(f"{h}.png" for h in sim.HEADLINE)]:
        assert (out / name).stat().st_size > 0, name
    assert "officer_in_group − baseline" in (out / "comparison.md").read_text()

    again = cli(*SWEEP, results=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "4 already done" in again.stderr
    resumed = pd.read_parquet(sweep_dirs(tmp_path)[-1] / "runs.parquet")
    assert len(sweep_dirs(tmp_path)) == 2 and set(resumed["status"]) == {"cached"}
    pd.testing.assert_frame_equal(resumed[list(sim.OUTCOME_NAMES)], runs[list(sim.OUTCOME_NAMES)])


def test_a_failing_run_is_recorded_and_the_others_complete(tmp_path):
    done = cli(*SWEEP, "runner=experiments_fixtures.fail_on_seed_1", IN_PROCESS, "compare=true",
               results=tmp_path)
    assert done.returncode == 1
    assert "forced failure for seed 1" in done.stderr
    (sweep,) = sweep_dirs(tmp_path)
    runs = pd.read_parquet(sweep / "runs.parquet")
    failed, ok = runs[runs["seed"] == 1], runs[runs["seed"] == 0]
    assert set(failed["status"]) == {"failed"} and set(ok["status"]) == {"ok"}
    assert failed["error"].str.contains("RuntimeError: forced failure for seed 1").all()
    assert ok[["alertness_members", "fear_members"]].notna().all().all()
    assert len(pd.read_csv(sweep / "failures.csv")) == 2
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2  # only completed runs are cached
    assert "up to 1 seeds" in (sweep / "comparison" / "comparison.md").read_text()


def test_two_sweeps_started_together_do_not_collide(tmp_path):
    procs = [run_cli(*SWEEP, IN_PROCESS, results=tmp_path) for _ in range(2)]
    errors = [proc.communicate(timeout=240)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], errors
    sweeps = sweep_dirs(tmp_path)
    assert len(sweeps) == 2
    for sweep in sweeps:
        runs = pd.read_parquet(sweep / "runs.parquet")
        assert len(runs) == 4 and set(runs["status"]) <= {"ok", "cached"}
        assert len(store.job_records(sweep)) == 4


def test_batches_of_seeds_give_the_same_runs_as_one_seed_per_job(tmp_path):
    """1 and 4 seeds per job in one process, 3 on the forked launcher, all 6 on Hydra's joblib
    launcher, under the posterior calibration, whose parameters are drawn per seed: the same runs,
    bit for bit."""
    sweep = ["-m", "scenario=baseline,officer_in_group", "seed=range(6)", "calibration=posterior",
             "compare=false", *SMALL]
    tables = {}
    for per_job, launcher in (("1", IN_PROCESS), ("4", IN_PROCESS), ("3", "hydra/launcher=forked"),
                              ("6", "hydra/launcher=joblib")):
        done = cli(*sweep, f"seeds_per_job={per_job}", launcher, results=tmp_path / per_job)
        assert done.returncode == 0, done.stderr
        assert f"up to {per_job} seed(s) per job" in done.stderr
        (out,) = sweep_dirs(tmp_path / per_job)
        jobs = sorted(out.glob("jobs/*/runs.json"))
        assert len(jobs) == {"1": 12, "4": 4, "3": 4, "6": 2}[per_job]   # 6 seeds: 4 + 2 as 3 + 3
        runs = pd.read_parquet(out / "runs.parquet").sort_values(["scenario", "seed"], ignore_index=True)
        days = pd.read_parquet(out / "days.parquet").sort_values(["scenario", "seed", "day"],
                                                                 ignore_index=True)
        tables[per_job] = runs.drop(columns=["seconds"]), days
    assert tables["1"][0]["param_observe_prob"].nunique() > 1    # the draws differ between seeds
    for per_job in ("4", "3", "6"):
        pd.testing.assert_frame_equal(tables[per_job][0], tables["1"][0])
        pd.testing.assert_frame_equal(tables[per_job][1], tables["1"][1])


def test_a_killed_job_of_the_forked_launcher_stops_no_other_and_the_sweep_resumes(tmp_path, monkeypatch):
    flag = tmp_path / "kill"
    flag.write_text("")
    monkeypatch.setenv("BUURTSIM_KILL", str(flag))   # the run with seed 1 kills its process, once
    sweep = ["-m", "scenario=baseline", "seed=range(4)", "seeds_per_job=1", "compare=false",
             "runner=experiments_fixtures.killed_on_seed_1_once", "hydra/launcher=forked", *SMALL]
    killed = cli(*sweep, results=tmp_path)
    assert killed.returncode != 0
    assert "1 job(s) of the sweep ended without a result: job 1" in killed.stderr
    assert "killed by SIGKILL" in killed.stderr and "run the same command again" in killed.stderr
    (first,) = sweep_dirs(tmp_path)
    assert not (first / store.COMPLETE).exists(), "a sweep with a dead job must not look complete"
    assert len(list((tmp_path / "cache").glob("*.json"))) == 3, "the other jobs ran to the end"

    resumed = cli(*sweep, results=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "4 runs (3 already done, skipped)" in resumed.stderr
    runs = pd.read_parquet(sweep_dirs(tmp_path)[-1] / "runs.parquet")
    assert runs["status"].value_counts().to_dict() == {"cached": 3, "ok": 1}


def test_job_config_is_the_config_hydra_composes_for_the_job():
    """The forked launcher's jobs take their configs from the sweep's own compositions
    (experiments.sweep.job_config); they must be what Hydra's load_sweep_config makes."""
    from hydra.core.global_hydra import GlobalHydra

    from experiments import sweep
    runs = [["scenario=no_group", f"seed={seed}", "days=30", "calibration=posterior"] for seed in range(3)]
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        master = compose("config", return_hydra_config=True)
        loader = GlobalHydra.instance().config_loader()
        for job in (runs[2], ["scenario=no_group", "job_seeds=[0,2]", "days=30", "calibration=posterior"]):
            sweep.check_jobs(master, runs)
            derived, hydras = sweep.job_config(master, job), loader.load_sweep_config(master, job)
            assert OmegaConf.to_container(derived) == OmegaConf.to_container(hydras), job
            assert schema.to_params(derived) == schema.to_params(hydras)   # a posterior draw: by seed
        assert sweep.job_config(master, job) is None                  # a composition serves one job
        sweep.check_jobs(master, runs)
        assert sweep.job_config(master, ["scenario=baseline", "seed=1"]) is None      # not composed
        assert sweep.job_config(master, ["scenario=no_group", "seed=1", "job_seeds=[2]", "days=30",
                                         "calibration=posterior"]) is None           # two seed settings


def test_launcher_workers_counts_as_each_launcher_does():
    from experiments.sweep import launcher_workers
    cores = len(os.sched_getaffinity(0))
    forked = "hydra_plugins.buurtsim_launcher.forked_launcher.ForkedLauncher"
    joblib = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"
    for target in (forked, joblib):
        assert launcher_workers(OmegaConf.create({"_target_": target, "n_jobs": 3})) == 3
        assert launcher_workers(OmegaConf.create({"_target_": target, "n_jobs": -1})) == cores
    basic = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"
    assert launcher_workers(OmegaConf.create({"_target_": basic})) == 1


def test_batch_jobs_puts_the_seeds_of_one_config_in_few_jobs():
    from experiments.sweep import batch_jobs
    jobs = [[f"scenario={s}", f"seed={i}", "days=8"] for s in ("a", "b") for i in range(5)]
    assert batch_jobs(jobs, 5) == [["scenario=a", "job_seeds=[0,1,2,3,4]", "days=8"],
                                   ["scenario=b", "job_seeds=[0,1,2,3,4]", "days=8"]]
    assert [j[1] for j in batch_jobs(jobs, 2)[:3]] == ["seed=0", "job_seeds=[1,2]", "job_seeds=[3,4]"]
    assert batch_jobs(jobs, 1) == jobs
    assert batch_jobs([["scenario=a"], ["scenario=b"]], 4) == [["scenario=a"], ["scenario=b"]]


@pytest.mark.parametrize(("override", "named"), [
    ("params.chatter_rule=sometimes", "'chatter_rule' = 'sometimes'"),
    ("days=0", "days = 0"),
    ("seed=-1", "seed = -1"),
])
def test_out_of_range_values_are_named(override, named):
    with pytest.raises(ValueError, match=named):
        schema.check_run(composed(override))


@pytest.mark.parametrize(("override", "named"), [
    ("case=nowhere", "nowhere"),
    ("scenario=baseline,officer_in_grup", "officer_in_grup"),
    ("params.coverage=1.5", "'coverage' = 1.5 is out of range [0.0, 1.0]"),
    ("seeds_per_job=0", "seeds_per_job = 0 must be auto or an integer"),
])
def test_bad_input_stops_a_sweep_before_any_run_with_a_message_naming_it(tmp_path, override, named):
    done = cli("-m", override, "seed=0,1", *SMALL, results=tmp_path)
    assert done.returncode != 0
    assert named in done.stderr
    assert not list(tmp_path.rglob("runs.json")) and not (tmp_path / "cache").exists()


def test_submitit_local_launcher_runs_the_same_sweep(tmp_path):
    done = cli("-m", "scenario=baseline", "seed=0,1", "days=5", "params.n_households=120",
               "hydra/launcher=submitit_local", "compare=false", results=tmp_path)
    assert done.returncode == 0, done.stderr
    (sweep,) = sweep_dirs(tmp_path)
    assert set(pd.read_parquet(sweep / "runs.parquet")["status"]) == {"ok"}
    assert (sweep / ".submitit").is_dir()


def test_single_run_prints_its_summary_and_writes_its_tables(tmp_path):
    done = cli("case=lastage", "scenario=officer_in_group", "seed=3", "days=5",
               "params.n_households=120", results=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "lastage / officer_in_group / seed 3" in done.stdout
    (single,) = (tmp_path / "single").glob("*")
    runs = pd.read_parquet(single / "runs.parquet")
    assert runs.loc[0, "param_minority_share"] == 0.3 and runs.loc[0, "status"] == "ok"


# --- comparison ---------------------------------------------------------------------------------
def fake_runs(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for scenario, xs in values.items():
        for seed, x in enumerate(xs):
            if np.isnan(x):
                continue  # a seed this scenario did not run
            rows.append({"case": "generic", "calibration": "none", "days": 10, "scenario": scenario,
                         "seed": seed, "status": "ok", **{n: x for n in sim.OUTCOME_NAMES}})
    return pd.DataFrame(rows)


def test_paired_difference_of_a_scenario_with_itself_is_exactly_zero():
    runs = fake_runs({"baseline": [0.1, 0.7, 0.3, 1e9, 2.5]})
    diffs = compare.paired_differences(runs, reference="baseline")
    assert len(diffs) == len(sim.OUTCOME_NAMES)
    assert (diffs[["difference", "lo", "hi"]] == 0.0).all().all()
    assert (diffs["n_pairs"] == 5).all()


def test_paired_difference_uses_common_seeds_and_pairs_them():
    nan = float("nan")
    runs = fake_runs({"baseline": [1.0, 5.0, 9.0, 2.0], "other": [2.0, 6.0, 10.5, nan]})
    d = compare.paired_differences(runs).query("scenario == 'other'").iloc[0]
    assert d["n_pairs"] == 3
    assert d["difference"] == pytest.approx(1.5 / 3 + 2 / 3)
    # pairing removes the large between-seed spread: the interval is far narrower than the means'
    means = compare.scenario_means(runs).query("scenario == 'other'").iloc[0]
    assert d["hi"] - d["lo"] < (means["hi"] - means["lo"]) / 5


def test_means_interval_matches_the_t_interval():
    n, mean, lo, hi = compare.interval([1.0, 2.0, 3.0, 4.0])
    assert (n, mean) == (4, 2.5)
    assert hi - mean == pytest.approx(3.182446 * np.std([1, 2, 3, 4], ddof=1) / 2, rel=1e-6)
