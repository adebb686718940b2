"""Calibration: targets, pyabc ABC-SMC end to end with resume, the posterior sample and
``calibration=posterior``, effects over the posterior, parameter recovery, the presets."""

from __future__ import annotations

import contextlib
import copy
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
import types
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyabc
import pytest
import yaml

import sim
from experiments import calibrate, posterior, posterior_effects, recovery, store
from experiments.study import (CONF, TARGETS_FILE, Design, Group, active_targets, inactive_targets,
                               load_yaml, measure, run_study, validate_targets)

ROOT = Path(__file__).resolve().parent.parent

# Every fact of shared/domain/facts.md that a simulated study can reproduce must be a target.
REQUIRED = {"lastage_reports", "reports_per_month_min", "reports_per_month_max", "lastage_follow_up_share",
            "lastage_look_share", "lastage_municipality_share", "lastage_officer_share", "lastage_arrests",
            "groups_with_arrests", "undesired_episodes", "group_size", "group_size_end", "household_coverage",
            "incident_mix_burglary", "incident_mix_attempted_burglary", "incident_mix_vehicle_crime",
            "incident_mix_vandalism", "officer_in_group", "signalling_share", "feedback_share",
            "feels_unsafe_national", "feels_often_unsafe_national"}

# The targets whose outcome this model does not have yet, and the branch that adds it. When that
# branch is merged the target becomes active by itself and this set must shrink (the test says so).
AWAITING: dict[str, str] = {}   # target -> the work that adds its outcome (none left)


@pytest.fixture(scope="module")
def spec():
    return load_yaml(TARGETS_FILE)


# -- targets -------------------------------------------------------------------------------------------
def test_target_file_is_complete_and_valid(spec):
    validate_targets(spec)
    names = {t["name"] for t in spec["targets"]}
    assert REQUIRED <= names, REQUIRED - names
    for t in spec["targets"]:
        assert t["source"].strip() and t["case"] in ("lastage", "six_groups", "generic")
    design = Design.from_targets(spec)
    assert len(design.groups) == 6
    assert sum(g.officer_in_group for g in design.groups) == 1


def test_inactive_targets_are_exactly_those_waiting_for_other_branches(spec):
    inactive = inactive_targets(spec)
    assert set(inactive) == set(AWAITING), (
        "a target became active or inactive: update AWAITING (and the lead's merge notes)", inactive)
    for name, branch in AWAITING.items():
        assert branch in inactive[name]
    assert {t["name"] for t in active_targets(spec)} == {t["name"] for t in spec["targets"]} - set(AWAITING)


def test_a_missing_outcome_is_an_error_naming_it(spec):
    bad = copy.deepcopy(spec)
    bad["targets"][0]["measure"]["columns"] = ["no_such_column"]
    with pytest.raises(ValueError, match="no_such_column"):
        validate_targets(bad)
    bad = copy.deepcopy(spec)
    del bad["targets"][0]["source"]
    with pytest.raises(ValueError, match="source"):
        validate_targets(bad)
    # an awaited outcome is valid data, but a default calibration refuses to run without it
    waiting = copy.deepcopy(spec)
    waiting["targets"][0]["measure"]["columns"] = ["future_outcome"]
    waiting["targets"][0]["awaits"] = "issue-99"
    validate_targets(waiting)
    with pytest.raises(ValueError, match="future_outcome.*issue-99"):
        calibrate.fitted_targets(waiting, active_only=False)
    measured, fitted = calibrate.fitted_targets(waiting, active_only=True)
    assert waiting["targets"][0]["name"] not in {t["name"] for t in measured + fitted}


def test_every_active_target_is_measured_by_the_model(spec):
    design = Design.from_targets(spec, months_scale=0.25)
    records = run_study(sim.Params(), design, seed=3, study={"lastage_rate_multiplier": 4.0})
    assert set(records) == {g.name for g in design.groups}
    by = {t["name"]: t for t in spec["targets"]}
    for t in active_targets(spec):
        assert math.isfinite(measure(t, records, design)), t["name"]
    rec = records["lastage"]
    # totals are extrapolated from the shortened window to the group's full window
    assert measure(by["lastage_reports"], records, design) == pytest.approx(
        rec["police_reports"] * 28 / rec["months"])
    assert measure(by["officer_in_group"], records, design) == 1
    others = [records[g.name] for g in design.groups if g.name != "lastage"]
    assert measure(by["group_size_end"], records, design) == pytest.approx(
        np.mean([r["last_members"] for r in others]))


def test_measure_aggregates_across_groups():
    design = Design((Group("lastage", "lastage", 10, False), Group("b", "generic", 10, False, 0.5),
                     Group("c", "generic", 10, False, 0.5)), 100)
    base = {"months": 10.0, "target_months": 10.0, "n_households": 100}
    records = {"lastage": {**base, "arrests": 3, "police_reports": 20, "follow_ups": 10, "last_members": 5},
               "b": {**base, "arrests": 0, "police_reports": 1, "follow_ups": 1, "last_members": 7},
               "c": {**base, "arrests": 1, "police_reports": 9, "follow_ups": 0, "last_members": 9}}

    def m(**measure_spec):
        return measure({"measure": measure_spec}, records, design)

    assert m(columns=["arrests"], stat="total", groups="all", across="count_positive") == 2
    assert m(columns=["police_reports"], stat="per_month", groups="all", across="min") == 0.1
    assert m(columns=["police_reports"], stat="per_month", groups="others", across="max") == 0.9
    assert m(columns=["follow_ups"], stat="share", denominator=["police_reports"], groups="all",
             across="pooled") == pytest.approx(11 / 30)
    assert m(columns=["police_reports"], stat="per_month", groups="all", across="count_within",
             within=[0.5, 2.0]) == 2
    assert m(columns=["members"], stat="last", groups="others", across="mean") == 8


