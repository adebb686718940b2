"""The national run: the synthetic population reproduces what it was drawn from, groups pair across
scenarios, a small run writes its tables, and batches give the same groups whatever their number."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from experiments import national

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["population.groups=12", "days=15", "hydra/launcher=basic"]


def population_conf(*overrides: str):
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose("national", overrides=list(overrides)).population


def test_population_reproduces_the_documented_totals():
    spec = population_conf()
    groups = national.draw_population(spec)
    assert len(groups) == spec.groups == 9000                      # facts.md: ~9,000 groups (2019)
    assert groups["members"].max() <= spec.size_cap == 256           # WhatsApp's cap
    assert groups["members"].min() >= spec.size_min
    assert 60 <= groups["members"].median() <= 75                    # facts.md: typical 60-75
    assert 60 <= groups["members"].mean() <= 80                      # ~700,000 in ~10,000 groups
    for name, region in spec.regions.items():
        mine = groups[groups["region"] == name]
        assert np.allclose(mine["coverage"], region.coverage)
        coverage = mine["members"].sum() / mine["n_households"].sum()
        assert coverage == pytest.approx(region.coverage, rel=0.02), name
    weight = {n: r.population_share * r.coverage for n, r in spec.regions.items()}
    share = groups["region"].value_counts(normalize=True)
    for name, w in weight.items():
        assert share[name] == pytest.approx(w / sum(weight.values()), abs=1e-3)
    assert np.median(groups["rate_multiplier"]) == pytest.approx(1, abs=0.05)


def test_same_seed_same_groups_and_other_seed_other_groups():
    a, b = (national.draw_population(population_conf(f"population.seed={s}", "population.groups=500"))
            for s in (0, 0))
    pd.testing.assert_frame_equal(a, b)
    c = national.draw_population(population_conf("population.seed=1", "population.groups=500"))
    assert not a["seed"].equals(c["seed"])


def test_bad_population_is_an_error_naming_it():
    spec = population_conf("population.regions.noord.coverage=0")
    with pytest.raises(ValueError, match="noord"):
        national.draw_population(spec)


def run_national(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    return subprocess.run([sys.executable, "-m", "experiments.national", *SMALL, *args,
                           f"results_dir={tmp}"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_a_small_national_run_pairs_scenarios_group_by_group_and_resumes(tmp_path):
    done = run_national(tmp_path, "scenario=baseline,officer_in_group", "batches=3")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1].startswith("national: 12 groups in ")
    (out,) = (tmp_path / "national").glob("*/")
    for name in ("groups.parquet", "national.csv", "regions.csv", "distributions.csv",
                 "differences.csv", "national.md", "distributions.png", "regions.png"):
        assert (out / name).exists(), name
    groups = pd.read_parquet(out / "groups.parquet")
    base, officer = (groups[groups["scenario"] == s].set_index("group") for s in
                     ("baseline", "officer_in_group"))
    assert list(base.index) == list(officer.index) == list(range(12))
    assert (base[["members", "n_households", "region"]] == officer[["members", "n_households",
                                                                     "region"]]).all().all()
    diff = pd.read_csv(out / "differences.csv").set_index("outcome")
    assert diff.loc["police_reports", "difference"] == pytest.approx(
        officer["police_reports"].sum() - base["police_reports"].sum())
    totals = pd.read_csv(out / "national.csv").set_index("scenario")
    assert totals.loc["baseline", "groups"] == 12

    again = run_national(tmp_path, "scenario=baseline,officer_in_group", "batches=3")
    assert again.returncode == 0 and "6 batch jobs (6 already done)" in again.stderr


def test_batches_change_nothing_but_the_split(tmp_path):
    tables = []
    for batches in (1, 4, "auto"):
        done = run_national(tmp_path / str(batches), f"batches={batches}")
        assert done.returncode == 0, done.stderr[-3000:]
        tables.append(pd.read_parquet(next((tmp_path / str(batches) / "national").glob("*/groups.parquet"))))
    for table in tables[1:]:
        pd.testing.assert_frame_equal(table, tables[0])


def test_a_missing_reference_scenario_is_a_clear_error(tmp_path):
    done = run_national(tmp_path, "scenario=officer_in_group,report_form", "batches=1")
    assert done.returncode != 0
    assert "reference scenario 'baseline' was not run" in done.stderr


def test_a_killed_batch_of_the_forked_launcher_is_named_and_the_run_resumes(tmp_path):
    flag = tmp_path / "kill"
    flag.write_text("")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)]),
           "BUURTSIM_KILL": str(flag)}
    command = [sys.executable, "-m", "experiments.national", "population.groups=12", "days=15",
               "batches=2", "hydra/launcher=forked", "runner=experiments_fixtures.killed_once",
               f"results_dir={tmp_path}"]
    killed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert killed.returncode != 0
    assert "1 job(s) of the sweep ended without a result" in killed.stderr   # which, and how
    assert "killed by SIGKILL" in killed.stderr and "run the same command again" in killed.stderr
    assert len(list((tmp_path / "cache" / "national").glob("*.json"))) == 1  # the other batch's
    resumed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "2 batch jobs (1 already done)" in resumed.stderr


def test_a_damaged_batch_entry_is_named_and_recomputed(tmp_path):
    done = run_national(tmp_path, "batches=2")
    assert done.returncode == 0, done.stderr[-3000:]
    first = pd.read_parquet(next((tmp_path / "national").glob("*/groups.parquet")))
    cache = tmp_path / "cache" / "national"
    (table, other) = sorted(cache.glob("*.groups.arrow"))
    table.write_bytes(table.read_bytes()[:100])                  # a truncated table
    entry = other.with_name(other.name.replace(".groups.arrow", ".json"))
    entry.write_text(entry.read_text().replace('"batch": ', '"batch": 1'))  # an edited entry
    again = run_national(tmp_path, "batches=2")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "2 batch jobs (0 already done)" in again.stderr
    for path in (table, entry):
        lines = [line for line in again.stderr.splitlines() if str(path) in line]
        assert len(lines) == 1 and "recomput" in lines[0], again.stderr
    outs = sorted((tmp_path / "national").glob("*/"))
    assert (outs[-1] / "complete.json").exists() and (outs[-1] / "provenance.json").exists()
    pd.testing.assert_frame_equal(pd.read_parquet(outs[-1] / "groups.parquet"), first)


def test_batches_auto_fits_the_launcher_and_a_bad_value_is_named():
    joblib = {"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher", "n_jobs": 2}
    slurm = {"_target_": "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher",
             "array_parallelism": 200}
    assert national.batch_count("auto", 9000, joblib) == 18                  # 500 groups each
    assert national.batch_count("auto", 100, joblib) == 2                    # one per worker
    assert national.batch_count("auto", 9000, slurm) == 200
    assert national.batch_count("auto", 24, slurm) == 24                     # never an empty batch
    assert national.batch_count(7, 9000, slurm) == 7
    for bad in (0, "many", True):
        with pytest.raises(ValueError, match="batches = .* must be auto or an integer"):
            national.batch_count(bad, 100, joblib)


def test_every_group_of_the_full_population_has_valid_parameters_and_a_bad_spread_is_named():
    """All 9,000 groups: the rate multiplier's normal deviate is clipped at 3 sigma, so no group's
    rates leave their valid range (the unclipped tail gave one an ambiguous_rate of 1,371, above
    1,000, and failed its batch mid-run); a spread that still does is an error before any run."""
    import sim
    spec = population_conf()
    groups = national.draw_population(spec)
    assert len(groups) == 9000
    assert groups.rate_multiplier.max() <= np.exp(3 * spec.rate_spread) + 1e-9
    national.check_population(sim.Params.preset(), groups)
    wide = national.draw_population(population_conf("population.rate_spread=3.0"))
    with pytest.raises(ValueError, match=r"population group \d+ .*ambiguous_rate.*rate_spread"):
        national.check_population(sim.Params.preset(), wide)
