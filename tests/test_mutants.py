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
from sim.chat import SIGNAL_KINDS, Message
from sim.membership import Membership
from sim.model import Episode, NeighbourhoodWatch
from sim.outcomes import DAYS_PER_MONTH, DAYS_PER_YEAR, Tally, snapshot, summarise
from sim.params import Params
from sim.residents import Residents
from sim.world import Situation, World
from sim.world import MINUTES_PER_DAY
from sim.residents import Response
from sim.streams import Streams
from test_invariants import BUSY, BUSY_DAYS, FIXED_MEMBERSHIP, _residents


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
    # the poster who calls when asked says so in the group (mutant _ask_saar 34, session 13): the group's report
    assert all(r.from_group for r in reports)


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


# --- survivors of the run on the model of this session (git f0656a3) ------------------------------
@pytest.fixture(scope="module")
def officer_world() -> NeighbourhoodWatch:
    """A busy world of several groups with the officer in every group: relays, feedback, both groups."""
    return run_model(Params.preset("officer_in_group", **BUSY, relay_prob=1.0))


def test_an_episode_is_relayed_to_the_central_group_at_most_once(officer_world):
    """Mutant model._post_signal 165: every kept signal of an episode is a new chance to relay it."""
    relays = [m.situation for m in officer_world.central.log if m.kind == "relay"]
    assert len(relays) > 10
    assert len(relays) == len(set(relays))


def test_the_officer_gives_feedback_in_the_central_group_on_relayed_episodes(officer_world):
    """Mutant model._relay_central 17: a relayed episode is not marked as in the central group, so the
    police never post their feedback there."""
    relayed = {m.situation for m in officer_world.central.log if m.kind == "relay"}
    feedback = {m.situation for m in officer_world.central.log if m.kind == "police_feedback"}
    assert feedback and feedback <= relayed


def test_every_message_about_a_situation_names_its_place(officer_world):
    """Mutant model._feedback 13: the police's feedback in the central group names no place."""
    about = [m for m in (*officer_world.messages, *officer_world.central.log) if m.situation is not None]
    assert {m.kind for m in about} >= {"relay", "police_feedback"}
    assert all(m.node == officer_world.situations[m.situation].node for m in about)


def test_stigmatising_messages_and_only_they_strengthen_their_readers_bias():
    """Mutant model._post_signal 46: a stigmatising post alarms its readers as any post does, without
    strengthening their bias against the minority (the only thing that changes bias)."""
    for stigmatising_prob, changes in ((0.8, True), (0.0, False)):
        model = NeighbourhoodWatch(Params(**{**BUSY, "stigmatising_prob": stigmatising_prob}), seed=2,
                                   with_space=False)
        before = model.residents.bias.copy()
        model.run_days(60)
        stigmatising = sum(m.stigmatising for m in model.messages)
        assert (stigmatising > 0) == changes
        assert (model.residents.bias > before).any() == changes
        assert (model.residents.bias >= before).all()


def test_readers_on_the_street_go_out_at_the_chance_given():
    """Mutants model._readers_react 44 and 55: a reader of a non-stigmatising signal on its street goes
    out with chance go_out_prob x (1 + alertness); the mutants double it."""
    share, readers_seen = _street_go_out_share(Params(n_households=300, go_out_prob=0.1, sighting_prob=0.0,
                                                      reply_prob=0.0), stigmatising=False)
    assert abs(share - 0.1) < 4 * np.sqrt(0.1 * 0.9 / readers_seen), share


def _street_go_out_share(p: Params, stigmatising: bool, alertness: float = 0.0) -> tuple[float, int]:
    """The share of readers on the street who go out after a signal about a situation there (400
    signals, everyone at ``alertness``), and how many readers there were."""
    model = NeighbourhoodWatch(p, seed=3, with_space=False)
    model.residents.alertness[:] = alertness
    went, readers_seen = 0, 0
    for i in range(400):
        node = i % p.n_households
        s = Situation(10_000 + i, 0, 600.0, "ambiguous_loitering", False, node, stigmatising, 30.0, 0.5, 0.5, node)
        episode = Episode(s, model.groups[model.hood.home_group[node]])
        readers = model.hood.on_street(node)
        msg = Message(0, 600.0, int(readers[0]), "resident", "signal", s.id, node, stigmatising=stigmatising)
        model._readers_react(episode, msg, readers, np.full(len(readers), 610.0))
        went += episode.going_out
        readers_seen += len(readers)
    return went / readers_seen, readers_seen


def test_no_false_alarm_is_corrected_where_there_are_only_offences():
    """Mutant model._close 63: a closing message after an offence with a look or a confrontation
    counts (and acts) as correcting a false alarm."""
    model = run_model(Params(**{**BUSY, "ambiguous_rate": 0.0, "closing_prob": 1.0}))
    days = model.day_table()
    assert days.innocent_situations.sum() == 0
    assert days.situations.sum() > 30 and days.self_investigations.sum() > 0
    assert days.false_alarms_corrected.sum() == 0


def test_the_situation_table_of_a_quiet_run_still_has_its_columns():
    """Mutant model.situation_table 25: without situations the table loses its columns."""
    quiet = {f: 0.0 for f in ("burglary_rate", "attempted_burglary_rate", "vehicle_crime_rate",
                              "vandalism_rate", "ambiguous_rate")}
    model = run_model(Params(n_households=60, **quiet), days=3)
    table = model.situation_table()
    assert len(table) == 0
    assert list(table.columns) == ["id", "day", "minute", "kind", "offence", "node", "minority", "stay",
                                   "deter_draw", "displace_draw"]


def test_the_group_table_counts_each_groups_messages(officer_world):
    """Mutants model.group_table 1, 19, 34 (no test ran group_table); session 13: 13, 14 (the admins'
    column misnamed)."""
    table = officer_world.group_table()
    assert list(table.group) == [g.index for g in officer_world.groups] and len(table) > 1
    for row, g in zip(table.itertuples(), officer_world.groups):
        kinds = [m.kind for m in g.log]
        assert row.households == np.count_nonzero(officer_world.hood.home_group == g.index)
        assert row.members == len(g.members) and row.admins == len(g.admins) and row.messages == len(kinds)
        assert row.signals == sum(k in SIGNAL_KINDS for k in kinds)
        assert row.relays == kinds.count("relay")
        assert row.offtopic == kinds.count("offtopic") + kinds.count("reply")
    assert table.signals.sum() > 0 and table.relays.sum() > 0 and (table.offtopic > 0).any()


def test_messages_a_day_are_the_mean_of_the_last_seven_days():
    """Mutant chat.ChatGroup.__init__ 7: the traffic's memory keeps every day, not the last seven."""
    model = NeighbourhoodWatch(Params(n_households=60), seed=1, with_space=False)
    group = model.groups[0]
    author = group.admins[0]   # an admin's posts are not moderated: two posts, two messages
    group.post(10.0, author, "offtopic", rng=np.random.default_rng(0))
    group.post(20.0, author, "offtopic", rng=np.random.default_rng(1))
    group.new_day()
    assert group.messages_per_day == 2.0
    for days in range(1, 8):
        group.new_day()
        assert group.messages_per_day == (2.0 / (days + 1) if days < 7 else 0.0)


