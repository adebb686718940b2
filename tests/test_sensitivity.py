"""Sensitivity analysis: bounds, the quick Morris run and its ranking, the committed ranking file."""

from __future__ import annotations

from dataclasses import replace

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


@pytest.mark.xdist_group("sensitivity_quick")  # one worker runs the quick screening once
def test_quick_mode_writes_its_outputs(quick):
    for name in ("morris.csv", "ranking.md", "sensitivity.png", "top_parameters.yaml"):
        assert (quick["out"] / name).exists(), name
    assert set(quick["representative"]) == {"alertness", "fear", "follow-up", "stigmatisation"}


def test_morris_tells_a_strong_driver_from_a_real_but_small_one():
    """On members' fear: fear_gain (fear added per signal read) is the strong driver;
    feedback_fear_relief (fear removed per closing or feedback message read; fewer such messages,
    smaller steps) has a real, small effect of the opposite sign; arrest_prob acts only after police
    arrive and does not reach fear. A watchful neighbourhood with ~4x the default ambiguous
    situations, so that many signals and closings happen (with the default rate a 90-day run of 300
    households has so few episodes that a single closing message decides the relief's effect)."""
    base = sim.Params(observe_prob=0.5, ambiguous_suspicion_prob=0.3, ambiguous_rate=150.0)
    names = ["fear_gain", "feedback_fear_relief", "arrest_prob"]
    table, _ = sensitivity.analyse(base, replace(sensitivity.QUICK, trajectories=8), workers=1, names=names)
    t = table[table.outcome == "fear_members"].set_index("parameter")
    gain, relief, arrest = t.loc["fear_gain"], t.loc["feedback_fear_relief"], t.loc["arrest_prob"]
    assert gain.mu > 0 and relief.mu < 0                              # the directions
    assert gain["rank"] == 1 and relief["rank"] == 2
    assert relief.mu_star - relief.mu_star_conf > 0                   # real: told apart from zero
    assert 0.05 * gain.mu_star < relief.mu_star < 0.5 * gain.mu_star  # but small
    assert arrest.mu_star < 0.1 * relief.mu_star


def _check_ranking(ranking: dict) -> None:
    assert set(ranking["by_headline"]) == {"alertness", "fear", "follow-up", "stigmatisation"}
    for entry in ranking["by_headline"].values():
        assert entry["outcome"] in sim.OUTCOME_NAMES
        assert entry["parameters"] and all(p["name"] in FIELDS for p in entry["parameters"])
    scores = [p["score"] for p in ranking["overall"]]
    assert scores == sorted(scores, reverse=True) and all(p["name"] in FIELDS for p in ranking["overall"])


@pytest.mark.xdist_group("sensitivity_quick")  # one worker runs the quick screening once
def test_quick_ranking_file_is_well_formed(quick):
    _check_ranking(yaml.safe_load(quick["top_file"].read_text()))


def test_committed_ranking_is_well_formed_and_states_its_method():
    text = sensitivity.TOP_FILE.read_text()
    assert "Morris" in text
    _check_ranking(yaml.safe_load(text))
