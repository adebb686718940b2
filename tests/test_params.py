"""Parameters: defaults, presets, provenance and clear errors for bad input."""

import dataclasses
import re

import pytest

import sim
from sim.params import FIELDS, SCENARIOS, Params


def test_model_runs_with_no_arguments():
    model = sim.NeighbourhoodWatch()
    model.step()
    assert model.day == 1


def test_every_parameter_has_range_meaning_and_provenance():
    for f in dataclasses.fields(Params):
        meta = f.metadata
        assert meta["doc"] and meta["source"], f.name
        assert "facts.md" in meta["source"] or meta["source"].startswith(
            ("assumption", "scenario", "inferred:", "calibrated:")), \
            f"{f.name}: provenance must cite facts.md or say 'assumption' / 'scenario' / 'inferred:' / 'calibrated:'"
        Params(**{f.name: f.default})  # the default is inside its own range


def test_presets_hold_only_known_parameters():
    for name, overrides in SCENARIOS.items():
        assert set(overrides) <= set(FIELDS), name
        Params.preset(name)


@pytest.mark.parametrize("bad, pattern", [
    (dict(coverage=1.5), r"'coverage' = 1.5 is out of range \[0.0, 1.0\]"),
    (dict(n_households=5), r"'n_households' = 5 is out of range \[10, 200000\]"),
    (dict(n_households=10.5), r"'n_households' = 10.5 must be an integer"),
    (dict(call_112_prob="high"), r"'call_112_prob' = 'high' must be a number"),
    (dict(officer_in_group="yes"), r"'officer_in_group' = 'yes' is not allowed; choose one of \[False, True\]"),
    (dict(chatter_rule="loose"), r"'chatter_rule' = 'loose' is not allowed"),
])
def test_bad_values_name_parameter_value_and_range(bad, pattern):
    with pytest.raises(ValueError, match=pattern):
        Params(**bad)


def test_unknown_parameter_is_named():
    with pytest.raises(ValueError, match=re.escape("unknown parameter(s) ['coverag']")):
        Params.from_dict({"coverag": 0.3})


def test_unknown_scenario_is_named():
    with pytest.raises(ValueError, match="unknown scenario 'officer'"):
        Params.preset("officer")


def test_bad_seed_and_days():
    with pytest.raises(ValueError, match="seed"):
        sim.NeighbourhoodWatch(seed="3")
    with pytest.raises(ValueError, match="days"):
        sim.run(days=0)