def test_the_watched_share_follows_every_change_of_membership():
    """Mutants membership.Membership._change 6, 7, 8: the members in sight of each house are miscounted
    when someone joins or leaves."""
    model = run_model(Params(**{**BUSY, "invite_prob": 0.01, "traffic_leave_prob": 0.01}), days=60)
    log = model.membership.log
    assert {c for _, _, c in log} >= {"joined", "left"}
    hood, member = model.hood, model.residents.member
    recount = np.array([member[hood.in_sight(h)].sum() / len(hood.in_sight(h)) for h in range(len(member))])
    assert np.array_equal(model.membership.watched(), recount)


def test_after_a_burglary_only_those_who_draw_it_join():
    """Mutant membership.Membership.after_incident 18: every non-member in sight joins after a burglary."""
    model = run_model(Params(**{**BUSY, "incident_join_prob": 1e-9, "invite_prob": 0.0}))
    assert model.day_table().burglaries.sum() > 10
    assert not [h for _, h, c in model.membership.log if c == "joined"]


def test_when_every_member_leaves_every_member_but_the_admins_leaves():
    """Leaving because of traffic at chance 1 empties the groups but for their admins, in one day:
    who leaves is drawn without replacement (mutant membership.Membership.daily 30, ``replace=None``,
    is equivalent: numpy reads None as False)."""
    model = NeighbourhoodWatch(Params(n_households=400, traffic_leave_prob=1.0, invite_prob=0.0), seed=1,
                               with_space=False)
    members = model.membership.count
    model.membership.daily(1.0, 0.0, np.random.default_rng(0))
    assert members > 50
    assert set(np.flatnonzero(model.residents.member)) == set(model.membership.admins)


def test_an_empty_day_table_has_no_rates():
    """Mutant outcomes._per_month 3: a rate per month of a table without days divides by zero (a
    numpy warning, an error here) instead of being NaN."""
    days = sim.run(Params(n_households=60), seed=1, days=5).days.iloc[:0]
    summary = summarise(days)
    per_month = [name for name in summary if name.endswith("_per_month")]
    assert per_month and all(np.isnan(summary[name]) for name in per_month)


# --- survivors of the run on the model of session 13 (sim/ of git a2e425c) -----------------------
def test_a_new_model_has_no_situations_today():
    """Mutant model.NeighbourhoodWatch.__init__ 139: ``today`` is None until the first day, but the
    workshop app draws a new model's today (the highlighted places) before anyone steps it."""
    model = NeighbourhoodWatch(Params(n_households=60), seed=1, with_space=False)
    assert model.today == [] and not any(s.signalled for s in model.today)


def test_diffusion_credits_are_each_spent_on_one_later_offence():
    """Mutants model._offence_goes_ahead 7 and 29: a spent credit adds one, a new credit replaces those
    pending. At displacement -1 every deterred offence prevents one later offence (diffusion of
    benefits), so credits made = offences deterred = credits spent (diffused) + credits still pending."""
    p = Params(n_households=300, deterrence=0.6, displacement=-1.0, coverage=0.6,
               burglary_rate=50.0, attempted_burglary_rate=50.0, vehicle_crime_rate=30.0)
    model = run_model(p, seed=6, days=200)
    total = model.day_table().sum()
    assert total.offences_deterred > 30 and total.offences_diffused > 10
    assert total.offences_diffused + model._diffusion_pending == total.offences_deterred


def test_the_officer_reads_less_of_busier_groups():
    """Mutant model._officer_read_chance 2: the groups' traffic multiplies the officer's chance of
    reading a post instead of dividing it, so the officer in busy groups reads more, not less."""
    reports = []
    for fatigue in (0.0, 0.5):   # nobody calls 112, so the officer is often the first to tell the police
        p = Params.preset("officer_in_group", **{**BUSY, "officer_reads_prob": 0.5, "chatter_fatigue": fatigue,
                                                 "call_112_prob": 0.0, "nonmember_call_112_prob": 0.0})
        reports.append(run_model(p, days=200).day_table().reports_via_officer.sum())
    assert reports[0] > 15 and reports[1] < 0.7 * reports[0], reports


def test_readers_on_the_street_decide_each_on_their_own_draw():
    """Mutant model._readers_react 46: one draw for all readers on the street, so either all of them
    go out or none does."""
    p = Params(n_households=300, go_out_prob=0.3, sighting_prob=0.0, reply_prob=0.0)
    model = NeighbourhoodWatch(p, seed=3, with_space=False)
    model.residents.alertness[:] = 0.0
    some_not_all = 0
    for i in range(200):
        node = i % p.n_households
        s = Situation(10_000 + i, 0, 600.0, "ambiguous_loitering", False, node, False, 30.0, 0.5, 0.5, node)
        episode = Episode(s, model.groups[model.hood.home_group[node]])
        readers = model.hood.on_street(node)
        msg = Message(0, 600.0, int(readers[0]), "resident", "signal", s.id, node)
        model._readers_react(episode, msg, readers, np.full(len(readers), 610.0))
        some_not_all += 0 < episode.going_out < len(readers)
    assert some_not_all > 50


def test_an_episode_closes_after_every_visit_and_reply_it_set_in_motion():
    """Mutants model._readers_react 19, 66 and 95, model._situation_occurs 158, model._post_signal 146,
    model._relay_central 26: a reader's visit to the scene, a reply, a sighting, a 112 call, the
    admin's report or a relay into an adjacent group are not counted among the episode's events, so
    it may close (closing message, feedback, new ties) before them. Mutant model._feedback 30: the admin passes
    the police's feedback on before the episode closed. Mutant model._situation_occurs 136: the person's
    leaving is not among the episode's events, so it may close while the person is still there."""
    _closes_after_everything(Params.preset(**{**BUSY, "reply_prob": 0.1, "relay_prob": 1.0}))
    # the officer's reading of the group (mutant model._post_signal 93)
    _closes_after_everything(Params.preset("officer_in_group", **BUSY))


def test_an_episode_closes_after_its_person_left_and_every_unit_and_visit_arrived():
    """Mutants model._situation_occurs 199, model._ask_saar 22, model._contact_police 40: a witness's
    visit, the 112 call the admin's SAAR question prompts or a unit's arrival are not counted among
    the episode's events. Short stays and slow reactions make these the episode's last events."""
    _closes_after_everything(Params.preset("saar_enforced", **{
        **BUSY, "offender_stay_minutes": 5.0, "innocent_stay_minutes": 5.0, "reaction_minutes": 30.0}))


