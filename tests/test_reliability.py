"""Results you can trust (issue 8): one test per defect, each written to fail on the old code.

A damaged cache entry is named and recomputed; bad input fails before anything is written, with
one line naming it; compare refuses inputs it cannot compare; the API and the command line give
the same numbers by default.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

import sim
from experiments import compare, store
from test_experiments import IN_PROCESS, SMALL, SWEEP, cli, run_cli, sweep_dirs

SEEDS = 10  # one run per kind of damage below, and one left sound
CORRUPT_SWEEP = ["-m", "scenario=baseline", f"seed=range({SEEDS})", "compare=false", IN_PROCESS, *SMALL]


# --- the run cache ------------------------------------------------------------------------------
def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def edit_json(path: Path, change) -> None:
    entry = json.loads(path.read_text())
    change(entry)
    path.write_text(json.dumps(entry))


CORRUPTIONS = {  # what is done to the entry of one run, and which of its files is damaged
    "truncated": (".json", truncate),
    "garbage": (".json", lambda p: p.write_bytes(b"\x00\xff garbage \x9c" * 20)),
    "empty": (".json", lambda p: p.write_text("")),
    "missing field": (".json", lambda p: edit_json(p, lambda e: e.pop("summary"))),
    "wrong hash": (".json", lambda p: edit_json(p, lambda e: e.update(sha256="0" * 64))),
    "edited value": (".json", lambda p: edit_json(p, lambda e: e["summary"].update(police_reports=9999))),
    "missing table": (".days.arrow", lambda p: p.unlink()),
    "truncated table": (".days.arrow", truncate),
}


def outcome_tables(sweep: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    runs = pd.read_parquet(sweep / "runs.parquet").sort_values("seed", ignore_index=True)
    days = pd.read_parquet(sweep / "days.parquet").sort_values(["seed", "day"], ignore_index=True)
    return runs[["seed", "key", *sim.OUTCOME_NAMES]], days


def test_every_kind_of_damaged_cache_entry_is_named_recomputed_and_ends_as_a_clean_sweep(tmp_path):
    clean = cli(*CORRUPT_SWEEP, results=tmp_path)
    assert clean.returncode == 0, clean.stderr
    expected = outcome_tables(sweep_dirs(tmp_path)[-1])
    keys = expected[0]["key"].tolist()
    cache = tmp_path / "cache"
    damaged = {}
    for key, (kind, (suffix, corrupt)) in zip(keys, CORRUPTIONS.items()):
        corrupt(cache / f"{key}{suffix}")
        damaged[kind] = cache / f"{key}{suffix}"
    swapped = keys[len(CORRUPTIONS)]  # another run's series in this run's place
    shutil.copy(cache / f"{keys[0]}.days.arrow", cache / f"{swapped}.days.arrow")
    damaged["swapped table"] = cache / f"{swapped}.days.arrow"

    rerun = cli(*CORRUPT_SWEEP, results=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    for kind, path in damaged.items():
        lines = [line for line in rerun.stderr.splitlines() if str(path) in line]
        assert len(lines) == 1 and "recomput" in lines[0], (kind, rerun.stderr)
    runs = pd.read_parquet(sweep_dirs(tmp_path)[-1] / "runs.parquet").set_index("key")
    recomputed = [p.name.split(".")[0] for p in damaged.values()]
    assert set(runs.loc[recomputed, "status"]) == {"ok"}
    assert set(runs.drop(index=recomputed)["status"]) == {"cached"}
    actual = outcome_tables(sweep_dirs(tmp_path)[-1])
    pd.testing.assert_frame_equal(actual[0], expected[0])
    pd.testing.assert_frame_equal(actual[1], expected[1])
    assert all(store.cached(cache, key) for key in keys)


def test_an_entry_of_another_key_is_not_used(tmp_path):
    done = cli("-m", "scenario=baseline", "seed=0,1", "compare=false", IN_PROCESS, *SMALL, results=tmp_path)
    assert done.returncode == 0, done.stderr
    a, b = pd.read_parquet(sweep_dirs(tmp_path)[-1] / "runs.parquet")["key"]
    cache = tmp_path / "cache"
    for suffix in (".json", ".days.arrow"):  # the whole entry of run b copied over run a's
        shutil.copy(cache / f"{b}{suffix}", cache / f"{a}{suffix}")
    assert not store.cached(cache, a, report=False)


def test_a_missing_entry_is_not_reported(tmp_path, capsys):
    assert not store.cached(tmp_path, "0" * 24)
    assert capsys.readouterr().err == ""


def test_two_identical_sweeps_at_once_compute_each_run_once(tmp_path):
    sweep = ["-m", "scenario=baseline,officer_in_group", "seed=0,1", "compare=false", IN_PROCESS,
             "days=60", "params.n_households=300"]
    procs = [run_cli(*sweep, results=tmp_path) for _ in range(2)]
    errors = [proc.communicate(timeout=240)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], errors
    statuses = pd.concat(pd.read_parquet(s / "runs.parquet") for s in sweep_dirs(tmp_path))["status"]
    assert statuses.value_counts().to_dict() == {"ok": 4, "cached": 4}


def test_results_directories_made_in_one_second_by_one_process_differ(tmp_path):
    first, second = store.new_results_dir(tmp_path, "x"), store.new_results_dir(tmp_path, "x")
    assert first != second and first.is_dir() and second.is_dir()


def test_the_model_fingerprint_is_computed_once_per_process():
    store.model_fingerprint(), store.model_fingerprint()
    assert store.model_fingerprint.cache_info().hits >= 1


# --- parameters and run arguments ---------------------------------------------------------------
@pytest.mark.parametrize("field", ["n_households", "n_admins", "crowd_size"])
def test_integer_parameters_reject_whole_floats_naming_the_field(field):
    with pytest.raises(ValueError, match=f"'{field}' = 1.0 must be an integer"):
        sim.Params(**{field: 1.0})


@pytest.mark.parametrize(("arguments", "named"), [
    ({"days": True}, "days = True"), ({"days": -3}, "days = -3"), ({"days": 2.0}, "days = 2.0"),
    ({"seed": True}, "seed = True"), ({"seed": -1}, "seed = -1"), ({"seed": 1.5}, "seed = 1.5"),
])
def test_run_rejects_bool_negative_and_fractional_days_and_seed_naming_them(arguments, named):
    with pytest.raises(ValueError, match=named):
        sim.run(sim.Params(n_households=50), **arguments)


@pytest.mark.parametrize("overrides", [
    {"n_admins": 0, "saar_enforced": True},       # SAAR is enforced by an admin
    {"coverage": 0.0, "saar_enforced": True},     # the admin is a member: no members, no admin
])
def test_a_rule_that_needs_an_admin_without_one_is_an_error(overrides):
    with pytest.raises(ValueError, match="'saar_enforced' = True needs an admin"):
        sim.Params(**overrides)


def test_harmless_combinations_are_documented_no_ops_not_errors():
    sim.Params.preset("no_admin")                  # admin_liaison and moderation rules: no admin, no effect
    sim.Params(coverage=0.0, n_admins=0)           # no group at all
    sim.Params(coverage=0.0, officer_in_group=True, report_form=True, police_feedback=True)
    sim.Params(n_admins=0, chatter_rule="strict")  # members still self-censor; nobody removes
    assert "admin_liaison" in sim.params.check_combination.__doc__  # the no-ops are listed there


# --- bad input fails before anything is written, in one line ------------------------------------
def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize(("override", "named"), [
    ("params.coverage=1.5", "'coverage' = 1.5 is out of range"),
    ("days=0", "days = 0"),
    ("days=-3", "days = -3"),
    ("seed=-1", "seed = -1"),
    ("params.chatter_rule=sometimes", "'chatter_rule' = 'sometimes'"),
    ("runner=nope.run", "nope.run"),
    ("params.saar_enforced=true", "'saar_enforced' = True needs an admin"),
])
def test_a_single_run_with_bad_input_writes_nothing_and_says_why_in_one_line(tmp_path, override, named):
    done = cli(override, "scenario=no_admin", "params.n_households=120", results=tmp_path / "results")
    assert named in one_line_error(done)
    assert not (tmp_path / "results").exists()


def test_an_unknown_runner_stops_a_sweep_before_any_run(tmp_path):
    done = cli("-m", "seed=0,1", "runner=nope.run", *SMALL, results=tmp_path)
    assert "nope.run" in one_line_error(done)
    assert not list(tmp_path.rglob("runs.json")) and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("mode", [[], ["-m", "seed=0,1"]])
def test_a_yaml_syntax_error_in_a_case_file_is_one_line_naming_the_file(tmp_path, mode):
    (tmp_path / "conf" / "case").mkdir(parents=True)
    broken = tmp_path / "conf" / "case" / "broken.yaml"
    broken.write_text("# @package params\nminority_share: [0.3\ncoverage: 0.2\n")
    done = cli(*mode, "case=broken", f"hydra.searchpath=[file://{tmp_path / 'conf'}]", *SMALL,
               results=tmp_path / "results")
    assert f"{broken}, line 3" in one_line_error(done)
    assert not (tmp_path / "results").exists()


# --- compare checks its inputs ------------------------------------------------------------------
@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> Path:
    results = tmp_path_factory.mktemp("results")
    done = cli(*SWEEP, IN_PROCESS, results=results)
    assert done.returncode == 0, done.stderr
    return sweep_dirs(results)[-1]


def compare_error(*argv: str) -> str:
    with pytest.raises(SystemExit) as stop:
        compare.main(list(argv))
    message = str(stop.value.code)
    assert stop.value.code not in (0, None) and "\n" not in message, message
    return message


@pytest.mark.xdist_group("finished_sweep")  # one worker runs the module's finished sweep once
def test_compare_with_an_unknown_reference_fails_and_writes_nothing(finished_sweep):
    assert "unknown reference scenario 'nope'" in compare_error(str(finished_sweep), "--reference", "nope")
    assert not (finished_sweep / "comparison_vs_nope").exists()


@pytest.mark.xdist_group("finished_sweep")  # one worker runs the module's finished sweep once
def test_compare_without_the_reference_scenario_in_the_sweep_fails(finished_sweep, tmp_path):
    runs = pd.read_parquet(finished_sweep / "runs.parquet")
    sweep = tmp_path / "sweep"
    shutil.copytree(finished_sweep, sweep)
    runs[runs["scenario"] != "baseline"].to_parquet(sweep / "runs.parquet")
    assert "reference scenario 'baseline'" in compare_error(str(sweep))
    assert not (sweep / "comparison").exists()


@pytest.mark.parametrize(("damage", "named"), [
    (lambda p: p.write_bytes(b"PAR1 not really"), "cannot read"),
    (lambda p: pd.DataFrame(columns=["case", "scenario"]).to_parquet(p), "lacks the column"),
    (lambda p: pd.read_parquet(p).iloc[:0].to_parquet(p), "no runs"),
])
@pytest.mark.xdist_group("finished_sweep")  # one worker runs the module's finished sweep once
def test_compare_on_a_broken_or_empty_table_fails_in_one_line(finished_sweep, tmp_path, damage, named):
    sweep = tmp_path / "sweep"
    shutil.copytree(finished_sweep, sweep)
    damage(sweep / "runs.parquet")
    message = compare_error(str(sweep))
    assert named in message and str(sweep / "runs.parquet") in message


def test_compare_names_an_interrupted_sweep_and_its_missing_runs_never_an_older_one(tmp_path):
    older = cli(*SWEEP, IN_PROCESS, results=tmp_path)
    assert older.returncode == 0, older.stderr
    (complete,) = sweep_dirs(tmp_path)
    proc = run_cli(*SWEEP, IN_PROCESS, "runner=experiments_fixtures.slow_run", "seeds_per_job=2",
                   results=tmp_path)
    deadline = time.time() + 120
    while not list(tmp_path.glob("sweeps/*/jobs/0/runs.json"))[1:] and time.time() < deadline:
        time.sleep(0.2)
    proc.kill()  # SIGKILL after its first job: two of its four runs
    proc.communicate()
    (interrupted,) = set(sweep_dirs(tmp_path)) - {complete}
    assert not (interrupted / store.COMPLETE).exists()
    for target in (tmp_path, interrupted):
        message = compare_error(str(target))
        assert f"{interrupted} is incomplete" in message and "seed=1" in message, message
    assert not (interrupted / "comparison").exists()


def test_a_sweep_that_cannot_be_compared_stops_before_any_run(tmp_path):
    done = cli("-m", "scenario=officer_in_group", "seed=0,1", *SMALL, results=tmp_path)
    assert "baseline" in one_line_error(done) and "compare=false" in one_line_error(done)
    assert not list(tmp_path.rglob("runs.json"))


# --- one source of defaults ---------------------------------------------------------------------
def test_the_api_and_the_command_line_give_the_same_numbers_by_default(tmp_path):
    done = cli("scenario=officer_in_group", "seed=3", "days=30", results=tmp_path)
    assert done.returncode == 0, done.stderr
    (single,) = (tmp_path / "single").glob("*")
    from_cli = pd.read_parquet(single / "runs.parquet").iloc[0]
    api = sim.run(sim.Params.preset("officer_in_group"), seed=3, days=30)
    assert {k: from_cli[f"param_{k}"] for k in sim.params.FIELDS} == api.params.to_dict()
    assert from_cli[list(sim.OUTCOME_NAMES)].to_dict() == pytest.approx(api.summary, nan_ok=True)


def test_the_defaults_are_the_calibration_shipped_with_the_package():
    calibrated = sim.params.calibration_values("calibrated")
    assert calibrated and sim.params.CALIBRATED_FILE.parent == Path(sim.__file__).parent
    preset = sim.Params.preset()
    assert {k: getattr(preset, k) for k in calibrated} == calibrated
    assert sim.run(seed=1, days=5).params == preset
    assert sim.NeighbourhoodWatch().params == preset
    assert sim.Params.preset(calibration=None) == sim.Params.preset(calibration="none") == sim.Params()
    with pytest.raises(ValueError, match="unknown calibration 'posterior'"):
        sim.Params.preset(calibration="posterior")


def test_hydra_reads_the_package_calibration_and_keeps_no_copy_of_it():
    from test_experiments import CONF, composed
    from experiments import schema

    assert not (CONF / "calibration" / "calibrated.yaml").exists()
    assert schema.to_params(composed()) == sim.Params.preset()
    assert schema.to_params(composed("calibration=none")) == sim.Params()