def test_priors_lie_inside_the_parameter_ranges():
    prior = calibrate.load_prior()
    assert "dispatch_prob" in prior.names and "lastage_rate_multiplier" in prior.names
    carried = calibrate.load_prior(section=("carried",))
    assert {"deterrence", "post_prob", "call_112_prob"} <= set(carried.names)
    assert not set(carried.names) & set(prior.names)
    assert carried.without(("deterrence", "nothing")).names == tuple(n for n in carried.names if n != "deterrence")
    with pytest.raises(ValueError):
        calibrate.load_prior({"params": {"dispatch_prob": {"low": 0.5, "high": 1.5}}})


def test_noise_kernel_is_poisson_for_counts_and_normal_otherwise():
    from scipy import stats

    targets = [{"name": "n", "sd": 2.0, "value": 5}, {"name": "c", "sd": 1.0, "value": 5, "noise": "poisson"}]
    kernel = calibrate.NoiseKernel(targets)
    got = kernel({"n": 4.0, "c": 3.0}, {"n": 5.0, "c": 5.0})
    assert got == pytest.approx(stats.norm.logpdf(5, 4, 2) + stats.poisson.logpmf(5, 3))
    # a simulated count of zero does not make the observed count impossible
    assert math.isfinite(kernel({"n": 5.0, "c": 0.0}, {"n": 5.0, "c": 5.0}))


def test_default_budget_is_at_least_ten_thousand_studies():
    """The main ABC and the hold-out each spend at most their budget, and fall short of it by less than
    a quarter of a generation (about 1,000 studies at the main ABC's last generations)."""
    assert calibrate.DEFAULT.max_studies + calibrate.DEFAULT.holdout_max_studies >= 10_500
    small = calibrate.scaled(calibrate.DEFAULT, 0.001)
    assert small.population == 4 and small.months_scale == 1.0
    assert calibrate.scaled(calibrate.DEFAULT, 0.5).max_studies == calibrate.DEFAULT.max_studies // 2


# -- pyabc end to end, with resume -------------------------------------------------------------------
def _generations(db: Path) -> pd.DataFrame:
    """The finished generations, read without writing: pyabc.History would stamp a version into a
    database the calibration is still creating, and the calibration's own stamp then fails."""
    if not db.exists():
        return pd.DataFrame(columns=["t", "nr_samples", "epsilon"])
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as con:
            return pd.read_sql("SELECT t, nr_samples, epsilon FROM populations WHERE t >= 0 ORDER BY t", con)
    except (sqlite3.OperationalError, pd.errors.DatabaseError):   # tables not created yet, or locked
        return pd.DataFrame(columns=["t", "nr_samples", "epsilon"])


def test_quick_calibration_end_to_end_resumes_after_interruption(tmp_path):
    run_dir = tmp_path / "run"
    db = run_dir / "history.db"
    # a study budget that leaves room for generations after the first, whatever the first one took
    # (at 80 a second generation that cost more than predicted was stopped at the budget, leaving
    # nothing to continue; quick mode's 3 generations bound the run)
    budget = ["--quick", "--workers", "1", "--max-studies", "400", "--run-dir", str(run_dir)]
    cmd = [sys.executable, "-m", "experiments.calibrate", *budget]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             start_new_session=True)
    try:
        deadline = time.time() + 240
        while time.time() < deadline and first.poll() is None:   # stop it after its first generation
            if len(_generations(db)) >= 1:
                os.killpg(first.pid, signal.SIGKILL)
                break
            time.sleep(0.3)
    finally:   # whatever happened above, no calibration outlives the test
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        output = first.communicate()[0].decode()
    assert first.returncode == -signal.SIGKILL, f"the first run ended before it could be interrupted:\n{output}"
    before = _generations(db)
    assert len(before) >= 1, f"no generation finished within 240 s:\n{output}"
    assert not (run_dir / "report.md").exists()

    summary = calibrate.main(budget)
    after = _generations(db)
    assert len(after) > len(before), "the second run did not add generations"
    pd.testing.assert_frame_equal(after.iloc[:len(before)].reset_index(drop=True),
                                  before.reset_index(drop=True))   # continued, did not start over
    assert summary["n_generations"] == len(after)
    for name in ("report.md", "predictive_check.png", "posterior.png", "holdout.png", "calibrated.yaml",
                 "posterior.csv", "posterior_summary.csv", "predictive_check.csv", "holdout.csv",
                 "first_stage.csv", "first_stage.png"):
        assert (run_dir / name).exists(), name
    report = (run_dir / "report.md").read_text()
    for section in ("First stage: parameters fitted on their own", "Posterior predictive check",
                    "Hold-out: calibrated without the Lastage targets",
                    "Recovery", "What the six cases do and do not tell us",
                    *(("Targets not used",) if AWAITING else ())):
        assert section in report, section
    holdout = pd.read_csv(run_dir / "holdout.csv")
    assert {"lastage_reports", "lastage_arrests"} <= set(holdout.target)   # arrests: a check, predicted too
    assert "prior_reach" in pd.read_csv(run_dir / "predictive_check.csv").columns
    # the point preset: a mapping parameter -> value under a provenance header
    text = (run_dir / "calibrated.yaml").read_text()
    preset = yaml.safe_load(text)
    sim.Params().replace(**preset)
    assert set(preset) == {n for n in calibrate.load_prior().names if n in sim.params.FIELDS}
    assert "Carried forward, not calibrated" in text and "deterrence" in text
    assert "# Fitted first, on its own" in text and "fear_baseline to feels_unsafe_national" in text
    # the joint ABC left the first stage's targets out of its distance, and the parameter out of its prior
    stored = pyabc.History(f"sqlite:///{db}", _id=1)
    assert "feels_unsafe_national" not in stored.observed_sum_stat()
    assert "fear_baseline" not in stored.get_distribution(m=0, t=stored.max_t)[0].columns
    assert [f["parameter"] for f in summary["first"]] == ["fear_baseline"]
    table, w = posterior.load_sample(run_dir / "posterior.csv")
    carried = calibrate.load_prior(section=("carried",)).names
    assert set(table.columns) == set(preset) | set(carried) and np.isclose(w.sum(), 1)
    for name in carried:   # the point preset leaves them at their documented default, and says so
        assert f"#   {name}: " in text and name not in preset
    # adoption installs both, where it is told to
    conf = tmp_path / "posterior.yaml"
    calibrate.adopt(run_dir, tmp_path / "calibrated.yaml", tmp_path / "posterior.csv", conf)
    assert yaml.safe_load((tmp_path / "calibrated.yaml").read_text()) == preset
    assert "${posterior:" in conf.read_text()