def _closes_after_everything(p: Params) -> None:
    model = NeighbourhoodWatch(p, seed=1, with_space=False)
    closed, later = {}, []
    close, confront, reply, contact = model._close, model._confront, model._reply, model._contact_police
    post, relay, arrive = model._post_signal, model._relay_into, model.police.response.arrive

    def closing(episode):
        s = episode.situation
        assert model.now >= s.start + s.stay   # the person has left (as the world had it)
        closed[s.id] = model.now
        close(episode)

    def visiting(s):
        later.append((s.id, model.now))
        confront(s)

    def replying(episode, reader):
        later.append((episode.situation.id, model.now))
        reply(episode, reader)

    def contacting(episode, *args):
        later.append((episode.situation.id, model.now))
        contact(episode, *args)

    def posting(episode, *args):
        later.append((episode.situation.id, model.now))
        post(episode, *args)

    def relaying(episode, *args):
        later.append((episode.situation.id, model.now))
        relay(episode, *args)

    def arriving(report, *args):
        later.append((report.situation.id, model.now))
        arrive(report, *args)

    model._close, model._confront, model._reply, model._contact_police = closing, visiting, replying, contacting
    model._post_signal, model._relay_into, model.police.response.arrive = posting, relaying, arriving
    model.run_days(60)
    assert len(later) > 100
    assert all(situation in closed and at <= closed[situation] for situation, at in later)
    # what the close posts (police feedback, the admin's closing message) comes after it
    after = [m for m in model.messages if m.kind in ("police_feedback", "closing")]
    assert {m.kind for m in after} == {"police_feedback", "closing"}
    assert all(m.time >= closed[m.situation] for m in after)


def test_a_groups_chatter_is_its_own():
    """Mutants model._chatter_times 14 and model._chatter 7: every group's chatter drawn from group 0's
    stream of the day, or the author of a chatter post from the stream of another day. A group's
    chatter (when, who) depends on its own stream of the day only: other groups' sizes change none
    of it, and its authors vary from day to day."""
    quiet = dict(burglary_rate=0.0, attempted_burglary_rate=0.0, vehicle_crime_rate=0.0, vandalism_rate=0.0,
                 ambiguous_rate=0.0)
    p = Params(n_households=1000, group_size=34.0, offtopic_rate=1.0, chatter_rule="tolerated",
               **FIXED_MEMBERSHIP, **quiet)
    chatter = []
    for smaller in (False, True):
        model = NeighbourhoodWatch(p, seed=2, with_space=False)
        if smaller:   # group 0 loses most of its members before the first day
            for h in [h for h in model.groups[0].members.tolist() if h not in model.groups[0].admins][:-2]:
                model.membership.leave(h, 0.0)
        model.run_days(60)
        chatter.append({g.index: [(m.time, m.author) for m in g.log if m.kind == "offtopic"] for g in model.groups})
    others = [g for g in chatter[0] if g != 0]
    assert len(others) >= 3 and sum(len(chatter[0][g]) for g in others) > 100
    assert len(chatter[1][0]) < len(chatter[0][0])
    assert all(chatter[0][g] == chatter[1][g] for g in others)
    for g in others:
        authors = {a for _, a in chatter[0][g]}
        assert len(chatter[0][g]) > 40 and len(authors) >= 10, (g, len(authors), len(chatter[0][g]))


def _one_place_left(seed: int = 1, **params) -> NeighbourhoodWatch:
    """A one-group neighbourhood whose group has room for exactly one more member."""
    base = NeighbourhoodWatch(Params(n_households=60, **params), seed=seed, with_space=False)
    model = NeighbourhoodWatch(Params(n_households=60, member_cap=base.membership.count + 1, **params), seed=seed,
                               with_space=False)
    assert len(model.groups) == 1 and model.membership.count == base.membership.count
    return model


def test_a_group_one_below_its_cap_takes_one_more_member():
    """Mutant membership.Membership.join 16: a group with room for one is treated as full."""
    model = _one_place_left()
    members = model.membership.count
    outside = np.flatnonzero(~model.residents.ever_member)
    assert len(outside) > 5
    model.membership.join(outside, 0.0, np.random.default_rng(0))
    assert model.membership.count == members + 1 == model.params.member_cap


def test_who_joins_after_a_burglary_is_drawn_from_the_stream_given():
    """Mutant membership.Membership.after_incident 14: when more would join than there is room for,
    who joins is drawn from the component's own generator instead of the situation's stream."""
    joined = []
    for own in (1, 2):
        model = _one_place_left()
        model.membership.rng = np.random.default_rng(own)   # the component's own generator differs
        n = model.params.n_households
        model.membership.after_incident(np.arange(n), 0.0, np.zeros(n), np.random.default_rng(0))
        joined.append([h for _, h, c in model.membership.log if c == "joined"])
    assert len(joined[0]) == 1 and joined[0] == joined[1]


def test_who_joins_through_an_invitation_is_drawn_from_the_stream_given():
    """Mutant membership.Membership.daily 48: when more are invited than there is room for, who joins
    is drawn from the component's own generator instead of the day's membership stream."""
    joined = []
    for own in (1, 2):
        model = _one_place_left(invite_prob=1.0, traffic_leave_prob=0.0)
        model.membership.rng = np.random.default_rng(own)
        model.membership.daily(0.0, 0.0, np.random.default_rng(0))
        joined.append([h for _, h, c in model.membership.log if c == "joined"])
    assert len(joined[0]) == 1 and joined[0] == joined[1]


def test_mesas_own_generators_follow_the_seed():
    """Mutant model.NeighbourhoodWatch.__init__ 6: Mesa's generators (``model.rng``, ``model.random``,
    which Mesa's tools use, e.g. to shuffle agents) are not seeded by the seed."""
    a, b = (NeighbourhoodWatch(Params(n_households=60), seed=5, with_space=False) for _ in range(2))
    assert a.rng.random() == b.rng.random() and a.random.random() == b.random.random()


def test_without_the_space_no_graph_is_built():
    """Mutant model.NeighbourhoodWatch.__init__ 120: the networkx graph (the app's and Mesa's) is built
    for every run, though only the space needs it (issue 11: runs skip it)."""
    assert NeighbourhoodWatch(Params(n_households=60), seed=1, with_space=False).graph is None
    assert NeighbourhoodWatch(Params(n_households=60), seed=1).graph is not None


def test_a_days_events_stop_at_midnight():
    """Mutant model._work_off_until 3: the day's events are worked off by their order number instead
    of their time, so events after midnight run on the day before."""
    model = NeighbourhoodWatch(Params.preset(**{**BUSY, "read_delay_minutes": 600.0}), seed=1, with_space=False)
    carried = 0
    for _ in range(40):
        model.run_days(1)
        assert model.now < model.steps * MINUTES_PER_DAY
        carried += bool(model._queue)
    assert carried > 5


def test_each_episode_has_its_own_traffic_stream():
    """Mutant model._traffic 6: every episode's group traffic drawn from one stream (key 0)."""
    model = NeighbourhoodWatch(Params(n_households=60), seed=4, with_space=False)
    draws = []
    for situation in (10_001, 10_002):
        s = Situation(situation, 0, 600.0, "ambiguous_loitering", False, 0, False, 30.0, 0.5, 0.5, 0)
        draws.append(model._traffic(Episode(s, model.groups[0])).random(3).tolist())
        assert draws[-1] == Streams(4).fresh("episode", situation).random(3).tolist()
    assert draws[0] != draws[1]


