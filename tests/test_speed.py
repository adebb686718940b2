"""The fast paths give the numbers of the plain ones (issue 11): the compiled daily loops, the day
record, running days without Mesa's per-step machinery, and a study's own bookkeeping.

Speed itself is measured by benchmarks/ (ratios, never timed tests); these tests hold the fast
paths to the same results, bit for bit, whatever ran before in the process.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import sim
from experiments.study import TARGETS_FILE, Design, _mean, load_yaml, run_study
from sim.chat import Message
from sim.kernels import state_row
from sim.model import NeighbourhoodWatch
from sim.outcomes import COUNTS, STATE, snapshot
from sim.params import Params
from sim.residents import Residents, Response

SMALL = dict(n_households=300)


def _table(params: Params, seed: int, days: int = 90) -> pd.DataFrame:
    return sim.run(params, seed=seed, days=days).days


def test_a_run_is_the_same_whatever_ran_before_it():
    """Compiled code and caches carry nothing from one run to the next: a run repeated after runs
    of other sizes, seeds and scenarios, and one of a fresh model, match bit for bit."""
    p = Params.preset("baseline", warmup_days=10, **SMALL)
    first = _table(p, seed=3)
    for other in (Params.preset("saar_enforced", n_households=1200, warmup_days=5),
                  Params.preset("no_group", warmup_days=0, n_households=50), p):
        _table(other, seed=7)
    pd.testing.assert_frame_equal(_table(p, seed=3), first, check_exact=True)


def test_a_study_group_is_the_same_alone_and_in_any_order():
    design = Design.from_targets(load_yaml(TARGETS_FILE))
    design = Design(design.groups, 120, months_scale=0.1)   # small and short: the same code path
    base = Params.preset("baseline")
    whole = run_study(base, design, seed=5)
    names = list(whole)
    for name in reversed(names):
        assert run_study(base, design, seed=5, only=(name,)) == {name: whole[name]}
    assert run_study(base, design, seed=5) == whole


def test_running_days_straight_through_is_stepping_day_by_day():
    """``run_days`` skips Mesa's event machinery; the days, Mesa's clock and a later ``step()``
    are as if every day had been a ``step()``. With an event of one's own on Mesa's list, days
    are stepped one by one and the event happens."""
    p = Params.preset("baseline", **SMALL)
    fast, slow = NeighbourhoodWatch(p, seed=2, with_space=False), NeighbourhoodWatch(p, seed=2, with_space=False)
    fast.run_days(40)
    fast.step()
    fast.run_days(9)
    for _ in range(50):
        slow.step()
    assert (fast.steps, fast.time) == (slow.steps, slow.time) == (50, 50.0)
    assert fast._default_schedule.next_scheduled_time == slow._default_schedule.next_scheduled_time == 51.0
    pd.testing.assert_frame_equal(fast.day_table(), slow.day_table(), check_exact=True)

    seen = []

    def observe():
        seen.append(fast.steps)

    fast.schedule_event(observe, at=fast.time + 3.5)
    fast.run_days(5)
    assert seen == [53] and fast.steps == 55


def _daily_by_numpy(res: Residents, src: np.ndarray, dst: np.ndarray, watched: np.ndarray):
    """The daily update as numpy array expressions (the formulation the kernel replaced)."""
    p, n = res.p, len(res)
    alertness, fear = res.alertness.copy(), res.fear.copy()
    degree = np.bincount(src, minlength=n)
    if len(src) and p.talk_rate * p.alertness_talk_gain > 0:
        order = np.lexsort((dst, src))
        tie_alertness = np.zeros(n)
        for s, d in zip(src[order], dst[order]):   # CSR order, as a sparse matrix-vector product
            tie_alertness[s] += (1.0 / degree[s]) * alertness[d]
        alertness += p.talk_rate * p.alertness_talk_gain * np.maximum(tie_alertness - alertness, 0)
    change = -p.watch_reassurance * watched * fear
    if len(src):
        n_afraid = np.bincount(src[(fear > p.unsafe_threshold)[dst]], minlength=n)
        change += p.talk_rate * (p.talk_fear_gain * n_afraid * (1 - fear) - p.talk_relief * (degree - n_afraid) * fear)
    fear = np.clip(fear + change, 0.0, 1.0)
    fear = res.fear_baseline + (fear - res.fear_baseline) * np.exp(-1 / p.fear_memory_days)
    alertness = p.alertness_baseline + (alertness - p.alertness_baseline) * np.exp(-1 / p.alertness_memory_days)
    return alertness, fear


@pytest.mark.parametrize("n, ties", [(200, 800), (40, 0), (3000, 20000)])
def test_the_compiled_daily_update_is_the_numpy_formula_bit_for_bit(n, ties):
    rng = np.random.default_rng(n)
    p = Params(talk_rate=0.3, alertness_talk_gain=0.5, watch_reassurance=0.05)
    res = Residents(p, rng.random(n) < 0.4, rng)
    res.alertness, res.fear = rng.random(n), rng.random(n)
    a, b = rng.integers(0, n, ties), rng.integers(0, n, ties)
    pairs = np.unique(np.sort(np.column_stack([a[a != b], b[a != b]]), axis=1), axis=0)
    src, dst = np.concatenate([pairs[:, 0], pairs[:, 1]]), np.concatenate([pairs[:, 1], pairs[:, 0]])
    watched = rng.random(n)
    for _ in range(5):
        expected = _daily_by_numpy(res, src, dst, watched)
        res.daily(src, dst, watched)
        assert res.alertness.tolist() == expected[0].tolist() and res.fear.tolist() == expected[1].tolist()


@pytest.mark.parametrize("n", [1, 7, 8, 128, 129, 270, 1000, 10_001])
def test_the_state_row_is_numpys_masked_means_bit_for_bit(n):
    rng = np.random.default_rng(n)
    member = rng.random(n) < 0.3
    ever = member | (rng.random(n) < 0.2)
    alertness, fear, trust = rng.random(n), rng.random(n), rng.random(n)
    row = snapshot(member, ever, alertness, fear, trust, 0.5, 0.8)
    with warnings.catch_warnings():   # numpy warns about the mean of an empty group (n = 1)
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = dict(alertness_members=alertness[member].mean(), alertness_nonmembers=alertness[~ever].mean(),
                        fear_members=fear[member].mean(), fear_nonmembers=fear[~ever].mean(),
                        fear_residents=fear.sum() / n, trust_members=trust[member].mean())
    for name, value in expected.items():
        assert row[name] == value or (np.isnan(row[name]) and np.isnan(value)), name
    assert (row["members"], row["nonmembers"], row["households"]) == (member.sum(), n - member.sum(), n)


@pytest.mark.parametrize("offence, minority", [(True, False), (False, False), (False, True)])
def test_noticing_and_suspecting_are_the_numpy_formulas_bit_for_bit(offence, minority):
    """``Residents.notice``/``appraise`` (compiled) select exactly whom the numpy formulas select,
    including chances above 1 (capped) and draws on the boundary."""
    n = 5000
    rng = np.random.default_rng(7)
    p = Params(alertness_observe_gain=3.0, fear_suspicion_gain=4.0, bias_suspicion_gain=5.0,
               ambiguous_suspicion_prob=0.3)
    res = Residents(p, rng.random(n) < 0.4, rng)
    res.alertness, res.fear, res.bias = rng.random(n), rng.random(n), rng.random(n)
    candidates = np.sort(rng.choice(n, 3000, replace=False))
    for minute in (12 * 60.0, 3 * 60.0):
        u = rng.random(len(candidates))
        at_home = p.home_day_share if 7 <= minute / 60 < 23 else p.home_night_share
        chance = at_home * p.observe_prob * (1 + p.alertness_observe_gain * res.alertness[candidates])
        u[:50] = np.minimum(chance, 1.0)[:50]          # a draw equal to the chance: not noticed
        expected = candidates[u < np.minimum(chance, 1.0)]
        assert res.notice(candidates, minute, u).tolist() == expected.tolist()
    if offence:
        chance = np.full(len(candidates), p.recognise_offence_prob)
    else:
        chance = p.ambiguous_suspicion_prob * (1 + p.fear_suspicion_gain * res.fear[candidates])
        if minority:
            chance = chance * (1 + p.bias_suspicion_gain * res.bias[candidates])
    u = rng.random(len(candidates))
    assert (chance > 1).any() or offence
    expected = candidates[u < np.minimum(chance, 1.0)]
    assert res.appraise(candidates, offence, minority, u).tolist() == expected.tolist()


def _respond_numpy(res: Residents, suspicious: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``Residents.respond`` as numpy expressions (the form the mutation run tested, session 14)."""
    p, k = res.p, len(suspicious)
    is_member = res.member[suspicious]
    trust_factor = res.trust[suspicious] / p.trust_mean
    call_base = np.where(is_member, p.call_112_prob, p.nonmember_call_112_prob)
    calls = u[0] < np.minimum(call_base * trust_factor, 1.0)
    tells_group = is_member & (u[1] < p.saar_app_prob)
    distrust = (2 - trust_factor).clip(0.5, 1.5)
    investigates = is_member & (u[2] < np.minimum(p.investigate_prob * (1 + res.alertness[suspicious]) * distrust, 1.0))
    posts = is_member & (u[3] < p.post_prob * (1 - p.report_form_friction if p.report_form else 1.0))
    response = np.full(k, Response.NOTHING)
    response[posts] = Response.APP_ONLY
    response[investigates] = Response.INVESTIGATE
    response[calls] = Response.CALL_ONLY
    response[calls & tells_group] = Response.SAAR
    return response