class _FifteenParameterToy:
    """A cheap stand-in for the study, shaped like the calibration as it was of 15 parameters (the
    calibrated and carried ones but deterrence and, since session 8, feedback_prob), 15 noisy statistics, five driven by one parameter
    each, two by the mean of five, eight by none."""

    def __init__(self):
        self.prior = calibrate.load_prior(section=("params", "study", "carried")).without(("deterrence", "feedback_prob"))
        self.targets = tuple({"name": f"s{i}", "value": 0.5, "sd": 0.1} for i in range(15))

    def __call__(self, pars: dict) -> dict[str, float]:
        z = np.array([pars[n] for n in self.prior.names])
        u = (z - self.prior.z_low) / (self.prior.z_high - self.prior.z_low)
        x = np.r_[u[:5], u[5:10].mean(), u[10:].mean(), np.random.uniform(size=8)]
        return {t["name"]: float(v) for t, v in zip(self.targets, x + np.random.normal(0, 0.1, 15))}


def test_independent_transition_is_pyabcs_aggregated_one_dimensional_kernels():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(80, 15)), columns=[f"p{i}" for i in range(15)])
    w = rng.uniform(size=80)
    w /= w.sum()
    ours = calibrate.transition("independent")
    ours.fit(X, w)
    reference = pyabc.AggregatedTransition({c: pyabc.MultivariateNormalTransition() for c in X.columns})
    reference.fit(X, w)
    points = pd.DataFrame(rng.uniform(size=(10, 15)), columns=X.columns)
    np.testing.assert_allclose(ours.pdf(points), reference.pdf(points), rtol=1e-10)
    assert ours.pdf(points.iloc[3]) == pytest.approx(reference.pdf(points.iloc[3]), rel=1e-10)
    np.random.seed(1)
    draws = ours.rvs(4000)
    assert list(draws.columns) == list(X.columns)
    np.testing.assert_allclose(draws.mean(), w @ X.to_numpy(), atol=0.03)
    with pytest.raises(ValueError, match="transition 'nope'"):
        calibrate.transition("nope")


def test_the_distance_sees_each_statistic_in_units_of_its_targets_sd_in_pyabcs_order():
    """The observed statistics may come back from the history in another order than the targets'."""
    targets = [{"name": "reports", "value": 42.0, "sd": 3.0}, {"name": "fear", "value": 0.16, "sd": 0.03}]
    units = calibrate.InSdUnits(targets)
    units.initialize(t=0, get_sample=None, x_0={"fear": 0.16, "reports": 42.0}, total_sims=0)
    np.testing.assert_allclose(units({"reports": 45.0, "fear": 0.10}), [0.10 / 0.03, 45.0 / 3.0])


def test_prior_reach_names_a_target_no_prior_study_produces():
    x = np.r_[np.arange(100.0), np.nan]
    assert calibrate.prior_reach({"value": 49.5}, x) == 0.5             # the prior's median
    assert calibrate.prior_reach({"value": 2.0}, x) == 0.03             # 0, 1 and 2 reach it from below
    assert calibrate.prior_reach({"value": 150.0}, x) == 0.0 < calibrate.REACH_FLOOR
    assert np.isnan(calibrate.prior_reach({"range": [1, 2]}, x))
    ppc = pd.DataFrame({"target": ["a", "b"], "use": ["calibrate", "check"], "prior_reach": [0.0, 0.4]})
    line = calibrate._reach_lines(ppc, 100)[0]
    assert "Out of the model's reach" in line and "a (calibrate, 0%)" in line and "b (" not in line


def test_scales_sd_is_the_euclidean_distance_in_each_targets_sd(tmp_path):
    targets = ({"name": "reports", "value": 42.0, "sd": 3.0}, {"name": "fear", "value": 0.16, "sd": 0.03})
    distance = calibrate.abc_method(targets, replace(calibrate.DEFAULT, scales="sd"), tmp_path / "h.db")[
        "distance_function"]
    distance.initialize(t=0, get_sample=None, x_0={"fear": 0.16, "reports": 42.0}, total_sims=0)
    assert distance({"reports": 45.0, "fear": 0.10}, {"fear": 0.16, "reports": 42.0}, t=3) == pytest.approx(
        math.hypot(3.0 / 3.0, 0.06 / 0.03))
    with pytest.raises(ValueError, match="needs an sd for every target: chat_stat have none"):
        calibrate.abc_method(({"name": "chat_stat", "value": 1.0},), replace(calibrate.DEFAULT, scales="sd"),
                             tmp_path / "h.db")


