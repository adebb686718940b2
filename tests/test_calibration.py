"""Calibration: the targets file, the ABC sampler, parameter recovery, the quick run, the preset."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import yaml

import sim
from experiments import abc, calibrate
from experiments.study import (TARGETS_FILE, Design, Group, load_yaml, measure, run_study,
                               validate_targets)

# Every fact of shared/domain/facts.md that issue 4 names must be a target.
REQUIRED = {"lastage_reports", "reports_per_month_min", "reports_per_month_max", "lastage_follow_up_share",
            "lastage_look_share", "lastage_municipality_share", "lastage_officer_share", "lastage_arrests",
            "groups_with_arrests", "undesired_episodes", "group_size", "household_coverage",
            "incident_mix_burglary", "incident_mix_attempted_burglary", "incident_mix_vehicle_crime",
            "incident_mix_vandalism", "officer_in_group"}


@pytest.fixture(scope="module")
def spec():
    return load_yaml(TARGETS_FILE)


def test_target_file_is_complete_and_valid(spec):
    validate_targets(spec)
    names = {t["name"] for t in spec["targets"]}
    assert REQUIRED <= names, REQUIRED - names
    for t in spec["targets"]:
        assert t["source"].strip() and t["case"] in ("lastage", "six_groups", "generic")
    design = Design.from_targets(spec)
    assert len(design.groups) == 6
    assert sum(g.officer_in_group for g in design.groups) == 1


def test_validation_names_an_unmeasurable_target(spec):
    bad = copy.deepcopy(spec)
    bad["targets"][0]["measure"]["columns"] = ["no_such_column"]
    with pytest.raises(ValueError, match="no_such_column"):
        validate_targets(bad)
    bad = copy.deepcopy(spec)
    del bad["targets"][0]["source"]
    with pytest.raises(ValueError, match="source"):
        validate_targets(bad)


def test_every_target_is_measured_by_the_model(spec):
    design = Design.from_targets(spec, months_scale=0.25)
    records = run_study(sim.Params(), design, seed=3, study={"lastage_rate_multiplier": 4.0})
    assert set(records) == {g.name for g in design.groups}
    for t in spec["targets"]:
        value = measure(t, records, design)
        assert math.isfinite(value), t["name"]
    rec = records["lastage"]
    by = {t["name"]: t for t in spec["targets"]}
    # totals are extrapolated from the shortened window to the group's full window
    assert measure(by["lastage_reports"], records, design) == pytest.approx(
        rec["police_reports"] * 28 / rec["months"])
    assert measure(by["officer_in_group"], records, design) == 1


def test_measure_aggregates_across_groups():
    design = Design((Group("lastage", "lastage", 10, False), Group("b", "generic", 10, False, 0.5),
                     Group("c", "generic", 10, False, 0.5)), 100)
    base = {"months": 10.0, "target_months": 10.0, "n_households": 100}
    records = {"lastage": {**base, "arrests": 3, "police_reports": 20, "follow_ups": 10},
               "b": {**base, "arrests": 0, "police_reports": 1, "follow_ups": 1},
               "c": {**base, "arrests": 1, "police_reports": 9, "follow_ups": 0}}

    def m(**measure_spec):
        return measure({"measure": measure_spec}, records, design)

    assert m(columns=["arrests"], stat="total", groups="all", across="count_positive") == 2
    assert m(columns=["police_reports"], stat="per_month", groups="all", across="min") == 0.1
    assert m(columns=["police_reports"], stat="per_month", groups="others", across="max") == 0.9
    assert m(columns=["follow_ups"], stat="share", denominator=["police_reports"], groups="all",
             across="pooled") == pytest.approx(11 / 30)
    assert m(columns=["police_reports"], stat="per_month", groups="all", across="count_within",
             within=[0.5, 2.0]) == 2


def test_priors_lie_inside_the_parameter_ranges():
    prior = calibrate.load_prior()
    assert "dispatch_prob" in prior.names and "arrest_prob" in prior.names
    with pytest.raises(ValueError):
        calibrate.load_prior({"params": {"dispatch_prob": {"low": 0.5, "high": 1.5}}})


def test_abc_smc_recovers_a_gaussian_mean_and_scale():
    prior = abc.Prior.from_spec({"mu": {"low": -5, "high": 5}, "s": {"low": 0.1, "high": 10, "log": True}})
    observed = np.array([1.0, math.log(2.0)])

    def simulate(theta, seeds):
        stats = np.array([[y.mean(), math.log(y.std())] for y in
                          (np.random.default_rng(s).normal(mu, sd, 100) for (mu, sd), s in zip(theta, seeds))])
        return np.sqrt((((stats - observed) / [0.2, 0.07]) ** 2).mean(axis=1)), stats

    result = abc.abc_smc(simulate, prior, n=200, max_simulations=5000, rng=np.random.default_rng(1))
    lo, hi = result.quantiles([0.025, 0.975])
    assert len(result.generations) >= 3
    assert lo[0] < 1.0 < hi[0] and hi[0] - lo[0] < 2.0          # prior width 10
    assert lo[1] < 2.0 < hi[1] and hi[1] / lo[1] < 4.0           # prior ratio 100
    assert result.generations[-1].tolerance < result.generations[0].tolerance / 2
    assert np.isclose(result.final.weights.sum(), 1.0)


def test_quick_calibration_recovers_known_parameters_from_synthetic_targets(spec):
    """Targets made by the model itself at known values; the posterior must cover and narrow on them."""
    truth = {"dispatch_prob": 0.5, "call_112_prob": 0.3}
    base = sim.Params(ambiguous_rate=120.0, burglary_rate=3.0, attempted_burglary_rate=3.0, **truth)
    design = Design((Group("lastage", "generic", 3, False),), 1500)
    by = {t["name"]: t for t in spec["targets"]}
    targets = [dict(by[n]) for n in ("lastage_reports", "lastage_look_share", "lastage_follow_up_share")]
    observed = [[measure(t, run_study(base, design, seed), design) for t in targets] for seed in range(4)]
    for t, v, sd in zip(targets, np.mean(observed, axis=0), (3.0, 0.08, 0.08)):
        t.update(value=float(v), sd=sd)
    prior = abc.Prior.from_spec({"dispatch_prob": {"low": 0.1, "high": 1.0},
                                 "call_112_prob": {"low": 0.05, "high": 0.6}})
    simulator = calibrate.Simulator(base, prior.names, design, targets, tuple(t["name"] for t in targets))
    result = abc.abc_smc(simulator, prior, n=24, n0=48, max_simulations=170, rng=np.random.default_rng(5),
                         batch=16)
    table = calibrate.posterior_table(result).set_index("parameter")
    for name, value in truth.items():
        assert table.loc[name, "low95"] <= value <= table.loc[name, "high95"], table
    assert table.loc["dispatch_prob", "width_ratio"] < 0.8, table


def test_quick_mode_runs_end_to_end(tmp_path):
    summary = calibrate.main(["--quick", "--results-dir", str(tmp_path), "--workers", "1", "--no-write-conf"])
    out = tmp_path / next(p.name for p in tmp_path.iterdir())
    for name in ("report.md", "predictive_check.png", "posterior.png", "holdout.png", "calibrated.yaml",
                 "posterior_summary.csv", "predictive_check.csv"):
        assert (out / name).exists(), name
    assert len(summary["generations"]) >= 2
    preset = yaml.safe_load((out / "calibrated.yaml").read_text())
    sim.Params().replace(**preset)
    assert set(preset) == {n for n in calibrate.load_prior().names if n in sim.params.FIELDS}
    report = (out / "report.md").read_text()
    assert "Hold-out check" in report and "Identified by the targets" in report


def test_committed_preset_loads_validates_and_states_its_provenance():
    text = calibrate.PRESET_FILE.read_text()
    values = yaml.safe_load(text)
    params = sim.Params().replace(**values)
    assert set(values) <= set(calibrate.load_prior().names)
    for name, value in values.items():
        assert getattr(params, name) == value
        assert f"#   {name}: " in text, f"no posterior summary line for {name}"
    assert "ABC-SMC" in text and "Targets" in text


def test_calibrated_preset_composes_through_hydra():
    from hydra import compose, initialize_config_dir

    from experiments import schema

    values = yaml.safe_load(calibrate.PRESET_FILE.read_text())
    with initialize_config_dir(config_dir=str(calibrate.CONF), version_base="1.3"):
        cfg = compose("config", overrides=["calibration=calibrated", "case=generic", "scenario=baseline"])
    params = schema.to_params(cfg)
    assert {k: getattr(params, k) for k in values} == values


def test_budget_scaling_keeps_every_count_positive():
    small = calibrate.scaled(calibrate.DEFAULT, 0.01)
    assert small.particles == 4 and small.months_scale == 1.0
    assert small.max_simulations == max(4, round(calibrate.DEFAULT.max_simulations * 0.01))
    assert calibrate.scaled(calibrate.DEFAULT, 0.5).max_simulations == calibrate.DEFAULT.max_simulations // 2
