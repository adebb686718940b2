"""Tests written against the survivors of mutation testing (issue 16, benchmarks/mutation.py).

Each test names the mutant it was written against; each was seen to fail with that mutant put in
by hand and to pass without it. They go through the public interfaces (sim.run,
NeighbourhoodWatch, Residents, ChatGroup, Membership, World and the records), not the internals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.chat import SIGNAL_KINDS
from sim.model import NeighbourhoodWatch
from sim.outcomes import DAYS_PER_MONTH, DAYS_PER_YEAR, summarise
from sim.params import Params
from sim.residents import Residents
from sim.world import Situation, World
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
    questions = [m for m in saar_world.messages if m.kind == "admin_question"]
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
    for m in model.messages:
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
    assert sum(m.kind == "saar" for m in model.messages) == total.calls_112


def test_warm_up_after_the_first_recorded_day_is_refused_with_a_clear_error():
    """Mutant model.warm_up 2: the error message."""
    model = run_model(Params(n_households=50), days=1)
    with pytest.raises(RuntimeError, match=r"^warm_up\(\) must come before the first recorded day$"):
        model.warm_up()


def test_innocent_minority_situations_are_counted_exactly(saar_world):
    """Mutant model._situation_occurs 17: every innocent situation, or any minority one, counted as
    an innocent one of the minority (the base of the minority over-representation)."""
    total = saar_world.day_table().sum()
    happened = [s for s in saar_world.situations if not s.deterred]
    assert total.innocent_minority == sum(not s.offence and s.minority for s in happened) > 0
    assert total.innocent_minority_signalled == sum(not s.offence and s.minority and s.signalled
                                                    for s in happened) > 0



def test_rates_per_household_year_and_month_on_a_hand_built_day_table():
    """Mutants of the outcome factories (outcomes._per_1000_households_a_year,
    _per_1000_households_per_year, _per_month, _total, _mean_of, _offtopic_share,
    _signals_without_follow_up_count): each rate on three days whose answer is worked out by hand.
    The days differ, so a per-day mean cannot pass for a total."""
    counts = {name: [0, 0, 0] for name in sim.COUNTS}
    counts.update(situations_signalled=[3, 5, 4], follow_ups=[1, 2, 0], offences=[2, 0, 1], burglaries=[1, 0, 1],
                  calls_112_members=[2, 1, 0], calls_112_nonmembers=[0, 3, 1], messages=[4, 6, 2],
                  messages_offtopic=[1, 2, 0], members_joined=[1, 0, 2], members_left=[0, 1, 0], arrests=[0, 1, 1],
                  ties_formed=[2, 0, 3])
    state = {name: [0.5, 0.5, 0.5] for name in ("alertness_members", "alertness_nonmembers", "fear_members",
                                                "fear_nonmembers", "fear_residents", "feels_unsafe_share",
                                                "feels_often_unsafe_share", "trust_members")}
    days = pd.DataFrame({**counts, **state, "households": [1000, 1000, 1000], "members": [300, 400, 500],
                         "nonmembers": [600, 500, 400]})
    s = summarise(days)
    years = 3 / DAYS_PER_YEAR
    assert s["signals_without_follow_up_per_1000"] == pytest.approx((12 - 3) / years)
    assert s["follow_ups_per_1000"] == pytest.approx(3 / years)
    assert s["messages_per_month"] == pytest.approx(12 / (3 / DAYS_PER_MONTH))
    household_years = 2700 / DAYS_PER_YEAR   # members and never-members, over the three days
    assert s["offences_per_1000"] == pytest.approx(3 / household_years * 1000)
    assert s["burglaries_per_1000"] == pytest.approx(2 / household_years * 1000)
    assert s["calls_112_per_1000_members"] == pytest.approx(3 / (1200 / DAYS_PER_YEAR) * 1000)
    assert s["calls_112_per_1000_nonmembers"] == pytest.approx(4 / (1500 / DAYS_PER_YEAR) * 1000)
    assert s["members"] == pytest.approx(400)
    assert (s["members_joined"], s["members_left"], s["arrests"], s["ties_formed"]) == (3, 1, 2, 5)
    assert s["offtopic_share"] == pytest.approx(3 / 12)
    # none of them: no members, no messages
    empty = summarise(days.assign(members=0, messages=0, messages_offtopic=0, calls_112_members=0))
    assert np.isnan(empty["calls_112_per_1000_members"]) and np.isnan(empty["offtopic_share"])
    assert empty["messages_per_month"] == 0


def test_the_space_puts_each_household_at_its_own_position():
    """Mutants model.__init__ 91 and 94: the Mesa network laid out without the neighbourhood's
    positions (none at all, or an unseeded spring layout)."""
    model = NeighbourhoodWatch(Params(n_households=60), seed=3, with_space=True)
    for node, cell in model.grid._cells.items():
        assert tuple(cell.position) == pytest.approx(model.positions[node])


def test_without_a_talk_gain_talk_leaves_alertness_alone():
    """Mutant residents.daily 3: talk_rate / alertness_talk_gain (a division by zero at gain 0)."""
    p = Params(alertness_talk_gain=0.0, talk_rate=0.5)
    res = Residents(p, np.zeros(3, dtype=bool), np.random.default_rng(0))
    res.alertness[:] = [0.1, 0.9, 0.9]
    src, dst = np.array([0, 1, 0, 2]), np.array([1, 0, 2, 0])
    before = res.alertness.copy()
    res.daily(src, dst, np.zeros(3))
    expected = p.alertness_baseline + (before - p.alertness_baseline) * np.exp(-1 / p.alertness_memory_days)
    assert res.alertness == pytest.approx(expected)


def test_the_admin_considers_passing_an_episode_on_once():
    """Mutant model._post_signal 117: every post of an episode gives the admin another chance to pass
    it on to the police. Only the admin's liaison reaches the police here (nobody calls 112, no
    officer in the group), the admin is always there and nothing is removed, so the police hear of
    a share ``admin_forward_prob`` of the episodes in the group, also of those with several posts
    (with a chance a post, an episode of two posts would reach them 36% of the time)."""
    p = Params(**{**BUSY, "call_112_prob": 0.0, "nonmember_call_112_prob": 0.0, "admin_availability": 1.0,
                  "admin_forward_prob": 0.2, "stigmatising_prob": 0.0, "chatter_rule": "tolerated",
                  "post_prob": 1.0, "investigate_prob": 0.0, "sighting_prob": 0.5, "coverage": 0.5,
                  "ambiguous_rate": 300.0})
    model = run_model(p)
    posts: dict[int, int] = {}
    for m in model.messages:
        if m.kind in SIGNAL_KINDS:
            posts[m.situation] = posts.get(m.situation, 0) + 1
    reported = set(model.police.reports)
    assert reported <= set(posts)
    several = [s for s, n in posts.items() if n >= 2]
    assert len(several) > 80
    share = np.mean([s in reported for s in several])
    assert abs(share - 0.2) < 4 * np.sqrt(0.2 * 0.8 / len(several))


def test_the_officers_duty_starts_and_ends_on_the_hour_given():
    """Mutant police.CommunityOfficer.__init__ 6: the shift starts at 61 minutes an hour."""
    officer = NeighbourhoodWatch(Params(n_households=50, officer_duty_start_hour=9, officer_duty_hours=8),
                                 seed=0, with_space=False).police.officer
    day = 3 * 1440.0
    assert officer.on_duty_from(day + 9 * 60 + 2) == day + 9 * 60 + 2        # just after the start: on duty
    assert officer.on_duty_from(day + 9 * 60 - 2) == day + 9 * 60            # just before: waits for it
    assert officer.on_duty_from(day + 17 * 60 - 2) == day + 17 * 60 - 2      # just before the end
    assert officer.on_duty_from(day + 17 * 60) == day + 1440 + 9 * 60        # the end: the next morning


def test_talk_with_many_afraid_ties_fills_fear_up_to_one_not_beyond():
    """Mutant residents.daily 54: fear clipped at 2 after talk. Resident 0 talks with 30 afraid
    ties in a day, far more fear than the scale holds: it is full (1) before forgetting."""
    p = Params(talk_rate=1.0, talk_fear_gain=1.0, watch_reassurance=0.0)
    n = 31
    res = Residents(p, np.zeros(n, dtype=bool), np.random.default_rng(0))
    res.fear_baseline[:] = [0.3] + [1.0] * (n - 1)
    res.fear[:] = res.fear_baseline
    ties = np.arange(1, n)
    src, dst = np.concatenate([np.zeros(n - 1, dtype=int), ties]), np.concatenate([ties, np.zeros(n - 1, dtype=int)])
    res.daily(src, dst, np.zeros(n))
    keep = np.exp(-1 / p.fear_memory_days)
    assert res.fear[0] == pytest.approx(0.3 + (1.0 - 0.3) * keep)
    assert np.all(res.fear <= 1)


def test_no_112_dispatch_for_a_situation_a_unit_already_went_to_look_at():
    """Mutant police.EmergencyResponse.answer_call 15: a 112 call about a situation the officer has
    already sent a unit to draws a second unit."""
    police = NeighbourhoodWatch(Params(n_households=50, officer_action_prob=1.0, dispatch_prob=1.0,
                                       response_capacity=10), seed=0, with_space=False).police
    s = Situation(0, 0, 600.0, "burglary", True, node=0, minority=False, stay=240.0, deter_draw=1.0,
                  displace_draw=1.0, alt_node=0)
    report, arrival = police.receive(s, "admin", s.start + 1)       # fresh: the officer sends a unit
    assert arrival is not None and "look" in report.follow_ups and not report.dispatch_decided
    assert police.receive(s, "112", s.start + 2) == (report, None)   # the person is there, a unit too


def test_two_members_going_out_make_a_crowd_of_two():
    """Mutant model._close 8: a crowd needs more than ``crowd_size`` residents going out. A group of
    two households (the admin and one member) who investigate whatever they find suspicious, and
    nobody who goes out after reading: at most two go out to a situation, so crowds of two are the
    only crowds there can be, and they happen."""
    p = Params(**{**BUSY, "n_households": 30, "coverage": 0.07, **FIXED_MEMBERSHIP, "investigate_prob": 1.0,
                  "go_out_prob": 0.0, "call_112_prob": 0.0, "observe_prob": 0.9, "ambiguous_rate": 1000.0,
                  "crowd_size": 2})
    model = run_model(p, days=200)
    assert model.hood.member.sum() == 2
    assert model.day_table().crowds.sum() > 0


def test_every_situation_starts_within_its_day():
    """Mutant world.World._draw_block 45: hours of 61 minutes, so that
    late situations start after midnight."""
    world = World(Params(n_households=2000, vehicle_crime_rate=20.0, vandalism_rate=20.0),
                  np.random.default_rng(5))
    situations = [s for day in range(World.BLOCK_DAYS) for s in world.situations_on(day)]
    assert len(situations) > 300
    minutes = np.array([s.minute for s in situations])
    assert np.all((minutes >= 0) & (minutes < 1440))
    assert np.mean(minutes >= 23 * 60) > 0.01                # the last hour has its situations
    assert all(int(s.start // 1440) == s.day for s in situations)