def test_defensive_proposal_bounds_every_importance_weight_and_draws_its_share_from_the_prior():
    """prior / proposal <= 1 / share everywhere in the prior's box, whatever the kernel was fitted to
    (here: particles crowded at the centre of a box whose columns pyabc orders differently)."""
    rng = np.random.default_rng(2)
    bounds = {"b": (0.0, 2.0), "a": (-1.0, 1.0), "c": (0.0, 1.0)}
    X = pd.DataFrame({"a": rng.normal(0.0, 0.01, 200), "b": rng.normal(1.0, 0.01, 200), "c": rng.normal(0.5, 0.01, 200)})
    proposal = calibrate.DefensiveTransition(calibrate.transition("independent"), bounds, share=0.2)
    proposal.fit(X, np.full(200, 1 / 200))
    prior_density = 1 / (2.0 * 2.0 * 1.0)
    corners = pd.DataFrame({"a": [-0.99, 0.99, 0.0], "b": [0.01, 1.99, 1.0], "c": [0.01, 0.99, 0.5]})
    density = proposal.pdf(corners)
    assert np.all(prior_density / density <= 1 / 0.2 + 1e-9), density
    assert density[2] > 100 * density[0]                      # the kernel still dominates where it sits
    assert proposal.pdf(pd.Series({"a": 1.5, "b": 1.0, "c": 0.5})) == pytest.approx(
        0.8 * proposal.kernel.pdf(pd.Series({"a": 1.5, "b": 1.0, "c": 0.5})))   # outside the box: kernel only
    np.random.seed(3)
    draws = proposal.rvs(4000)
    far = (draws.a.abs() > 0.1) | ((draws.b - 1).abs() > 0.1)
    assert 0.17 < far.mean() < 0.23                            # the prior's share (almost all far from the centre)
    assert draws.b.between(0, 2).all()                         # prior draws stay in the box
    with pytest.raises(ValueError, match="defensive share 1"):
        calibrate.DefensiveTransition(calibrate.transition("independent"), bounds, share=1)


def test_importance_weights_do_not_degenerate_in_fifteen_dimensions(tmp_path):
    """The calibration's own proposal keeps the effective sample size of every generation after the
    first at >= 20% of the population on a 15-parameter problem where most parameters stay at their
    prior (as in ours). Over seeds 1-7 the default kernel's lowest generation is at 26-49%, pyabc's
    joint multivariate normal kernel's at 3-15% (and 15-18 of 500 on the real calibration;
    docs/calibration.md: Weights). The default proposal is the per-parameter kernel mixed with 20% prior
    (DefensiveTransition); without the mixture the 4th generation falls to 20-39% (seeds 1-4)."""
    assert len(_FifteenParameterToy().prior.names) == 15
    settings = replace(calibrate.DEFAULT, max_generations=4, seed=3)
    history = calibrate.abc_smc(_FifteenParameterToy(), tmp_path / "h.db", settings, population=60,
                                max_studies=3000, workers=1)
    gens = calibrate.generations_table(history)
    assert len(gens) == 4
    assert (gens.ess_share >= calibrate.LOW_ESS).all(), gens


class _OneParameterToy:
    """A one-parameter stand-in for the study: one statistic, the parameter plus noise."""

    def __init__(self):
        self.prior = calibrate.Prior.from_spec({"dispatch_prob": {"low": 0.3, "high": 1.0}})
        self.targets = ({"name": "s", "value": 0.6, "sd": 0.1},)

    def __call__(self, pars: dict) -> dict[str, float]:
        return {"s": float(pars["dispatch_prob"] + np.random.normal(0, 0.05))}


def test_each_study_draws_the_carried_parameters_from_their_prior(monkeypatch):
    """Carried parameters are marginalised: every study of the calibration gets its own draw from
    their prior, beside the calibrated values pyabc proposes."""
    seen = []
    monkeypatch.setattr(calibrate, "simulate_targets",
                        lambda base, names, design, targets, theta, seed: seen.append(dict(zip(names, theta))) or [0.5])
    prior = calibrate.Prior.from_spec({"dispatch_prob": {"low": 0.3, "high": 1.0}})
    carried = calibrate.Prior.from_spec({"post_prob": {"low": 0.2, "high": 0.9},
                                         "go_out_prob": {"low": 0.002, "high": 0.05, "log": True}})
    model = calibrate.StudyModel(sim.Params(), prior, None, ({"name": "s", "value": 0.5, "sd": 0.1},), carried)
    np.random.seed(0)
    for _ in range(200):
        model({"dispatch_prob": 0.6})
    table = pd.DataFrame(seen)
    assert list(table.columns) == ["dispatch_prob", "post_prob", "go_out_prob"]
    assert (table.dispatch_prob == 0.6).all()
    assert table.post_prob.between(0.2, 0.9).all() and table.post_prob.std() > 0.15   # U(0.2, 0.9): sd 0.2
    assert table.go_out_prob.between(0.002, 0.05).all() and table.go_out_prob.median() < 0.015   # log-uniform
    assert table.post_prob.nunique() == 200


def test_a_history_killed_while_starting_starts_again_and_a_broken_one_is_a_clear_error(tmp_path):
    settings = replace(calibrate.DEFAULT, max_generations=2, seed=1)
    started = tmp_path / "started.db"
    pyabc.History(f"sqlite:///{started}")   # a run killed after creating its database, before generation 0
    history = calibrate.abc_smc(_OneParameterToy(), started, settings, population=10, max_studies=100,
                                workers=1)
    assert history.max_t == 1 and history.observed_sum_stat() == {"s": 0.6}
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database, but someone's file" * 100)
    with pytest.raises(SystemExit, match="broken.db is not a readable calibration history"):
        calibrate.abc_smc(_OneParameterToy(), broken, settings, population=10, max_studies=100, workers=1)
    assert broken.read_bytes().startswith(b"not a database")   # left as it was


