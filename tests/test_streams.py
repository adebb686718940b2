"""Synchronised random streams (issue 10): scenarios that differ only after something is signalled
draw the same numbers for everything before that, situation by situation, and mostly after it."""

from __future__ import annotations

import numpy as np
import pytest

from sim import NeighbourhoodWatch, Params
from sim.residents import Response
from sim.streams import Streams

SEED = 1   # a world whose first post comes after 56 situations (seed 3 posts at the first one)
DAYS = 365
# more situations, so more of them are seen and signalled; observing and posting at moderate rates,
# so that the first post comes after a few situations (the test compares the draws before it)
BUSY = dict(ambiguous_rate=30.0, observe_prob=0.3, ambiguous_suspicion_prob=0.1, post_prob=0.5,
            feedback_prob=0.1)   # pinned low: police_feedback (always) must differ whatever the preset


def _record(scenario: str, **overrides) -> dict[int, tuple]:
    """Situation id -> (observers, suspicious, responses, reaction draws) of one run (the number
    of observers; who they are is drawn in the same pass); under key "days" its day table."""
    model = NeighbourhoodWatch(Params.preset(scenario, **BUSY, **overrides), seed=SEED, with_space=False)
    res, log, current = model.residents, {}, {}
    witness, occurs = res.witness, model._situation_occurs

    def situation_occurs(s):
        current["id"] = s.id
        log[s.id] = (0, (), (), ())
        occurs(s)

    def recorded_witness(*args):
        n_observers, suspicious, responses, react = out = witness(*args)
        log[current["id"]] = (n_observers, *(tuple(a.tolist()) for a in (suspicious, responses, react)))
        return out

    model._situation_occurs, res.witness = situation_occurs, recorded_witness
    model.run_days(DAYS)
    log["days"] = model.day_table()
    return log


@pytest.fixture(scope="module")
def baseline():
    log = _record("baseline")
    return log, log.pop("days")


def _first_posted(log: dict[int, tuple]) -> int:
    """The first situation where a member posted in the group (SAAR or app only)."""
    return next(i for i, (_, _, resp, _) in log.items() if {Response.SAAR, Response.APP_ONLY} & set(resp))


@pytest.mark.parametrize("scenario", ["officer_in_group", "police_feedback", "report_form"])
def test_each_situation_draws_alike_until_the_scenario_can_change_it(baseline, scenario):
    baseline, baseline_days = baseline
    other = _record(scenario)
    other_days = other.pop("days")
    assert list(other) == list(baseline)            # the world: the same situations
    ids = list(baseline)
    # the officer reads, feedback follows, and the form acts (friction on app-only posts, fewer
    # stigmatising posts) only when a member posts: up to the first post everything draws alike;
    # at it the form may change what the member does
    first = _first_posted(baseline)
    same_responses_at_first = scenario != "report_form"
    k = ids.index(first)
    assert k >= 5, "too few situations before the first change to test anything"
    for i in ids[:k]:
        assert other[i] == baseline[i], f"situation {i} drew differently before {scenario} could change it"
    assert other[first][:2] == baseline[first][:2]
    if same_responses_at_first:
        assert other[first] == baseline[first]
    # after it, most situations are still seen and appraised by the same residents
    later = ids[k + 1:]
    same = np.mean([other[i][:2] == baseline[i][:2] for i in later])
    assert len(later) > 100 and same > 0.8, f"only {same:.0%} of later situations drew alike"
    assert not other_days.equals(baseline_days), "the scenario changed nothing at all"


def test_substreams_are_keyed_by_seed_purpose_and_id():
    a, b = Streams(1), Streams(1)
    assert np.array_equal(a.fresh("episode", 7).random(5), b.fresh("episode", 7).random(5))
    draws = {(s, purpose, key): tuple(Streams(s).fresh(purpose, key).random(3))
             for s in (1, 2) for purpose in ("episode", "police") for key in (7, 8)}
    assert len(set(draws.values())) == len(draws)
    assert np.array_equal(a.daily("chatter", 3).random(2), Streams(1).daily("chatter", 3).random(2))
    # a generator back from the pool starts its new substream afresh
    g = a.fresh("police", 9)
    g.random(11)
    a.release(g)
    assert np.array_equal(a.fresh("police", 9).random(4), Streams(1).fresh("police", 9).random(4))
    # the observe stream is rekeyed at each use
    assert np.array_equal(a.observe(5).random(3), b.observe(5).random(3))