@pytest.mark.parametrize("report_form", [False, True])
def test_responding_is_the_numpy_formula_bit_for_bit(report_form):
    """The compiled response rule chooses what the numpy formula chooses, for members and others,
    chances above 1 (capped), distrust at both bounds and draws on the boundary."""
    n, rng = 6000, np.random.default_rng(13)
    p = Params(call_112_prob=0.4, nonmember_call_112_prob=0.2, saar_app_prob=0.5, investigate_prob=0.6,
               post_prob=0.7, report_form=report_form, trust_mean=0.3)
    res = Residents(p, rng.random(n) < 0.5, rng)
    res.trust, res.alertness = rng.random(n), rng.random(n)
    res.trust[:100] = 0.0                             # distrust capped at 1.5
    res.trust[100:200] = 1.0                          # trust factor above 1.5: distrust at 0.5, call chance > 1
    suspicious = np.sort(rng.choice(n, 5000, replace=False))
    u = rng.random((4, len(suspicious)))
    u[0, :30] = np.minimum(np.where(res.member[suspicious[:30]], p.call_112_prob, p.nonmember_call_112_prob)
                           * res.trust[suspicious[:30]] / p.trust_mean, 1.0)   # on the boundary: no call
    u[3, 30:60] = p.post_prob * (1 - p.report_form_friction if report_form else 1.0)
    expected = _respond_numpy(res, suspicious, u)
    assert set(expected.tolist()) == set(range(5))
    assert res.respond(suspicious, u).tolist() == expected.tolist()