def test_readers_go_out_more_after_a_stigmatising_signal():
    """Mutant model._readers_react 42: a signal naming appearance makes readers on the street go out
    less (``1 - stigma_go_out_gain``) instead of more."""
    share, readers_seen = _street_go_out_share(Params(n_households=300, go_out_prob=0.1, stigma_go_out_gain=1.0,
                                                      sighting_prob=0.0, reply_prob=0.0), stigmatising=True)
    assert abs(share - 0.2) < 4 * np.sqrt(0.2 * 0.8 / readers_seen), share


def test_every_resident_who_goes_out_counts_as_a_self_investigation():
    """Mutant model._close 5: an episode with residents going out counts one self-investigation,
    however many went."""
    model = NeighbourhoodWatch(Params.preset(**BUSY), seed=1, with_space=False)
    visits, confront = [], model._confront

    def visiting(s):
        visits.append(s.id)
        confront(s)

    model._confront = visiting
    model.run_days(BUSY_DAYS)
    assert len(visits) > len(set(visits)) > 10   # some episodes with several
    assert model.day_table().self_investigations.sum() == len(visits)


def test_a_false_alarm_a_unit_looked_at_is_corrected():
    """Mutant model._close 75: a false alarm is corrected only when a resident spoke to the person, not
    when a police unit went to look. Nobody goes out here; units always go."""
    p = Params.preset(**{**BUSY, "investigate_prob": 0.0, "go_out_prob": 0.0, "closing_prob": 1.0})
    model = run_model(p)
    assert not any(s.confronted for s in model.situations)
    assert model.day_table().false_alarms_corrected.sum() > 0


def test_callers_are_disappointed_exactly_when_neither_follow_up_nor_feedback_came():
    """Mutants model._feedback 28 and 55: feedback counted as given when no admin passed it on, or
    not counted when it was, so callers are spared or disappointed wrongly. Callers lose trust
    after an episode whose report got no follow-up and which brought no feedback to the group."""
    # the police give feedback after every report (so also where nothing followed), passed on by an
    # admin when one is available (no officer in the group)
    model = NeighbourhoodWatch(Params.preset("police_feedback", **{**BUSY, "dispatch_prob": 0.3}), seed=1,
                               with_space=False)
    res, close, disappoint = model.residents, model._close, model.residents.disappoint
    seen, disappointed = [], []

    def closing(episode):
        feedback = sum(m.kind == "police_feedback" for m in episode.group.log)
        disappointed.clear()
        close(episode)
        fed_back = sum(m.kind == "police_feedback" for m in episode.group.log) > feedback
        report = episode.report
        unanswered = bool(episode.callers) and (report is None or not report.follow_ups)
        seen.append((unanswered and not fed_back, unanswered and fed_back, bool(disappointed)))

    def disappointing(callers):
        disappointed.append(callers)
        disappoint(callers)

    model._close, res.disappoint = closing, disappointing
    model.run_days(BUSY_DAYS)
    assert sum(e for e, _, _ in seen) > 10
    assert sum(spared for _, spared, _ in seen) > 10   # callers without follow-up, spared by the feedback
    assert all(expected == got for expected, _, got in seen)


def test_offenders_are_of_the_minority_at_their_own_share():
    """Mutant world.World._draw_block 60: offenders are of the minority at the passers-by's share."""
    p = Params(n_households=300, minority_share=0.1, offender_minority_share=0.9, burglary_rate=50.0,
               attempted_burglary_rate=50.0, vehicle_crime_rate=50.0, ambiguous_rate=400.0)
    world = World(p, np.random.default_rng(3))
    situations = [s for day in range(365) for s in world.situations_on(day)]
    offences = [s.minority for s in situations if s.offence]
    innocent = [s.minority for s in situations if not s.offence]
    assert len(offences) > 500 and len(innocent) > 500
    assert 0.85 < np.mean(offences) < 0.95 and 0.07 < np.mean(innocent) < 0.13


def test_members_post_exactly_when_their_post_draw_is_below_the_chance():
    """Mutant residents.Residents.respond 57: the report form's friction cuts the chance of posting
    also where there is no report form."""
    k = 1000
    u = np.vstack([np.ones(k), np.ones(k), np.ones(k), np.arange(k) / k])   # no call, no investigation
    for form, chance in ((False, 0.5), (True, 0.25)):
        res = _residents(np.ones(k, dtype=bool), call_112_prob=0.0, investigate_prob=0.0, post_prob=0.5,
                         report_form=form, report_form_friction=0.5)
        assert np.array_equal(res.respond(np.arange(k), u) == Response.APP_ONLY, u[3] < chance)


def test_the_day_table_counts_in_whole_numbers():
    """Mutants outcomes.DayRecord.__init__ 9, DayRecord.columns 12 and 19: the day, the event counts
    and the households counted come out as floats."""
    days = sim.run(Params(n_households=60), seed=1, days=5).days
    for name in ("day", "situations", "messages", "calls_112", "members", "nonmembers", "households"):
        assert days[name].dtype == np.int64, name


def test_every_group_has_a_member_count_even_an_empty_one():
    """Mutant membership.Membership.__init__ 20: the member counts end at the last group with a member,
    so a neighbourhood whose last group is empty loses it from the counts (and from each day's chatter)."""
    model = NeighbourhoodWatch(Params(n_households=400, group_size=34.0), seed=1, with_space=False)
    res, last = model.residents, len(model.groups) - 1
    assert last >= 2
    res.member[res.group == last] = False      # the last group's members all gone before it starts
    res.group[res.group == last] = -1
    counts = Membership(model.params, res, model.hood, Tally(), np.random.default_rng(0)).counts()
    assert len(counts) == len(model.groups) and counts[last] == 0 and counts[:last].all()



def test_a_model_is_running_until_told_otherwise():
    """Mutants model.NeighbourhoodWatch.__init__ 146 and 147: Mesa's ``running`` flag (which Mesa's
    ``run_model``, batch runs and the app's play button go by) starts out false."""
    assert NeighbourhoodWatch(Params(n_households=60), seed=1, with_space=False).running is True


def test_a_displaced_offence_meets_the_other_streets_deterrence_with_its_rescaled_draw():
    """Mutant model._offence_goes_ahead 18: the displacement draw multiplied by the displacement
    instead of divided (and model.situation_table 36: the table shows where a displaced offence went,
    not where the world put it). Everyone a member and alertness constant (as in test_invariants'
    test_deterrence_follows_the_world_draw_exactly), so every street deters at the same chance and
    the fate of each offence follows from its two world draws."""
    p = Params(n_households=300, coverage=1.0, area_join_share=1.0, **FIXED_MEMBERSHIP, deterrence=0.6,
               displacement=0.5, alertness_gain=0.0, alertness_baseline=0.5, chatter_rule="tolerated",
               remove_profiling=False, burglary_rate=50.0, attempted_burglary_rate=50.0)
    model = run_model(p, seed=4, days=120)
    offences = [s for s in model.situations if s.offence]
    stopped = [s.deter_draw < 0.6 for s in offences]
    moved = [st and 0 < s.displace_draw < 0.5 and s.displace_draw / 0.5 >= 0.6 for s, st in zip(offences, stopped)]
    assert sum(moved) > 10
    assert [s.displaced for s in offences] == moved
    assert [s.deterred for s in offences] == [st and not mv for st, mv in zip(stopped, moved)]
    # the situation table keeps where the world put each one (mutant model.situation_table 36)
    table = model.situation_table().set_index("id")
    assert [table.node[s.id] for s in offences] == [s.world_node for s in offences]
    assert any(s.node != s.world_node for s in offences)


