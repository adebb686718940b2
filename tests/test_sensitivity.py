"""Sensitivity analysis: bounds, the quick Morris run and its ranking, the committed ranking file."""

from __future__ import annotations

import pytest
import yaml

import sim
from experiments import sensitivity
from experiments.study import PRIORS_FILE, load_yaml
from sim.params import FIELDS


def test_bounds_lie_inside_the_allowed_ranges_and_follow_the_priors():
    prob = sensitivity.problem(sim.Params())
    priors = load_yaml(PRIORS_FILE)["params"]
    assert "n_households" not in prob["names"] and "officer_in_group" not in prob["names"]
    for name, (a, b) in zip(prob["names"], prob["bounds"]):
        lo, hi = FIELDS[name].metadata["range"]
        assert lo <= a < b <= hi, name
        if name in priors:
            assert (a, b) == (priors[name]["low"], priors[name]["high"])


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    return sensitivity.run(sensitivity.QUICK, tmp_path_factory.mktemp("sens"), write_conf=False, workers=1,
                           base="defaults")


def test_quick_mode_writes_its_outputs(quick):
    for name in ("morris.csv", "ranking.md", "sensitivity.png", "top_parameters.yaml"):
        assert (quick["out"] / name).exists(), name
    assert set(quick["representative"]) == {"alertness", "fear", "follow-up", "stigmatisation"}


def test_a_driver_by_construction_outranks_a_parameter_that_cannot_matter(quick):
    """fear_gain is the fear added per signal read; arrest_prob acts only after police arrive."""
    t = quick["table"].set_index(["outcome", "parameter"])
    fear_gain, arrest = t.loc[("fear_members", "fear_gain")], t.loc[("fear_members", "arrest_prob")]
    assert fear_gain.mu_star > 0
    assert fear_gain["rank"] < arrest["rank"]
    assert arrest.mu_star < 0.2 * fear_gain.mu_star
    # and for alertness: alertness_gain (per signal read) over arrest_prob
    assert t.loc[("alertness_members", "alertness_gain"), "rank"] < t.loc[("alertness_members", "arrest_prob"), "rank"]


def _check_ranking(ranking: dict) -> None:
    assert set(ranking["by_headline"]) == {"alertness", "fear", "follow-up", "stigmatisation"}
    for entry in ranking["by_headline"].values():
        assert entry["outcome"] in sim.OUTCOME_NAMES
        assert entry["parameters"] and all(p["name"] in FIELDS for p in entry["parameters"])
    scores = [p["score"] for p in ranking["overall"]]
    assert scores == sorted(scores, reverse=True) and all(p["name"] in FIELDS for p in ranking["overall"])


def test_quick_ranking_file_is_well_formed(quick):
    _check_ranking(yaml.safe_load(quick["top_file"].read_text()))


def test_committed_ranking_is_well_formed_and_states_its_method():
    text = sensitivity.TOP_FILE.read_text()
    assert "Morris" in text
    _check_ranking(yaml.safe_load(text))