def test_the_next_generation_is_sized_to_the_studies_left():
    """Cost per particle grows as the last two generations did; the generation that would overrun the
    budget runs with the particles the rest pays for, none if that is under a quarter."""
    assert calibrate.predicted_cost([]) == calibrate.FIRST_COST
    assert calibrate.predicted_cost([2.0]) == 2.0 * calibrate.FIRST_COST
    assert calibrate.predicted_cost([2.0, 3.0]) == pytest.approx(4.5)
    assert calibrate.predicted_cost([3.0, 2.0]) == 2.0            # never predicted cheaper than the last
    # session 9: 500 + 971 + 1,430 + 2,116 studies, then a 3,012 generation ran past the 8,000 budget
    costs = [971 / 500, 1430 / 500, 2116 / 500]
    assert calibrate.next_population(costs[:2], 2901, 500, 8000) == 500
    n = calibrate.next_population(costs, 5017, 500, 8000)
    assert n == int((8000 - 5017) / calibrate.predicted_cost(costs)) and 400 < n < 500
    assert calibrate.next_population(costs, 7900, 500, 8000) == 0   # 100 studies: ~20 particles
    assert calibrate.next_population([], 0, 500, 100) == 0


def test_the_study_budget_holds_within_a_generation_and_a_continued_run_agrees(tmp_path):
    settings = replace(calibrate.DEFAULT, max_generations=40, seed=1)
    whole = calibrate.abc_smc(_OneParameterToy(), tmp_path / "whole.db", settings, population=20,
                              max_studies=400, workers=1)
    spent = whole.total_nr_simulations + calibrate.aborted_studies(whole)
    assert 300 < spent <= 400 and calibrate.budget_spent(whole, 20, 400)   # single core: exactly at most
    assert "study budget 400 reached" in calibrate.stop_reason(whole, settings, 20, 400)
    again = calibrate.abc_smc(_OneParameterToy(), tmp_path / "whole.db", settings, population=20,
                              max_studies=400, workers=1)   # nothing left to pay for: unchanged
    assert again.total_nr_simulations == whole.total_nr_simulations and again.max_t == whole.max_t


class _StoppedSample:
    def __init__(self, accepted):
        self.ok, self.n_accepted = False, accepted


def test_a_generation_stopped_at_the_budget_keeps_its_particles_if_they_are_a_quarter_of_the_population():
    sampler = types.SimpleNamespace(sample_until_n_accepted=lambda n, simulate_one, t, **kw: _StoppedSample(t))
    calibrate.keep_stopped_generations(sampler, population=20)   # a quarter: 5 particles
    assert sampler.sample_until_n_accepted(10, None, 5, max_eval=30).ok          # 5 accepted: kept
    assert not sampler.sample_until_n_accepted(10, None, 4, max_eval=30).ok      # 4: not kept


def test_the_study_budget_is_spent_on_kept_generations(tmp_path):
    """On the toy, budgets 330 and 400 stop a generation in the middle (the last generation costs more
    than predicted): it ends exactly at the budget with the particles it has (11 and 19 of 20), and no
    study is thrown away (before, both were aborted and their 98 and 168 studies lost)."""
    settings = replace(calibrate.DEFAULT, max_generations=40, seed=1)
    for budget in (330, 400):
        history = calibrate.abc_smc(_OneParameterToy(), tmp_path / f"b{budget}.db", settings, population=20,
                                    max_studies=budget, workers=1)
        last = history.get_all_populations().particles.iloc[-1]
        assert history.total_nr_simulations == budget and calibrate.aborted_studies(history) == 0
        assert calibrate.MIN_LAST_SHARE * 20 <= last < 20
        theta, w = calibrate.final_sample(history, _OneParameterToy().prior)
        assert len(theta) == last and np.isclose(w.sum(), 1)


def test_point_candidates_are_the_mean_the_median_then_distinct_weighted_particles():
    theta = np.array([[0.0, 1.0], [1.0, 3.0], [2.0, 5.0], [9.0, 9.0]])
    w = np.array([0.2, 0.5, 0.3, 0.0])
    c = calibrate.point_candidates(theta, w, np.random.default_rng(0), 5)
    np.testing.assert_allclose(c[0], w @ theta)
    np.testing.assert_allclose(c[1], [calibrate.weighted_quantile(theta[:, j], w, [0.5])[0] for j in (0, 1)])
    particles = c[2:]
    assert len(particles) == 3 and len({tuple(r) for r in particles}) == 3   # every particle of weight > 0, once
    assert [9.0, 9.0] not in particles.tolist()
    assert len(calibrate.point_candidates(theta, w, np.random.default_rng(0), 1)) == 1   # the mean alone


def test_the_point_preset_is_the_candidate_closest_to_the_targets(monkeypatch):
    targets = [{"name": "a", "value": 0.3, "sd": 0.1}, {"name": "b", "value": 10.0, "sd": 2.0}]

    def fake_predictive(base, prior, design, targets_, theta, rng, executor, carried=None, seeds=None):
        assert carried is None                       # the preset runs with the carried at their defaults
        by_candidate = seeds.reshape(-1, 4)          # common random numbers: every candidate, the same seeds
        assert (by_candidate == by_candidate[0]).all() and len(set(by_candidate[0])) == 4
        noise = rng.normal(0, 0.01, (len(theta), 2))
        return np.column_stack([theta[:, 0], 20 * theta[:, 1]]) + noise

    monkeypatch.setattr(calibrate, "predictive", fake_predictive)
    candidates = np.array([[0.9, 0.5], [0.5, 0.5], [0.31, 0.52], [0.3, np.nan]])
    best, fit = calibrate.choose_point(None, None, None, targets, candidates, 4, np.random.default_rng(1), None)
    assert best == 2
    assert fit[2] < fit[1] < fit[0]
    # an unmeasurable target counts as a NAN_MISS-sd miss, as in the ABC
    assert fit[3] == pytest.approx(calibrate.NAN_MISS ** 2, rel=0.01)
    np.testing.assert_allclose(calibrate.mean_sq_distance(targets, np.array([[[0.4, 12.0], [0.3, 10.0]]])),
                               [(1 + 1) / 2])