def test_a_sighting_is_never_stigmatising():
    """Mutant model._post_signal 21: sightings (``"sighting"`` misspelt) may name appearance too."""
    model = run_model(Params.preset(**BUSY))
    kinds = {m.kind for m in model.messages if m.stigmatising}
    assert "signal" in kinds and "sighting" not in kinds
    assert any(m.kind == "sighting" for m in model.messages)


def test_without_112_called_messages_no_call_is_saved():
    """Mutant model._post_signal 47: readers of any signal (not of "112 called") take it that 112 was
    called and do not call."""
    model = run_model(Params.preset(**{**BUSY, "saar_app_prob": 0.0}))
    total = model.day_table().sum()
    assert total.calls_112 > 20 and not any(m.kind == "saar" for m in model.messages)
    assert total.calls_saved == 0


def test_a_reader_knows_112_was_called_from_the_first_such_message_read():
    """Mutant model._post_signal 59: a second "112 called" message overwrites when a reader first
    learnt of the call with a later time."""
    model = NeighbourhoodWatch(Params(n_households=200, coverage=1.0, read_prob=0.5, sighting_prob=0.0,
                                      go_out_prob=0.0, reply_prob=0.0), seed=2, with_space=False)
    s = Situation(10_000, 0, 600.0, "ambiguous_loitering", False, 0, False, 30.0, 0.5, 0.5, 0)
    episode = Episode(s, model.groups[0])
    members = [h for h in model.groups[0].members.tolist() if h not in model.groups[0].admins]
    model.now = 600.0
    model._post_signal(episode, members[0], "saar")
    first = dict(episode.told_112)
    later = next(h for h in members[1:] if h not in first)   # has not read the first message
    model.now = 600.0 + 10 * 24 * 60                         # ten days later: every read comes later
    model._post_signal(episode, later, "saar")
    assert len(first) > 10
    assert all(episode.told_112[r] == at for r, at in first.items())


def test_no_event_is_scheduled_in_the_past():
    """Mutant model._post_signal 142: the officer picks up the admin's report before the admin passed
    it on (the admin's delay subtracted), possibly before now: the clock would run backwards."""
    # slow admins and a quick officer always on duty, so that a pick-up counted back from the
    # admin's delay would fall before the post
    quick = dict(admin_delay_minutes=300.0, officer_action_delay_minutes=5.0, officer_duty_hours=24)
    for scenario in ("baseline", "officer_in_group", "saar_enforced"):
        model = NeighbourhoodWatch(Params.preset(scenario, **BUSY, **quick), seed=1, with_space=False)
        schedule, times = model._schedule, []

        def scheduling(time, *args):
            times.append(time - model.now)
            schedule(time, *args)

        model._schedule = scheduling
        model.run_days(60)
        assert len(times) > 300 and min(times) >= 0, scenario
        assert model.day_table().reports_via_admin.sum() > 0 or scenario != "baseline"


def test_a_days_chatter_is_drawn_from_that_days_chatter_stream():
    """Mutant model._chatter_times 31: chatter never in a day's first minute. Each group's chatter of a
    day is the day's chatter stream of that group (docs/odd.md, "Random streams"): its count a
    Poisson draw at the group's rate, its minutes uniform over the day."""
    quiet = dict(burglary_rate=0.0, attempted_burglary_rate=0.0, vehicle_crime_rate=0.0, vandalism_rate=0.0,
                 ambiguous_rate=0.0)
    p = Params(n_households=400, group_size=34.0, offtopic_rate=1.0, chatter_rule="tolerated",
               **FIXED_MEMBERSHIP, **quiet)
    model = NeighbourhoodWatch(p, seed=2, with_space=False)
    counts = model.membership.counts().tolist()
    model.run_days(30)
    streams = Streams(2)
    for g, members in zip(model.groups, counts):
        rate = p.offtopic_rate * g.chatter_multiplier * members / DAYS_PER_MONTH
        expected = []
        for day in range(30):
            rng = streams.daily("chatter", day, g.index)
            n = rng.poisson(rate)
            expected += sorted((day * MINUTES_PER_DAY + rng.uniform(0, MINUTES_PER_DAY, size=n)).tolist())
        got = [m.time for m in g.log if m.kind == "offtopic"]
        assert len(got) > 10 and got == expected, g.index


def test_warnings_add_up_to_a_removal():
    """Mutant chat.ChatGroup._warn_or_remove 17: a new warning sets the count to 1 instead of adding
    one, so with two warnings before removal nobody is ever removed."""
    p = Params(n_households=20, coverage=1.0, admin_availability=1.0, warnings_before_removal=2,
               conflict_leave_prob=0.0)
    model = NeighbourhoodWatch(p, seed=0, with_space=False)
    chat = model.chat
    member = next(h for h in chat.members.tolist() if h not in chat.admins)
    for day in range(3):
        chat.post(day * MINUTES_PER_DAY, member, "offtopic")
    kinds = [m.kind for m in chat.log if m.kind.startswith("admin_")]
    assert kinds == ["admin_warning", "admin_warning", "admin_removal"] and not model.residents.member[member]


def test_residents_made_without_groups_have_members_in_group_0_and_others_in_none():
    """Mutant residents.Residents.__init__ 14: non-members are put in group 1 instead of none (-1)."""
    member = np.array([True, False, True, False])
    assert _residents(member).group.tolist() == [0, -1, 0, -1]



def test_who_joins_after_a_burglary_in_a_run_is_drawn_from_the_situations_stream():
    """Mutant model._situation_occurs 35: the model asks the membership to let households join after a
    burglary without the situation's stream, so a full group's joiners are drawn from the component's
    own generator (removed here, as in test_streams.py)."""
    settings = {**BUSY, "incident_join_prob": 1.0, "invite_prob": 0.0, "traffic_leave_prob": 0.0}
    start = NeighbourhoodWatch(Params.preset(**settings), seed=1, with_space=False).membership.counts().max()
    model = NeighbourhoodWatch(Params.preset(**settings, member_cap=int(start) + 1), seed=1, with_space=False)
    model.membership.rng = None   # the largest group has room for one: more would join after a burglary
    model.run_days(BUSY_DAYS)
    joined = [h for _, h, c in model.membership.log if c == "joined"]
    assert len(joined) > 5 and model.membership.counts().max() <= start + 1


def test_the_minority_is_found_suspicious_more_often_through_bias():
    """Mutant model._situation_occurs 57: the model appraises every innocent situation as if the person
    were not of the minority, so bias plays no part."""
    model = run_model(Params.preset(**{**BUSY, "bias_suspicion_gain": 10.0, "ambiguous_suspicion_prob": 0.05,
                                       "ambiguous_rate": 600.0}))
    innocent = [s for s in model.situations if not s.offence]
    share = [np.mean([s.signalled for s in innocent if s.minority == m]) for m in (True, False)]
    assert min(sum(s.minority for s in innocent), sum(not s.minority for s in innocent)) > 200
    assert share[0] > 1.5 * share[1], share