@pytest.mark.parametrize("offence, minority", [(True, False), (False, False), (False, True)])
def test_witnessing_in_one_pass_is_notice_appraise_alarm_and_respond_in_turn(offence, minority):
    """``Residents.witness`` (one compiled pass) gives the observers, suspicious, responses,
    reaction draws and alertness of the four array steps run one after another."""
    n = 4000
    rng = np.random.default_rng(11)
    p = Params(alertness_observe_gain=3.0, fear_suspicion_gain=4.0, bias_suspicion_gain=5.0,
               ambiguous_suspicion_prob=0.3, recognise_offence_prob=0.6, investigate_prob=0.4, post_prob=0.5)
    one, steps = (Residents(p, np.random.default_rng(3).random(n) < 0.4, np.random.default_rng(3))
                  for _ in range(2))
    for res in (one, steps):
        state = np.random.default_rng(5)
        res.alertness, res.fear, res.bias, res.trust = (state.random(n) for _ in range(4))
    in_sight = np.sort(rng.choice(n, 2500, replace=False))
    for minute in (12 * 60.0, 3 * 60.0):
        u = rng.random((7, len(in_sight)))
        u[0, :40] = 0.0                     # certain observers, so that the later rows are reached
        observers = steps.notice(in_sight, minute, u[0])
        seen = np.searchsorted(in_sight, observers)
        suspicious = steps.appraise(observers, offence, minority, u[1, seen])
        at = np.searchsorted(in_sight, suspicious)
        steps.alarm_witnesses(suspicious)
        responses = steps.respond(suspicious, u[2:6, at])
        n_observers, got_suspicious, got_responses, react = one.witness(in_sight, minute, offence, minority, u)
        assert len(suspicious) > 10 and len(set(responses.tolist())) > 2
        assert n_observers == len(observers)
        assert got_suspicious.tolist() == suspicious.tolist()
        assert got_responses.tolist() == responses.tolist()
        assert react.tolist() == u[6, at].tolist()
        assert one.alertness.tolist() == steps.alertness.tolist()