def test_the_point_is_refined_along_a_learnt_parameter_within_its_posterior(monkeypatch):
    targets = [{"name": "a", "value": 0.3, "sd": 0.05}, {"name": "b", "value": 10.0, "sd": 2.0}]

    def fake_predictive(base, prior, design, targets_, theta, rng, executor, carried=None, seeds=None):
        return np.column_stack([theta[:, 0], 20 * theta[:, 1]]) + rng.normal(0, 0.005, (len(theta), 2))

    monkeypatch.setattr(calibrate, "predictive", fake_predictive)
    rng = np.random.default_rng(2)
    theta = np.column_stack([rng.uniform(0.2, 0.8, 500), rng.uniform(0.4, 0.6, 500)])
    w = np.full(500, 1 / 500)
    start = np.array([0.7, 0.55])
    point, moves = calibrate.refine_point(None, None, None, targets, start, theta, w, [0], 9, 4, rng, None)
    assert point[1] == 0.55                                   # only the learnt parameter moves
    assert abs(point[0] - 0.3) < 0.05 and point[0] >= np.quantile(theta[:, 0], 0.04)   # inside the posterior
    (before, after, d_before, d_after), = moves.values()
    assert (before, after) == (0.7, point[0]) and d_after < d_before
    same, _ = calibrate.refine_point(None, None, None, targets, start, theta, w, [], 9, 4, rng, None)
    np.testing.assert_array_equal(same, start)                # nothing learnt: the point stays


def test_report_warns_of_degenerate_weights():
    gens = pd.DataFrame({"t": [0, 1, 2], "particles": [60] * 3, "ess": [60.0, 30.0, 2.0]})
    gens["ess_share"] = gens.ess / gens.particles
    assert calibrate.ess_warning(gens.iloc[:2]) == []
    warned = calibrate.ess_warning(gens)
    assert "degenerate weights" in warned[0] and "generation(s) 2 (lowest 2 of 60)" in warned[0]
    assert calibrate.degenerate_generations(gens).t.tolist() == [2]


def test_stochastic_acceptor_runs_with_the_noise_kernels(tmp_path, spec):
    by = {t["name"]: t for t in spec["targets"]}
    targets = (by["lastage_reports"], by["lastage_arrests"], by["lastage_look_share"])
    design = Design((Group("lastage", "lastage", 28, False),), 270, months_scale=0.1)
    prior = calibrate.Prior.from_spec({"dispatch_prob": {"low": 0.3, "high": 1.0},
                                       "lastage_rate_multiplier": {"low": 1.0, "high": 6.0, "log": True}})
    settings = calibrate.Settings(acceptor="stochastic", max_generations=2)
    history = calibrate.abc_smc(calibrate.StudyModel(sim.Params(), prior, design, targets),
                                tmp_path / "h.db", settings, population=8, max_studies=400, workers=1)
    assert history.max_t >= 1
    theta, w = calibrate.final_sample(history, prior)
    assert theta.shape == (len(w), 2) and np.isclose(w.sum(), 1)


# -- the posterior sample and calibration=posterior -----------------------------------------------------
def _compose(*override_lists):
    """The validated parameters of each composed config (one Hydra initialisation for all)."""
    from hydra import compose, initialize_config_dir

    from experiments import schema

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        found = [schema.check_run(compose("config", overrides=o)) for o in override_lists]
    return found if len(found) > 1 else found[0]


def test_committed_posterior_sample_loads_validates_and_names_its_provenance():
    table, w = posterior.load_sample()
    assert len(table) >= 50 and np.isclose(w.sum(), 1)
    assert "deterrence" in table.columns   # carried-forward uncertainty
    assert set(calibrate.load_prior().names) & set(sim.params.FIELDS) <= set(table.columns)
    text = posterior.SAMPLE_FILE.read_text()
    assert "ABC-SMC" in text and "Carried forward" in text
    conf = yaml.safe_load(posterior.CONF_FILE.read_text())
    assert set(conf) == set(table.columns)


@pytest.mark.parametrize("case", sorted(p.stem for p in (CONF / "case").glob("*.yaml")))
def test_posterior_composes_with_every_case_and_scenario(case):
    draw = posterior.draw(7)
    scenarios = sorted(p.stem for p in (CONF / "scenario").glob("*.yaml"))
    composed = _compose(*[["calibration=posterior", f"case={case}", f"scenario={s}", "seed=7"] for s in scenarios])
    for scenario, params in zip(scenarios, composed):
        fixed = {**(load_yaml(CONF / "case" / f"{case}.yaml")), **load_yaml(CONF / "scenario" / f"{scenario}.yaml")}
        for name, value in draw.items():
            assert getattr(params, name) == pytest.approx(fixed.get(name, value)), (case, scenario, name)


def test_posterior_gives_one_draw_per_seed_to_every_scenario():
    drawn = {}
    scenarios = ("baseline", "officer_in_group", "report_form")
    composed = _compose(*[["calibration=posterior", f"scenario={s}", f"seed={seed}"]
                          for seed in range(5) for s in scenarios])
    for seed in range(5):
        sets = [p.to_dict() for p in composed[3 * seed: 3 * seed + 3]]
        names = list(posterior.draw(seed))
        assert all({n: p[n] for n in names} == {n: sets[0][n] for n in names} for p in sets), seed
        drawn[seed] = tuple(sets[0][n] for n in names)
        # the drawn values are part of the parameters, so of the run key
        ident = {"case": "generic", "scenario": "baseline", "calibration": "posterior", "seed": 0, "days": 1}
        assert store.run_key(ident, sets[0], "sim.run") != store.run_key(
            ident, {**sets[0], names[0]: sets[0][names[0]] * 0.5}, "sim.run")
    assert len(set(drawn.values())) >= 3, "different seeds must draw (mostly) different parameter sets"
    assert drawn[1] == tuple(posterior.draw(1).values())
    assert _compose(["calibration=posterior", "seed=1", "params.observe_prob=0.5"]).observe_prob == 0.5