def test_a_correction_reaches_its_readers_only():
    """Mutant model._close 80: the correction of a false alarm is applied to every resident (an index
    of None) instead of to the closing message's readers."""
    p = Params.preset(**{**BUSY, "investigate_prob": 0.0, "go_out_prob": 0.0, "closing_prob": 1.0})
    model = NeighbourhoodWatch(p, seed=1, with_space=False)
    corrected, correct = [], model.residents.correct

    def correcting(readers):
        corrected.append(readers)
        correct(readers)

    model.residents.correct = correcting
    model.run_days(BUSY_DAYS)
    assert corrected and all(isinstance(r, np.ndarray) and 0 < len(r) < p.n_households for r in corrected)


def test_moderating_chatter_draws_from_its_own_stream():
    """Mutant model._chatter 15: the admins' acts on chatter (and the delivery of their warnings) drawn
    from the chatter stream, so moderating changes who chatters. With the same chatter rates, no
    removals and nobody leaving, strict and tolerated groups chatter alike: when and who."""
    quiet = dict(burglary_rate=0.0, attempted_burglary_rate=0.0, vehicle_crime_rate=0.0, vandalism_rate=0.0,
                 ambiguous_rate=0.0)
    base = dict(n_households=400, group_size=34.0, offtopic_rate=3.0, strict_chatter_cut=0.0,
                tolerated_chatter_boost=1.0, warnings_before_removal=10, **FIXED_MEMBERSHIP, **quiet)
    chatter, warnings = [], []
    for rule in ("tolerated", "strict"):
        model = NeighbourhoodWatch(Params(chatter_rule=rule, **base), seed=2, with_space=False)
        model.run_days(30)
        chatter.append([(m.group, m.time, m.author) for m in model.messages if m.kind == "offtopic"])
        warnings.append(sum(m.kind == "admin_warning" for m in model.messages))
    assert len(chatter[0]) > 100 and warnings[0] == 0 and warnings[1] > 10
    assert chatter[0] == chatter[1]


