"""Several groups per neighbourhood (issue 10): street-level groups of the typical size, each with
its own admins and chat; a resident in at most one; admins relay signals through the central
admins' group; the officer reads along in every group."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import sim
from experiments import study
from sim import NeighbourhoodWatch, Params
from sim.chat import CENTRAL, SIGNAL_KINDS
from test_invariants import BUSY, FIXED_MEMBERSHIP, check_invariants, member_at


def run(params: Params, seed: int = 1, days: int = 120, before=None) -> NeighbourhoodWatch:
    model = NeighbourhoodWatch(params, seed=seed, with_space=False)
    if before is not None:
        before(model)
    model.run_days(days)
    return model


@pytest.fixture(scope="module")
def generic() -> NeighbourhoodWatch:
    """The generic neighbourhood: 1,000 households, 25% coverage, a year."""
    return run(Params.preset("baseline"), days=365)


def test_a_neighbourhood_has_groups_of_the_typical_size_over_their_own_streets(generic):
    hood = generic.hood
    assert hood.n_groups == 4 == len(generic.groups)
    sizes = np.bincount(hood.group[hood.group >= 0])
    assert sizes.sum() == 250 and (abs(sizes - 250 / 4) <= 6).all()   # 60-75 members (facts.md)
    for g in generic.groups:
        streets = set(hood.street[hood.home_group == g.index].tolist())
        assert not streets & set(hood.street[hood.home_group != g.index].tolist()), "a street in two groups"
        assert g.admins and all(hood.home_group[a] == g.index for a in g.admins)
        assert hood.adjacent[g.index], "a group without neighbours"
    assert all(g.index in hood.adjacent[h] for g in generic.groups for h in hood.adjacent[g.index])


def test_no_resident_in_two_groups_and_members_post_only_in_their_own(generic):
    res, hood = generic.residents, generic.hood
    members = [set(g.members.tolist()) for g in generic.groups]
    assert sum(len(m) for m in members) == len(set().union(*members)) == res.member.sum()
    initial = set(np.flatnonzero(hood.member).tolist())
    joined = [h for _, h, c in generic.membership.log if c == "joined"]
    assert joined, "nobody joined: the rule that one joins one's street's group was not exercised"
    for g in generic.groups:
        residents_posts = [m for m in g.log if m.role in ("resident", "admin")]
        assert residents_posts
        for m in residents_posts:
            assert hood.home_group[m.author] == g.index and member_at(generic, initial, m.author, m.time)
    with pytest.raises(ValueError, match="not a member of group"):
        outsider = int(next(iter(members[1])))
        generic.groups[0].post(generic.now, outsider, "offtopic")


def test_outcomes_per_group_add_up_to_the_neighbourhood(generic):
    table, days = generic.group_table(), generic.day_table()
    assert list(table.group) == [0, 1, 2, 3]
    assert table.households.sum() == 1000
    assert table.members.sum() == days.members.iloc[-1]
    assert table.messages.sum() == days.messages.sum() == len(generic.messages)
    assert table.signals.sum() == days.messages_signal.sum()
    assert table.relays.sum() == days.relays.sum() > 0
    assert (table.messages > 0).all()
    with pytest.raises(AttributeError, match="4 groups"):
        generic.chat


def test_each_group_stays_within_the_cap():
    p = Params.preset("baseline", n_households=2000, coverage=0.5, group_size=250.0, invite_prob=0.05,
                      traffic_leave_prob=0.0)
    model = run(p, days=60)
    sizes = [len(g.members) for g in model.groups]
    assert model.hood.n_groups == 4 and max(sizes) == p.member_cap == 256, sizes
    never_members = ~model.residents.ever_member
    assert never_members.any(), "everyone joined: the cap was not what stopped them"
    # an initial split above the cap makes more groups
    assert NeighbourhoodWatch(Params(n_households=2000, coverage=0.5, group_size=256.0, member_cap=200),
                              with_space=False).hood.n_groups == 5


def _relay_world(**overrides) -> Params:
    return Params.preset("baseline", **{**BUSY, **FIXED_MEMBERSHIP, "talk_rate": 0.0, **overrides})


def _empty_group(g: int):
    def empty(model: NeighbourhoodWatch) -> None:
        for h in model.groups[g].members.tolist():
            model.membership.remove(h, 0.0)
    return empty


def _log(model: NeighbourhoodWatch, g: int) -> list[tuple]:
    return [(m.time, m.author, m.kind, m.situation, m.reads, m.removed) for m in model.groups[g].log]


def test_with_relay_off_groups_are_independent():
    """Without relays what happens in one group's chat does not depend on another group: emptying
    group 1 leaves group 0's chat exactly as it was (common random numbers make this testable)."""
    for relay_prob, independent in ((0.0, True), (1.0, False)):
        p = _relay_world(relay_prob=relay_prob)
        plain, emptied = run(p, days=90), run(p, days=90, before=_empty_group(1))
        assert plain.hood.n_groups == 3 and 0 in plain.hood.adjacent[1]
        assert not emptied.groups[1].log and len(_log(plain, 0)) > 50
        assert (_log(plain, 0) == _log(emptied, 0)) == independent, relay_prob
        check_invariants(plain)
        if not independent:  # what group 1 passed on reached group 0 only as its admin's relay
            relayed = {m.situation for m in plain.groups[0].log if m.kind == "relay"}
            from_1 = {s.id for s in plain.situations if plain.hood.home_group[s.node] == 1}
            assert relayed & from_1
    assert plain.central.log  # relays passed through the central admins' group