def test_draws_are_weighted_independent_per_seed_and_reproducible(tmp_path):
    path = tmp_path / "posterior.csv"
    n = 1000
    pd.DataFrame({"observe_prob": np.linspace(0.1, 0.5, n), "weight": np.r_[np.zeros(n // 2), np.ones(n // 2)]}
                 ).to_csv(path, index=False)
    draws = [posterior.draw(seed, path)["observe_prob"] for seed in range(40)]
    assert len(set(draws)) >= 38                   # independent draws from 500 equally weighted rows
    assert min(draws) >= 0.3                       # zero-weight rows are never drawn
    assert draws == [posterior.draw(seed, path)["observe_prob"] for seed in range(40)]


@pytest.mark.parametrize("content, message", [
    ("observe_prob,weight\n0.2,1\n", None),
    ("no_such_param,weight\n0.2,1\n", "no_such_param"),
    ("observe_prob,weight\n0.2,-1\n", "weights"),
    ("observe_prob,weight\n7.0,1\n", "observe_prob"),
    ("observe_prob\n0.2\n", "weight"),
])
def test_a_broken_posterior_sample_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "posterior.csv"
    path.write_text("# header\n" + content)
    if message is None:
        assert posterior.draw(3, path) == {"observe_prob": 0.2}
    else:
        with pytest.raises(ValueError, match=message):
            posterior.load_sample(path)
    with pytest.raises(ValueError, match="does not exist"):
        posterior.load_sample(tmp_path / "missing.csv")


def test_posterior_effects_show_sign_probability_drivers_and_flips():
    rng = np.random.default_rng(0)
    n = 60
    x, y = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    base = pd.DataFrame({"case": "generic", "calibration": "posterior", "days": 30, "seed": range(n),
                         "param_x": x, "param_y": y})
    out = {name: rng.normal(0, 1, n) for name in sim.OUTCOME_NAMES}
    ref = base.assign(scenario="baseline", **out)
    moved = {name: out[name] + 0.01 for name in sim.OUTCOME_NAMES}
    robust, flips = sim.OUTCOME_NAMES[0], sim.OUTCOME_NAMES[1]
    moved[robust] = out[robust] + 1 + 2 * x          # always up, more so with x
    moved[flips] = out[flips] + (y - 0.3)            # sign depends on y
    unchanged = sim.OUTCOME_NAMES[2]
    moved[unchanged] = out[unchanged]
    runs = pd.concat([ref, base.assign(scenario="s", **moved)], ignore_index=True)
    table = posterior_effects.effects(runs).set_index("outcome")
    assert table.loc[robust, "verdict"] == "robust" and table.loc[robust, "p_sign"] == 1
    assert table.loc[robust, "drivers"].startswith("x (+")
    assert table.loc[robust, "lo95"] > 1
    assert table.loc[flips, "verdict"] == "flips inside the posterior" and table.loc[flips, "p_sign"] < 0.95
    assert table.loc[flips, "drivers"].startswith("y (+")
    assert table.loc[unchanged, "verdict"] == "zero in every draw"
    assert posterior_effects.effects(runs.assign(calibration="calibrated")).empty
    assert "flips inside the posterior" in posterior_effects.markdown(table.reset_index())
    one_seed = posterior_effects.effects(runs[runs.seed == runs.seed.min()])   # nothing pairs twice
    assert one_seed.empty and {"case", "scenario", "outcome"} <= set(one_seed.columns)   # as the report filters it


# -- recovery ------------------------------------------------------------------------------------------
def _first_stage_studies(truth_z: float, rng: np.random.Generator, prior, grid: int, runs: int):
    """Studies on a grid of a parameter that drives two statistics, one steeply and nonlinearly."""
    z = np.repeat(np.linspace(prior.z_low[0], prior.z_high[0], grid), runs)
    def stats(x):
        return np.column_stack([x ** 2, 0.5 * x]) + rng.normal(0, [0.02, 0.05], size=(len(x), 2))
    value = stats(np.array([truth_z]))[0]
    targets = [{"name": "a", "value": value[0], "sd": 0.03}, {"name": "b", "value": value[1], "sd": 0.03}]
    return z, stats(z), targets


def test_the_first_stage_recovers_a_parameter_its_targets_depend_on_and_stays_calibrated():
    """The synthetic likelihood on a grid: 90% intervals narrow far below the prior and cover the truth
    about as often as they claim (20 truths), on statistics with noise that varies with the parameter."""
    prior = calibrate.Prior.from_spec({"fear_baseline": {"low": 0.05, "high": 0.5}})
    rng = np.random.default_rng(3)
    covered, widths = [], []
    for truth in rng.uniform(0.1, 0.45, 20):
        z, stats, targets = _first_stage_studies(truth, rng, prior, 25, 16)
        fit = calibrate.synthetic_fit(prior, z, stats, targets, ("a", "b"), 200)
        lo, hi = fit.quantiles([0.05, 0.95])
        covered.append(lo <= truth <= hi)
        widths.append((hi - lo) / (0.9 * 0.45))
        assert np.isclose(fit.mass.sum(), 1) and len(fit.table) == 200
    assert np.mean(widths) < 0.5 and np.mean(covered) >= 0.75, (widths, covered)
    draws = fit.sample(np.random.default_rng(0), 4000)
    assert draws.min() >= 0.05 and draws.max() <= 0.5
    assert abs(np.median(draws) - fit.quantiles([0.5])[0]) < 0.01   # draws follow the fitted density


def test_the_joint_abc_draws_a_first_stage_parameter_from_its_fit(monkeypatch):
    """A parameter fitted first is not proposed by pyabc: every study draws it from the fit, beside the
    calibrated values and the carried draws, and the particles get it back from the fit."""
    seen = []
    monkeypatch.setattr(calibrate, "simulate_targets",
                        lambda base, names, design, targets, theta, seed: seen.append(dict(zip(names, theta))) or [0.5])
    prior = calibrate.Prior.from_spec({"dispatch_prob": {"low": 0.3, "high": 1.0},
                                       "fear_baseline": {"low": 0.05, "high": 0.5}})
    own = prior.without(["dispatch_prob"])
    z, stats, targets = _first_stage_studies(0.3, np.random.default_rng(1), own, 25, 16)
    fit = calibrate.synthetic_fit(own, z, stats, targets, ("a", "b"), 200)
    joint = prior.without(["fear_baseline"])
    model = calibrate.StudyModel(sim.Params(), joint, None, ({"name": "s", "value": 0.5, "sd": 0.1},), None, (fit,))
    np.random.seed(0)
    for _ in range(300):
        model({"dispatch_prob": 0.6})
    table = pd.DataFrame(seen)
    lo, hi = fit.quantiles([0.05, 0.95])
    assert list(table.columns) == ["dispatch_prob", "fear_baseline"] and (table.dispatch_prob == 0.6).all()
    outside = 1 - table.fear_baseline.between(lo, hi).mean()   # 10% expected (sd 1.7% in 300 draws)
    assert 0.04 < outside < 0.18 and table.fear_baseline.nunique() == 300
    theta = calibrate.with_first(prior, joint, np.full((50, 1), 0.7), (fit,), np.random.default_rng(2))
    assert theta.shape == (50, 2) and (theta[:, 0] == 0.7).all() and theta[:, 1].std() > 0


def test_a_first_stage_naming_what_is_not_calibrated_is_a_clear_error():
    prior = calibrate.Prior.from_spec({"dispatch_prob": {"low": 0.3, "high": 1.0}})
    targets = [{"name": "s", "value": 0.5, "sd": 0.1}]
    with pytest.raises(ValueError, match="'post_prob' is not a calibrated parameter"):
        calibrate.fit_first(sim.Params(), prior, None, None, targets, {"post_prob": ["s"]}, calibrate.QUICK,
                            np.random.default_rng(0), None)
    with pytest.raises(ValueError, match="needs calibration targets"):
        calibrate.fit_first(sim.Params(), prior, None, None, targets, {"dispatch_prob": ["nope"]},
                            calibrate.QUICK, np.random.default_rng(0), None)


def test_recovery_narrows_a_parameter_that_drives_a_target_by_construction(tmp_path, spec):
    """dispatch_prob decides the share of reports a unit goes to look at, call_112_prob the number of
    reports: both must be recovered, i.e. covered *and* narrower than the prior in every set."""
    # By construction: only members' 112 calls reach the police (no calls by non-members, no admin
    # forwarding), so their number is set by call_112_prob; people stay long, so a call nearly always
    # finds them there (a call after they left goes to the non-urgent line with no unit) and the
    # share looked at is set by dispatch_prob.
    base = sim.Params(ambiguous_rate=120.0, burglary_rate=3.0, attempted_burglary_rate=3.0,
                      offender_stay_minutes=240.0, innocent_stay_minutes=240.0,
                      nonmember_call_112_prob=0.0, admin_liaison=False)
    design = Design((Group("lastage", "generic", 3, False),), 750)   # 750 households: widths 0.40-0.68
    by = {t["name"]: t for t in spec["targets"]}
    targets = [{**by["lastage_reports"], "sd": 3.0}, {**by["lastage_look_share"], "sd": 0.05}]
    prior = calibrate.Prior.from_spec({"dispatch_prob": {"low": 0.1, "high": 1.0},
                                       "call_112_prob": {"low": 0.05, "high": 0.6}})
    settings = calibrate.Settings(max_generations=5)
    table = recovery.recover(base, prior, design, targets, replace_settings(settings, 20, 150), 2,
                             tmp_path, workers=1, seed=4)
    params = recovery.per_parameter(table).set_index("parameter")
    claimed = ["dispatch_prob", "call_112_prob"]
    for name in claimed:
        rows = table[table.parameter == name]
        assert rows.covered.all(), rows
        assert (rows.width_ratio < recovery.RECOVERED).all(), rows     # narrower than the prior
        assert params.loc[name, "verdict"].startswith("recovered")


def replace_settings(settings, population, max_studies):
    return replace(settings, population=population, max_studies=max_studies)


# -- the committed point preset -------------------------------------------------------------------------
def test_committed_preset_loads_validates_and_states_its_provenance():
    text = calibrate.PRESET_FILE.read_text()
    values = yaml.safe_load(text)
    params = sim.Params().replace(**values)
    assert set(values) <= set(calibrate.load_prior().names)   # calibrated ones only: carried ones stay at default
    for name in calibrate.load_prior(section=("carried",)).names:
        assert f"#   {name}: " in text, f"the header does not list carried {name}"
    for name, value in values.items():
        assert getattr(params, name) == value
        assert f"#   {name}: " in text, f"no posterior summary line for {name}"
    assert "ABC-SMC" in text and "Targets" in text


def test_calibrated_preset_composes_through_hydra():
    values = yaml.safe_load(calibrate.PRESET_FILE.read_text())
    params = _compose(["calibration=calibrated", "case=generic", "scenario=baseline"])
    assert {k: getattr(params, k) for k in values} == values