def test_situations_happen_at_the_hours_of_their_kind():
    """Mutant world.World._draw_block 31: the hour profiles' cumulative sums run over every kind at
    once, so the hours no longer follow each kind's profile."""
    p = Params(n_households=3000, burglary_rate=50.0, attempted_burglary_rate=50.0, ambiguous_rate=400.0)
    world = World(p, np.random.default_rng(5))
    situations = [s for day in range(365) for s in world.situations_on(day)]
    checked = 0
    for k, kind in enumerate(world.kinds):
        hours = np.array([int(s.minute // 60) for s in situations if s.kind == kind])
        if len(hours) < 1000:
            continue
        checked += 1
        seen = np.bincount(hours, minlength=24) / len(hours)
        assert np.abs(seen - world.hour_weights[k]).max() < 0.03, kind
    assert checked >= 3


def test_the_membership_hands_out_read_only_arrays():
    """Mutants membership.Membership.members_of 8 and watched 5: the cached members of a group and the
    watched shares are handed out writeable, so a caller could change the membership's records."""
    model = NeighbourhoodWatch(Params(n_households=60), seed=1, with_space=False)
    for array in (model.membership.members_of(0), model.membership.watched()):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = array[0]



def test_offences_are_recognised_and_innocent_situations_are_not_taken_for_them():
    """Mutant model._situation_occurs 56: every situation appraised as innocent. Offences recognised
    always, innocent situations never found suspicious: only offences are signalled."""
    model = run_model(Params.preset(**{**BUSY, "recognise_offence_prob": 1.0, "ambiguous_suspicion_prob": 0.0}))
    total = model.day_table().sum()
    assert total.offences_signalled > 10 and total.innocent_signalled == 0


def test_a_situation_nobody_acts_on_is_not_signalled():
    """Mutant model._situation_occurs 113: every situation someone found suspicious counts as
    signalled, even when nobody called, posted or did anything."""
    model = run_model(Params.preset(**{**BUSY, "call_112_prob": 0.0, "nonmember_call_112_prob": 0.0,
                                       "post_prob": 0.0, "investigate_prob": 0.0}))
    total = model.day_table().sum()
    assert total.suspicions > 100
    assert total.situations_signalled == 0 and not any(s.signalled for s in model.situations)


def test_the_observe_streams_rows_decide_what_each_row_is_for():
    """Mutant model._situation_occurs 146: the reaction delays drawn from the row of joining after a
    burglary (row 7) instead of their own (row 6). The observe stream of a situation is one block of
    uniforms, a row per decision (sim/model.py: notice, appraise, call, tell the group, investigate,
    post, reaction delay, join after a burglary), a column per household in sight."""
    p = Params.preset(**BUSY)
    model = NeighbourhoodWatch(p, seed=3, with_space=False)
    model.run_days(5)
    res, checked = model.residents, 0
    for i, node in enumerate(range(0, p.n_households, 7)):
        s = Situation(20_000 + i, 5, 600.0, "ambiguous_loitering", False, node, False, 60.0, 0.5, 0.5, node)
        in_sight = model.hood.in_sight(node)
        u = Streams(3).observe(s.id).random((8, len(in_sight)))
        observers = res.notice(in_sight, s.minute, u[0])
        suspicious = res.appraise(observers, False, False, u[1, np.searchsorted(in_sight, observers)])
        at = np.searchsorted(in_sight, suspicious)
        acting = res.respond(suspicious, u[2:6, at]) != Response.NOTHING
        start = 5 * MINUTES_PER_DAY + 600.0
        expected = sorted(set((start - p.reaction_minutes * np.log1p(-u[6, at][acting])).tolist()))
        model.now, model._queue = start, []
        model._situation_occurs(s)
        scheduled = sorted({t for t, _, episode, action, _ in model._queue if action.__name__ != "_person_leaves"})
        assert scheduled == expected
        checked += len(expected)
    assert checked > 20


def test_every_household_can_be_where_a_displaced_offence_goes():
    """Mutant world.World._draw_block 85: the alternative street of a displaced offence is never
    household 0's."""
    p = Params(n_households=50, burglary_rate=50.0, attempted_burglary_rate=50.0, ambiguous_rate=1000.0)
    world = World(p, np.random.default_rng(6))
    situations = [s for day in range(3650) for s in world.situations_on(day)]   # ten years
    assert len(situations) > 5000
    assert np.bincount([s.alt_node for s in situations], minlength=50).min() > 0
    assert np.bincount([s.node for s in situations], minlength=50).min() > 0


def test_a_112_call_alone_is_no_report_from_the_group():
    """Mutant police.Police.receive 21: a 112 call with nothing said about the group (``from_group``
    left out) counts as brought by the group."""
    model = NeighbourhoodWatch(Params(n_households=60), seed=1, with_space=False)
    s = Situation(10_000, 0, 600.0, "burglary", True, 0, False, 30.0, 0.5, 0.5, 0)
    report, _ = model.police.receive(s, "112", 600.0, rng=np.random.default_rng(0))
    assert not report.from_group
    report, _ = model.police.receive(s, "officer", 700.0, rng=np.random.default_rng(0))
    assert report.from_group


def test_a_snapshot_counts_households_in_whole_numbers():
    """Mutant outcomes.snapshot 19: members, non-members and households come out as floats."""
    row = snapshot(np.array([True, False]), np.array([True, False]), alertness=np.zeros(2), fear=np.zeros(2),
                   trust=np.zeros(2), unsafe_threshold=0.5, often_unsafe_threshold=0.75)
    assert [type(row[k]) for k in ("members", "nonmembers", "households")] == [int, int, int]
    assert type(row["fear_residents"]) is float


def test_response_minutes_keep_their_fractions():
    """Mutant outcomes.DayRecord.columns 13: every count made a whole number, response minutes too."""
    days = run_model(Params.preset(**BUSY)).day_table()
    minutes = days.response_minutes_total
    assert minutes.dtype == np.float64 and (minutes != np.trunc(minutes)).any()



def test_a_days_moderation_is_drawn_from_that_days_moderation_stream():
    """Mutant model._chatter 29: the admins' acts on a day's chatter drawn from the moderation stream of
    another day. Under the strict rule the admin removes a resident's chatter after a delay: the
    admin's availability and delay are the day's moderation stream's first draws."""
    p = Params(n_households=60, chatter_rule="strict", admin_availability=1.0, warnings_before_removal=10,
               conflict_leave_prob=0.0)
    model = NeighbourhoodWatch(p, seed=3, with_space=False)
    _moderation_follows_the_days_stream(model, model.groups[0])


def _moderation_follows_the_days_stream(model: NeighbourhoodWatch, group) -> None:
    """Each day's removal of a resident's chatter in ``group`` (seed 3) has the availability and
    delay of that day's moderation stream of that group."""
    checked = 0
    for day in range(3, 40):
        model.now = day * MINUTES_PER_DAY + 600.0
        model._chatter(day, group)
        msg = group.log[-1] if group.log[-1].kind == "offtopic" else group.log[-2]
        if msg.role != "resident":
            continue
        reference = Streams(3).daily("moderation", day, group.index)
        assert group.admin_acts(reference) is not None
        assert msg.removed_at == msg.time + group.admin_delay(reference), day
        checked += 1
    assert checked > 10


def test_units_sent_to_innocent_situations_are_the_false_alarms():
    """Mutant police.EmergencyResponse.send_unit 24: units sent to offences counted as false alarms."""
    model = run_model(Params.preset(**BUSY))
    total = model.day_table().sum()
    looked = [r for r in model.police.reports.values() if "look" in r.follow_ups]
    assert {r.situation.offence for r in looked} == {True, False}
    assert total.false_alarms == sum(not r.situation.offence for r in looked)


def test_messages_are_read_after_the_mean_read_delay():
    """Mutant chat.ChatGroup._deliver 7: read delays of mean one minute instead of read_delay_minutes."""
    model = NeighbourhoodWatch(Params(n_households=400, coverage=1.0, read_prob=1.0, read_delay_minutes=60.0),
                               seed=1, with_space=False)
    group, delays = model.groups[0], []
    author = group.admins[0]
    for i in range(20):
        _, readers, read_at = group.post(600.0, author, "offtopic", rng=np.random.default_rng(i))
        delays += (read_at - 600.0).tolist()
    assert len(delays) > 1000 and abs(np.mean(delays) - 60.0) < 4 * 60.0 / np.sqrt(len(delays))


def test_alarm_and_disappointment_move_bias_and_trust_by_their_rates():
    """Mutants residents.Residents.alarm 17 (bias pushed past 1: ``2 - bias``) and disappoint 1 and 3
    (trust set to the loss, or the loss divided by trust): a stigmatising signal moves a reader's bias
    ``stigma_bias_gain`` of the way to 1; an unanswered call takes ``unanswered_trust_loss`` of trust."""
    res = _residents(np.ones(50, dtype=bool), stigma_bias_gain=0.2, unanswered_trust_loss=0.3)
    who = np.arange(0, 50, 2)
    bias, trust = res.bias.copy(), res.trust.copy()
    res.alarm(who, stigmatising=True)
    res.disappoint(who)
    assert np.allclose(res.bias[who], bias[who] + 0.2 * (1 - bias[who])) and (res.bias <= 1).all()
    assert np.allclose(res.trust[who], trust[who] * (1 - 0.3))
    others = np.setdiff1d(np.arange(50), who)
    assert np.array_equal(res.bias[others], bias[others]) and np.array_equal(res.trust[others], trust[others])


def test_after_a_burglary_called_without_draws_draws_its_own():
    """Mutant membership.Membership.after_incident 8: called without ``u`` (direct calls: tests,
    notebooks), it no longer draws the households' chances itself."""
    model = _one_place_left(incident_join_prob=1.0)
    n = model.params.n_households
    model.membership.after_incident(np.arange(n), 0.0, rng=np.random.default_rng(0))
    assert [c for _, _, c in model.membership.log] == ["joined"]


def test_each_invitation_is_decided_on_its_own_draw():
    """Mutant membership.Membership.daily 41: one draw for every invitation of the day, so either
    everyone invited joins or nobody does."""
    model = NeighbourhoodWatch(Params(n_households=400, invite_prob=0.5, traffic_leave_prob=0.0), seed=1,
                               with_space=False)
    invitable = set(model.membership._invitable().tolist())
    model.membership.daily(0.0, 0.0, np.random.default_rng(0))
    joined = {h for _, h, c in model.membership.log if c == "joined"}
    assert len(invitable) > 10 and 0 < len(joined) < len(invitable)



def test_alert_readers_go_out_more():
    """Mutant model._readers_react 53: alertness divides the chance of going out instead of raising it."""
    share, readers_seen = _street_go_out_share(Params(n_households=300, go_out_prob=0.1, sighting_prob=0.0,
                                                      reply_prob=0.0), stigmatising=False, alertness=1.0)
    assert abs(share - 0.2) < 4 * np.sqrt(0.2 * 0.8 / readers_seen), share


def test_deterrence_grows_with_the_alertness_in_sight():
    """Mutant model._deterrence_at 26: alertness divides deterrence instead of raising it:
    deterrence x member share in sight x (1 + alertness) / (1 + alertness_baseline), at most 1."""
    model = NeighbourhoodWatch(Params(n_households=300, deterrence=0.3, alertness_baseline=0.2), seed=1,
                               with_space=False)
    res = model.residents
    res.alertness[:] = 0.8
    node = next(h for h in range(300) if res.member[model.hood.in_sight(h)].any())
    members = res.member[model.hood.in_sight(node)].mean()
    assert model._deterrence_at(node) == pytest.approx(min(1.0, 0.3 * members * 1.8 / 1.2))


def test_a_group_without_room_does_not_stop_others_from_taking_joiners():
    """Mutant membership.Membership.join 17: after a group that takes nobody (empty here), the other
    groups take nobody either."""
    model = NeighbourhoodWatch(Params(n_households=400, group_size=34.0), seed=1, with_space=False)
    res = model.residents
    res.member[res.group == 0] = False      # group 0 empty, admins included: nobody to join
    res.group[res.group == 0] = -1
    membership = Membership(model.params, res, model.hood, Tally(), np.random.default_rng(0))
    before = membership.counts()
    membership.join(np.flatnonzero(~res.ever_member), 0.0, np.random.default_rng(1))
    after = membership.counts()
    assert after[0] == 0 and (after[1:] > before[1:]).all()


def test_leaving_for_traffic_goes_on_after_a_quiet_group():
    """Mutant membership.Membership.daily 19: after a group nobody leaves (no traffic), no other group
    loses members either."""
    model = NeighbourhoodWatch(Params(n_households=400, group_size=34.0, traffic_leave_prob=1.0, invite_prob=0.0),
                               seed=1, with_space=False)
    before = model.membership.counts()
    traffic = [0.0] + [1.0] * (len(before) - 1)
    model.membership.daily(traffic, 0.0, np.random.default_rng(0))
    after = model.membership.counts()
    assert len(before) > 2 and after[0] == before[0] and (after[1:] < before[1:]).all()


def test_a_model_made_without_params_or_seed_is_the_preset_on_seed_0():
    """Mutants model.NeighbourhoodWatch.__init__ 1 and 10: the default seed is not 0, or a model made
    without params has none instead of the preset (as ``sim.run``)."""
    default = NeighbourhoodWatch(with_space=False)
    explicit = NeighbourhoodWatch(Params.preset(), seed=0, with_space=False)
    assert default.params == explicit.params
    for model in (default, explicit):
        model.run_days(30)
    pd.testing.assert_frame_equal(default.situation_table(), explicit.situation_table())
    pd.testing.assert_frame_equal(default.day_table(), explicit.day_table())


def test_a_tie_once_there_is_not_formed_again():
    """Mutants model.NeighbourhoodWatch.__init__ 108 and 109: the ties the neighbourhood starts with are
    not recognised as ties, so members active together form them a second time."""
    model = NeighbourhoodWatch(Params.preset(**{**BUSY, "tie_prob": 1.0}), seed=1, with_space=False)
    start = len(model.hood.social_src)
    model.run_days(60)
    src, dst = model.hood.social_src.tolist(), model.hood.social_dst.tolist()
    pairs = list(zip(src, dst))
    assert len(pairs) == len(set(pairs))
    assert model.day_table().ties_formed.sum() == (len(pairs) - start) // 2 > 0


def test_run_days_moves_mesas_clock_on_by_the_days_run_without_mesas_step():
    """Mutants model.run_days 4, 13 and 14: Mesa's clock is set to the last call's days (or moved
    back) instead of moved on, or the days run through Mesa's per-step machinery although nothing
    but the next step is on its event list."""
    model = NeighbourhoodWatch(Params(n_households=60), seed=1, with_space=False)

    def mesas_step():
        raise AssertionError("run_days went through Mesa's step")

    model.step = mesas_step
    model.run_days(3)
    model.run_days(4)
    assert model.steps == 7 and model.time == 7


def test_only_readers_on_the_street_go_out():
    """Mutant model._readers_react 37: the street of no household (``on_street(None)``) is every
    household, so readers anywhere go out to look."""
    p = Params(n_households=300, go_out_prob=1.0, sighting_prob=0.0, reply_prob=0.0)
    model = NeighbourhoodWatch(p, seed=3, with_space=False)
    model.residents.alertness[:] = 0.0
    node = 5
    s = Situation(10_000, 0, 600.0, "ambiguous_loitering", False, node, False, 30.0, 0.5, 0.5, node)
    episode = Episode(s, model.groups[model.hood.home_group[node]])
    readers = np.arange(p.n_households)
    msg = Message(0, 600.0, node, "resident", "signal", s.id, node)
    model._readers_react(episode, msg, readers, np.full(len(readers), 610.0))
    assert episode.going_out == len(model.hood.on_street(node)) < len(readers)


def test_a_false_alarm_no_unit_looked_at_and_nobody_confronted_is_not_corrected():
    """Mutant model._close 76: a report without a unit's look counts as a false alarm the admin
    knows of, so its readers are corrected. No unit is sent and nobody goes out here."""
    p = Params.preset(**{**BUSY, "dispatch_prob": 0.0, "investigate_prob": 0.0, "go_out_prob": 0.0,
                         "closing_prob": 1.0, "officer_action_prob": 0.0})
    model = run_model(p)
    table = model.day_table()
    assert table.reports_posted_about.sum() > 10
    assert table.false_alarms_corrected.sum() == 0


def test_each_groups_moderation_is_drawn_from_its_own_stream():
    """Mutant model._chatter 30: every group's chatter is moderated from group 0's moderation stream."""
    p = Params(n_households=400, group_size=34.0, chatter_rule="strict", admin_availability=1.0,
               warnings_before_removal=10, conflict_leave_prob=0.0)
    model = NeighbourhoodWatch(p, seed=3, with_space=False)
    assert model.groups[-1].index > 0
    _moderation_follows_the_days_stream(model, model.groups[-1])


def test_situation_rates_are_per_thousand_households_a_month():
    """Mutants world.World.__init__ 5 and 12: the monthly rates are per 1,001 households, or divided
    by the households instead of multiplied."""
    p = Params(n_households=2000)
    world = World(p, np.random.default_rng(0))
    monthly = world.daily_rates * DAYS_PER_MONTH / 2
    assert monthly[:4] == pytest.approx([p.burglary_rate, p.attempted_burglary_rate, p.vehicle_crime_rate,
                                         p.vandalism_rate], rel=1e-12)
    assert monthly[4:].sum() == pytest.approx(p.ambiguous_rate, rel=1e-12)


def test_the_ties_of_a_last_resident_without_ties_are_still_counted():
    """Mutant residents.Residents._ties 12: the tie pointers end at the last resident with a tie, so
    the daily update reads past them for those after it."""
    res = Residents(Params(), np.array([True, True, False, False, False]), np.random.default_rng(0))
    src, dst = np.array([0, 1, 1, 2]), np.array([1, 0, 2, 1])
    ptr, idx = res._ties(src, dst)
    assert ptr.tolist() == [0, 1, 3, 4, 4, 4] and idx.tolist() == [1, 0, 2, 1]


def test_after_a_burglary_without_draws_each_household_decides_on_its_own_draw():
    """Mutant membership.Membership.after_incident 10: called without ``u``, one draw decides for every
    household of the scene, so all join or none."""
    model = NeighbourhoodWatch(Params(n_households=300, incident_join_prob=0.5), seed=1, with_space=False)
    res = model.residents
    before, outside = model.membership.count, int(np.count_nonzero(~res.member))
    model.membership.after_incident(np.arange(300), 0.0, rng=np.random.default_rng(0))
    joined = model.membership.count - before
    assert outside > 40 and 0.3 * outside < joined < 0.7 * outside