def test_the_day_table_keeps_its_columns_and_types():
    model = NeighbourhoodWatch(Params.preset("baseline", dispatch_prob=1.0, n_households=1000), seed=1,
                               with_space=False)
    model.run_days(120)
    days = model.day_table()
    assert list(days.columns) == ["day", *COUNTS, *STATE]
    assert days["day"].tolist() == list(range(120))
    assert days["response_minutes_total"].dtype == np.float64 and days["response_minutes_total"].sum() > 0
    assert all(days[c].dtype == np.int64 for c in COUNTS if c != "response_minutes_total")
    assert all(days[c].dtype == np.int64 for c in ("members", "nonmembers", "households"))
    columns = model.day_columns()
    assert all(np.array_equal(columns[c], days[c].to_numpy(), equal_nan=True) for c in days.columns)
    out = np.empty(len(STATE))
    r = model.residents
    state_row(out, r.member, r.ever_member, r.alertness, r.fear, r.trust, model.params.unsafe_threshold,
              model.params.often_unsafe_threshold)
    assert np.array_equal(out, days[list(STATE)].iloc[-1].to_numpy(float), equal_nan=True)


def test_a_groups_mean_is_pandas_mean():
    rng = np.random.default_rng(0)
    for size in (1, 5, 300, 3000):
        x = rng.random(size)
        x[rng.random(size) < 0.3] = np.nan
        for values in (x, np.full(size, np.nan), rng.random(size), rng.integers(0, 9, size)):
            expected = pd.Series(values).mean()
            assert _mean(values) == expected or (np.isnan(_mean(values)) and np.isnan(expected))


