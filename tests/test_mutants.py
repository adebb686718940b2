"""Tests written against the survivors of mutation testing (issue 16, benchmarks/mutation.py).

Each test names the mutant it was written against; each was seen to fail with that mutant put in
by hand and to pass without it. They go through the public interfaces (sim.run,
NeighbourhoodWatch, Residents, ChatGroup, Membership, World and the records), not the internals.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import NeighbourhoodWatch
from sim.params import Params
from test_invariants import BUSY, BUSY_DAYS, FIXED_MEMBERSHIP


@pytest.fixture(scope="module")
def saar_world() -> NeighbourhoodWatch:
    """A busy world under SAAR enforcement (the admin asks after app-only signals)."""
    model = NeighbourhoodWatch(Params.preset("saar_enforced", **BUSY), seed=1, with_space=False)
    model.run_days(BUSY_DAYS)
    return model


def test_every_observer_counts_as_an_observation(saar_world):
    """Mutant model._situation_occurs 46: one observation a situation, whatever the observers."""
    days = saar_world.day_table()
    assert (days.observations >= days.suspicions).all()          # a suspicion needs an observation
    assert days.observations.sum() > 2 * days.situations.sum()   # busy: several observers a situation


def test_the_admins_saar_question_is_about_the_place_of_the_signal(saar_world):
    """Mutant model._ask_saar 7: the admin's question names no place."""
    questions = [m for m in saar_world.chat.log if m.kind == "admin_question"]
    assert questions
    assert all(m.node == saar_world.situations[m.situation].node for m in questions)


def run_model(params: Params, seed: int = 1, days: int = BUSY_DAYS) -> NeighbourhoodWatch:
    model = NeighbourhoodWatch(params, seed=seed, with_space=False)
    model.run_days(days)
    return model


def test_a_112_call_prompted_by_the_saar_question_comes_after_the_question():
    """Mutant model._ask_saar 31: the prompted call is placed before the question was asked.
    Only prompted calls reach the police here (members never call by themselves, non-members not at
    all, no officer in the group, no liaison), so every report is one."""
    p = Params.preset("saar_enforced", **{**BUSY, "call_112_prob": 0.0, "nonmember_call_112_prob": 0.0,
                                          "admin_liaison": False, "saar_comply_prob": 1.0})
    model = run_model(p)
    asked: dict[int, float] = {}
    for m in model.chat.log:
        if m.kind == "admin_question":
            asked.setdefault(m.situation, m.time)
    reports = model.police.reports.values()
    assert len(reports) > 10
    assert all(r.channel == "112" and r.time >= asked[r.situation.id] + p.reaction_minutes for r in reports)


def test_a_saar_responder_who_read_112_called_neither_calls_nor_posts():
    """Mutant model._post_signal 7: a member who read "112 called" before acting still posts "112
    called" (without calling). Every member who calls says so in the group (saar_app_prob 1) and
    only members call; no admin removes anyone and nobody joins or leaves, so each "112 called"
    message is one call, and calls saved by an earlier message post nothing."""
    p = Params(**{**BUSY, "saar_app_prob": 1.0, "nonmember_call_112_prob": 0.0, "n_admins": 0,
                  "coverage": 0.5, **FIXED_MEMBERSHIP})
    model = run_model(p)
    total = model.day_table().sum()
    assert total.calls_saved > 0
    assert sum(m.kind == "saar" for m in model.chat.log) == total.calls_112


def test_warm_up_after_the_first_recorded_day_is_refused_with_a_clear_error():
    """Mutant model.warm_up 2: the error message."""
    model = run_model(Params(n_households=50), days=1)
    with pytest.raises(RuntimeError, match=r"^warm_up\(\) must come before the first recorded day$"):
        model.warm_up()