@pytest.mark.parametrize("scenario", ["baseline", "officer_in_group", "saar_enforced", "police_feedback",
                                      "report_form", "no_admin"])
def test_the_model_names_a_substream_for_every_draw(scenario):
    """The components' own generator is for direct calls only: without it a busy run still works."""
    from test_invariants import BUSY as BUSY_WORLD
    model = NeighbourhoodWatch(Params.preset(scenario, **BUSY_WORLD), seed=1, with_space=False)
    model.residents.rng = model.membership.rng = None
    for group in (*model.groups, model.central):
        group.rng = None
    model.police.response._rng = model.police.officer._rng = None
    model.run_days(60)
    assert model.day_table().messages.sum() > 0


def test_rekeying_in_place_gives_the_state_setters_streams():
    """The direct rekey (writing numpy's C state) is used on this platform and gives, for a
    generator left mid-stream, exactly the stream the ``state`` setter gives."""
    from sim import streams
    assert streams.DIRECT_REKEY, "the direct rekey's self-check failed: every rekey takes the slow path"
    s, t = Streams(11), Streams(11)
    fast, slow = s.fresh("episode", 1), t.fresh("episode", 1)
    for key in (0, 7, 2**48 - 1):
        for gen in (fast, slow):
            gen.random(5)
            gen.integers(0, 2**32, dtype=np.uint32)   # leaves a cached 32-bit half
        s._rekey(fast, "police", key)
        t._rekey_slow(slow, "police", key)
        assert fast.random(9).tolist() == slow.random(9).tolist()
        assert fast.poisson(3.0, 4).tolist() == slow.poisson(3.0, 4).tolist()


def test_philox_draws_computed_without_a_generator_are_the_generators():
    """A situation's observe block and a day's first chatter draws, computed from Philox in
    compiled code (no generator made or rekeyed), are the draws of the stream they stand for."""
    from sim import streams
    assert streams.PHILOX_DRAWS, "the Philox self-check failed: every draw takes the generator's path"
    s = Streams(2**63 + 5)
    for situation, cols in ((0, 0), (1, 1), (17, 3), (12345, 40), (2**48 - 1, 129)):
        assert s.observe_draws(situation, 8, cols).tolist() == \
            Streams(2**63 + 5).observe(situation).random((8, cols)).tolist()
    for day in (0, 364, 2**31):
        first = s.first_daily_uniforms("chatter", day, 40)
        assert first == [Streams(2**63 + 5).daily("chatter", day, g).random() for g in range(40)]


@pytest.mark.parametrize("rule", ["warn", "strict", "tolerated"])
def test_group_days_skipped_as_chatter_free_would_have_drawn_no_chatter(rule):
    """The groups ``_may_chatter`` leaves out on a day are groups whose Poisson count is 0 that
    day (drawn here as ``_chatter_times`` would); most group-days are left out."""
    model = NeighbourhoodWatch(Params.preset(chatter_rule=rule, n_households=3000), seed=4, with_space=False)
    skipped = kept = 0
    for day in range(300):
        maybe = {group.index for group, _ in model._may_chatter(day)}
        counts = model.membership.counts()
        for g, group in enumerate(model.groups):
            if g in maybe:
                kept += 1
            else:
                skipped += 1
                assert len(model._chatter_times(day, group, int(counts[g]))) == 0, (day, g)
    assert skipped > 2 * kept > 0


def test_a_choice_of_one_member_is_one_bounded_integer():
    """``_chatter`` picks its author as ``members[rng.integers(len(members))]``: in this numpy
    that is ``rng.choice(members)``, draw for draw and for the stream after it."""
    for n in (1, 2, 7, 256, 257, 10_001):
        members = np.arange(n) * 3 + 1
        a, b = Streams(5).fresh("chatter", n), Streams(5).fresh("chatter", n)
        assert [int(a.choice(members)) for _ in range(50)] == [int(members[b.integers(n)]) for _ in range(50)]
        assert a.random() == b.random()