def test_a_relayed_signal_reaches_an_adjacent_group_only_through_its_admin():
    model = run(_relay_world(relay_prob=1.0), days=90)
    hood, log = model.hood, model.central.log
    relays = [(g, m) for g in model.groups for m in g.log if m.kind == "relay"]
    assert relays and all(m.group == CENTRAL for m in log)
    for g, m in relays:
        source = hood.home_group[model.situations[m.situation].node]
        assert source != g.index and g.index in hood.adjacent[source]
        assert m.role == "admin" and m.author in g.admins
        passed_on = [c for c in log if c.situation == m.situation and c.kind == "relay"]
        assert passed_on and passed_on[0].author in model.groups[source].admins and passed_on[0].time <= m.time
        # the source group's members never post in the adjacent group
        assert not [o for o in g.log if o.situation == m.situation and o.kind in SIGNAL_KINDS]
    # admins who never respond pass nothing on: no relay reaches any group
    silent = run(_relay_world(relay_prob=1.0, admin_availability=0.0), days=90)
    assert silent.day_table().relays.sum() == 0 and not silent.central.log


def test_the_officer_reads_along_in_every_group_with_attention_shared():
    model = run(Params.preset("police_feedback", **{**BUSY, "officer_in_group": True}), days=90)
    fed_back = {m.group for m in model.messages if m.kind == "police_feedback" and m.role == "officer"}
    assert len(fed_back) >= 2, "the officer posted in one group only"
    assert any(m.role == "officer" for m in model.central.log), "the police never posted in the central group"
    traffic = sum(g.messages_per_day for g in model.groups)
    assert traffic > 0 and model._officer_read_chance() == pytest.approx(
        model.params.officer_reads_prob / (1 + model.params.chatter_fatigue * traffic))


def test_each_study_case_is_one_group():
    """The calibration's study design (six groups of ~270 households): a case's neighbourhood is
    the one studied group."""
    targets = yaml.safe_load((study.CONF / "targets" / "targets.yaml").read_text())
    design = study.Design.from_targets(targets)
    for group in design.groups:
        params = study.group_params(sim.Params.preset(), group, design, study.STUDY_HYPERPARAMETERS)
        hood = NeighbourhoodWatch(params, with_space=False).hood
        assert hood.n_groups == 1 and 60 <= hood.member.sum() <= 75, group.name
