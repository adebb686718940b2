"""The cluster path for real: a single-node Slurm cluster on this machine (tests/slurm_cluster.py),
a sweep and a national run submitted through Hydra's submitit_slurm launcher, one job killed on
purpose, the same command run again to resume, and the results compared with the local launcher's.

If the cluster cannot be started, these tests fail with the reason (they never skip).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hydra import compose, initialize_config_dir

import sim
from experiments.national import draw_population
from slurm_cluster import ClusterError, SlurmCluster

ROOT = Path(__file__).resolve().parent.parent
SLURM = ["hydra/launcher=submitit_slurm", "hydra.launcher.partition=debug",
         "hydra.launcher.timeout_min=15", "hydra.launcher.cpus_per_task=1", "hydra.launcher.mem_gb=1"]
RUNNER = "runner=cluster_fixtures.run_held_while_flagged"
SWEEP = ["-m", "scenario=baseline,officer_in_group", "seed=0,1,2", "days=20",
         "params.n_households=150", "compare=false", RUNNER]
ON_SLURM = ["seeds_per_job=3"]   # one job per scenario; the local pool batches them otherwise
NATIONAL = ["population.groups=24", "batches=3", "days=20", "scenario=baseline,officer_in_group", RUNNER]
HOLD_SEED = 1
pytestmark = pytest.mark.xdist_group("slurm")  # one cluster: both tests on one worker


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    try:
        c.start()
    except ClusterError as error:
        c.stop()
        pytest.fail(f"could not start a single-node Slurm cluster: {error}", pytrace=False)
    yield c
    c.stop()


def start(module: str, *args: str, results: Path, env: dict[str, str]) -> subprocess.Popen:
    env = {**env, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    return subprocess.Popen([sys.executable, "-m", module, *args, f"results_dir={results}"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = 400) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def kill_the_held_job(proc: subprocess.Popen, hold: Path, cluster: SlurmCluster) -> str:
    """Wait until the held run is running on the cluster, cancel its Slurm job, let the rest end."""
    job_file = Path(str(hold) + ".job")
    deadline = time.monotonic() + 240
    while not (job_file.exists() and job_file.read_text()):
        if proc.poll() is not None or time.monotonic() > deadline:
            out, err = proc.communicate()
            raise AssertionError(f"the held job never started (rc {proc.returncode}):\n{err[-3000:]}")
        time.sleep(0.5)
    job_id = job_file.read_text()
    subprocess.run(["scancel", job_id], env=cluster.env, check=True)
    return job_id


def drain(cluster: SlurmCluster, seconds: float = 240) -> None:
    """Wait until the cluster has no job left (submitit does not cancel the others)."""
    deadline = time.monotonic() + seconds
    while cluster.jobs("PENDING,RUNNING,COMPLETING,CONFIGURING"):
        assert time.monotonic() < deadline, f"jobs still queued: {cluster.jobs('PENDING,RUNNING')}"
        time.sleep(1)


def test_a_sweep_on_slurm_survives_a_killed_job_and_matches_the_local_launcher(cluster, tmp_path):
    hold = tmp_path / "hold"
    hold.write_text("")
    env = {**cluster.env, "BUURTSIM_HOLD": str(hold), "BUURTSIM_HOLD_SEED": str(HOLD_SEED)}
    results = tmp_path / "slurm"

    first = start("experiments.run", *SWEEP, *ON_SLURM, *SLURM, results=results, env=env)
    job_id = kill_the_held_job(first, hold, cluster)
    killed = finish(first)
    assert killed.returncode != 0, "a sweep with a cancelled job must not end as if complete"
    state = subprocess.run(["sacct", "-n", "-P", "-X", "-j", job_id, "-o", "State"], env=cluster.env,
                           capture_output=True, text=True).stdout
    assert "CANCELLED" in state, state
    drain(cluster)
    # the killed job ran seed 0 and was killed in seed 1 (its seed 2 never ran); the other job ran all
    assert len(list((results / "cache").glob("*.json"))) == 4, "the killed job's runs before it are kept"

    hold.unlink()
    resumed = finish(start("experiments.run", *SWEEP, *ON_SLURM, *SLURM, results=results, env=env))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "6 runs (4 already done, skipped)" in resumed.stderr
    (sweep,) = [d for d in sorted((results / "sweeps").glob("*")) if (d / "runs.parquet").exists()]
    on_slurm = pd.read_parquet(sweep / "runs.parquet")
    assert set(on_slurm["status"]) == {"ok", "cached"} and len(on_slurm) == 6
    assert (sweep / ".submitit").is_dir()

    local = finish(start("experiments.run", *SWEEP, "hydra/launcher=joblib", "seeds_per_job=2",
                         results=tmp_path / "local", env=env))   # other batches than on Slurm
    assert local.returncode == 0, local.stderr[-3000:]
    (local_sweep,) = sorted((tmp_path / "local" / "sweeps").glob("*"))
    here = pd.read_parquet(local_sweep / "runs.parquet")
    key = ["scenario", "seed"]
    a, b = on_slurm.sort_values(key).reset_index(drop=True), here.sort_values(key).reset_index(drop=True)
    assert list(a["key"]) == list(b["key"])
    for name in sim.OUTCOME_NAMES:
        assert np.array_equal(a[name].to_numpy(), b[name].to_numpy(), equal_nan=True), name


def test_a_national_run_on_slurm_resumes_after_a_kill_and_matches_the_local_launcher(cluster, tmp_path):
    hold = tmp_path / "hold"
    hold.write_text("")
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        population = draw_population(compose("national", overrides=NATIONAL[:1]).population)
    env = {**cluster.env, "BUURTSIM_HOLD": str(hold), "BUURTSIM_HOLD_SEED": str(population.seed[4])}
    results = tmp_path / "slurm"

    first = start("experiments.national", *NATIONAL, *SLURM, results=results, env=env)
    kill_the_held_job(first, hold, cluster)
    killed = finish(first)
    assert killed.returncode != 0
    assert "run the same command again" in killed.stderr
    drain(cluster)

    hold.unlink()
    resumed = finish(start("experiments.national", *NATIONAL, *SLURM, results=results, env=env))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "6 batch jobs (5 already done)" in resumed.stderr
    assert resumed.stdout.strip().splitlines()[-1].startswith("national: 24 groups in ")

    local = finish(start("experiments.national", *NATIONAL, results=tmp_path / "local", env=env))
    assert local.returncode == 0, local.stderr[-3000:]
    tables = [pd.read_parquet(next(d.glob("*/groups.parquet"))) for d in
              (results / "national", tmp_path / "local" / "national")]
    pd.testing.assert_frame_equal(*tables)
    assert len(tables[0]) == 2 * 24

