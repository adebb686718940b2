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
from test_invariants import BUSY, BUSY_DAYS


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