def test_who_is_in_sight_is_the_pairwise_definition():
    from sim.neighbourhood import _sight
    rng = np.random.default_rng(1)
    for n, per_street, sight_range in ((1, 20, 3), (270, 20, 3), (1000, 16, 0), (500, 11, 2)):
        order = rng.permutation(n)   # any numbering of the households
        street, house = (np.arange(n) // per_street)[order], (np.arange(n) % per_street)[order]
        ptr, idx = _sight(street, house, sight_range)
        for i in range(n):
            seen = [j for j in np.lexsort((house, street))
                    if street[j] == street[i] and abs(house[j] // 2 - house[i] // 2) <= sight_range]
            assert idx[ptr[i]:ptr[i + 1]].tolist() == seen


def test_ties_merged_in_as_they_form_are_the_ties_sorted_afresh():
    """``Residents._ties`` merges new ties into its CSR form; it equals sorting all ties again."""
    n, rng = 500, np.random.default_rng(2)
    res = Residents(Params(), rng.random(n) < 0.3, rng)
    pairs = np.unique(np.sort(rng.integers(0, n, size=(1500, 2)), axis=1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    src, dst = np.concatenate([pairs[:, 0], pairs[:, 1]]), np.concatenate([pairs[:, 1], pairs[:, 0]])
    existing = set(zip(src.tolist(), dst.tolist()))
    for step in range(4):
        if step:   # new ties, as the model appends them: (a, b) and (b, a) at the end
            new = [(a, b) for a, b in rng.integers(0, n, size=(30, 2)).tolist() if a != b and (a, b) not in existing]
            new = list(dict.fromkeys(tuple(sorted(t)) for t in new))
            existing.update(new + [(b, a) for a, b in new])
            a, b = np.array(new).T
            src, dst = np.concatenate([src, a, b]), np.concatenate([dst, b, a])
        ptr, idx = res._ties(src, dst)
        order = np.lexsort((dst, src))
        assert ptr.tolist() == [0, *np.cumsum(np.bincount(src, minlength=n)).tolist()]
        assert idx.tolist() == dst[order].tolist()


def test_delivery_and_invitations_are_the_numpy_formulas():
    """The compiled passes of reading a message and of who can be invited select what the numpy
    expressions they replaced select."""
    model = NeighbourhoodWatch(Params.preset("baseline", n_households=2000), seed=3, with_space=False)
    model.run_days(30)
    group, p = model.groups[0], model.params
    members = group.members
    for author, removed_at in ((int(members[3]), np.inf), (-1, 100.0), (int(members[-1]), 40.0)):
        msg = Message(0, 10.0, author, "resident", "offtopic", removed_at=removed_at)
        readers, times = group._deliver(msg, np.random.default_rng(9))
        rng = np.random.default_rng(9)
        others = members[members != author]
        delay = rng.exponential(p.read_delay_minutes, size=len(others))
        read = (rng.random(len(others)) < group.read_chance(p.read_prob)) & (10.0 + delay < removed_at)
        assert readers.tolist() == others[read].tolist() and times.tolist() == (10.0 + delay[read]).tolist()
    src, dst, res = model.hood.social_src, model.hood.social_dst, model.residents
    expected = src[(res.group[dst] == model.hood.home_group[src]) & ~res.ever_member[src]]
    assert model.membership._invitable().tolist() == expected.tolist() and len(expected)


def _territories_all_rounds(positions, street, n_streets, k, rng, rounds=10):
    """The k-means of ``sim.neighbourhood._territories`` as first written: every round, no early stop."""
    seeds = [int(rng.integers(n_streets))]
    if k == 1:
        return np.zeros(n_streets, dtype=np.int64)
    centres = np.array([positions[street == s].mean(axis=0) for s in range(n_streets)])
    while len(seeds) < k:
        seeds.append(int(np.argmax(np.min(np.hypot(*(centres[:, None, :] - centres[seeds][None]).transpose(2, 0, 1)), axis=1))))
    means = centres[seeds]
    for _ in range(rounds):
        label = np.argmin(np.hypot(*(centres[:, None, :] - means[None]).transpose(2, 0, 1)), axis=1)
        means = np.array([centres[label == g].mean(axis=0) if (label == g).any() else means[g] for g in range(k)])
    label = np.argmin(np.hypot(*(centres[:, None, :] - means[None]).transpose(2, 0, 1)), axis=1)
    return np.unique(label, return_inverse=True)[1]


@pytest.mark.parametrize("n, per_street, k", [(300, 20, 3), (2000, 20, 8), (10_000, 20, 37), (997, 13, 11)])
def test_territories_stopping_at_a_fixed_point_are_the_ten_rounds(n, per_street, k):
    """The street centres by bincount, the farthest-point seeds kept incrementally and the stop at
    a fixed point give the territories of the plain k-means, for the plans ``build`` makes."""
    from sim.neighbourhood import _territories
    idx = np.arange(n)
    street, house = idx // per_street, idx % per_street
    n_streets = street[-1] + 1
    length = per_street / 2 + 2
    per_row = max(1, round(np.sqrt(3.0 * n_streets / length)))
    positions = np.column_stack([street % per_row * length + house // 2, street // per_row * 3.0 + house % 2])
    for seed in range(3):
        got = _territories(positions, street, n_streets, k, np.random.default_rng(seed))
        assert got.tolist() == _territories_all_rounds(positions, street, n_streets, k,
                                                       np.random.default_rng(seed)).tolist()
