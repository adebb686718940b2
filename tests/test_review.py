"""The criminological review of the model (issue 15): one test per item that can be tested."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim.chat import ChatGroup
from sim.model import NeighbourhoodWatch
from sim.outcomes import Tally
from sim.params import FIELDS, Params
from sim.police import Police, Report
from sim.residents import Residents
from sim.world import MINUTES_PER_DAY, Situation

# a busy world; membership held fixed (joining and leaving are tested in test_evidence.py)
BUSY = dict(observe_prob=0.5, ambiguous_suspicion_prob=0.3, traffic_leave_prob=0.0,
            conflict_leave_prob=0.0, incident_join_prob=0.0, invite_prob=0.0)


def run_model(params: Params, seed: int = 0, days: int = 200) -> NeighbourhoodWatch:
    model = NeighbourhoodWatch(params, seed=seed, with_space=False)
    model.run_days(days)
    return model


def situation(kind="burglary", offence=True, start_minute=600.0, stay=30.0, sid=0) -> Situation:
    return Situation(sid, 0, start_minute, kind, offence, node=0, minority=False, stay=stay, deter_draw=1.0,
                     displace_draw=1.0, alt_node=0)


def police(**params) -> Police:
    model = NeighbourhoodWatch(Params(n_households=50, **params), seed=0, with_space=False)
    return model.police


# -- 1. reports from the group, beside all reports ------------------------------------------------
def test_reports_from_the_group_never_exceed_all_reports_and_equal_them_when_only_the_group_calls():
    for params in (Params(**BUSY), Params(**BUSY, officer_in_group=True)):
        s = run_model(params).summary()
        assert 0 < s["reports_from_group"] < s["police_reports"]
        assert s["reports_from_group_per_month"] == pytest.approx(s["reports_from_group"] / (200 / 30.4375))
    # non-members do not call and every member who calls tells the group (SAAR): all reports are the group's
    only_group = Params(**BUSY, nonmember_call_112_prob=0.0, saar_app_prob=1.0)
    s = run_model(only_group).summary()
    assert s["reports_from_group"] == s["police_reports"] > 0


# -- 2. counts per 1,000 households beside the shares ---------------------------------------------
def test_follow_up_shares_come_with_counts_per_1000_households_per_year():
    model = run_model(Params(**BUSY, n_households=500))
    s, days = model.summary(), model.day_table()
    per_1000_year = 1000 / 500 * 365.25 / 200
    assert s["follow_ups_per_1000"] == pytest.approx(days.follow_ups.sum() * per_1000_year)
    assert s["signals_without_follow_up_per_1000"] == pytest.approx(
        (days.situations_signalled.sum() - days.follow_ups.sum()) * per_1000_year)
    assert s["follow_ups_per_1000"] > 0 and s["signals_without_follow_up_per_1000"] > 0


# -- 3 and 12. non-members' alertness moves; crowds are possible; trust goes both ways ----------
def test_nonmembers_become_more_alert_by_what_they_see_and_by_talk():
    p = Params(n_households=40)
    rng = np.random.default_rng(0)
    member = np.zeros(40, dtype=bool)
    member[:20] = True
    res = Residents(p, member, rng)
    # a non-member who finds a situation suspicious becomes more alert
    before = res.alertness[30]
    res.alarm_witnesses(np.array([30]))
    assert res.alertness[30] > before
    # talk: a non-member whose only tie is an alert member becomes more alert
    res.alertness[:] = p.alertness_baseline
    res.alertness[0] = 0.9
    res.daily(np.array([25, 0]), np.array([0, 25]), watched=np.zeros(40))
    assert res.alertness[25] > res.alertness[26] == pytest.approx(p.alertness_baseline)


def test_nonmember_alertness_varies_in_a_run():
    days = run_model(Params(**BUSY)).day_table()
    assert days.alertness_nonmembers.max() > Params().alertness_baseline + 0.01


def test_crowds_come_from_the_whole_street_not_only_from_those_in_sight():
    # readers go out from anywhere on the scene's street: more residents go out than can see the scene
    p = Params(**BUSY, sight_range=1, go_out_prob=1.0, investigate_prob=0.0, crowd_size=7)
    model = run_model(p, days=60)
    crowded = [s for s in model.situations if s.crowd]
    assert crowded
    assert all(len(model.hood.in_sight(s.node)) < p.crowd_size for s in crowded)


def test_crowds_are_possible_at_plausible_settings():
    # go_out_prob at the top of the calibration prior (0.05): a year of a busy neighbourhood has crowds
    crowds = sum(run_model(Params(**BUSY, go_out_prob=0.05), seed=seed, days=365).summary()["crowds"]
                 for seed in range(3))
    assert crowds > 0


def test_unanswered_reports_lower_the_callers_trust():
    p = Params(**BUSY, dispatch_prob=0.0, officer_action_prob=0.0, call_112_prob=0.5, feedback_prob=0.0)
    model = run_model(p)
    assert model.day_table().trust_members.iloc[-1] < model.day_table().trust_members.iloc[0]


def test_the_admin_corrects_false_alarms():
    days = run_model(Params(**BUSY, closing_prob=1.0, dispatch_prob=1.0)).day_table()
    assert days.false_alarms_corrected.sum() > 0
    assert days.false_alarms_corrected.sum() <= days.innocent_signalled.sum()


# -- 4. non-members are households that were never members ----------------------------------------
def test_nonmember_means_exclude_removed_members():
    p = Params(offtopic_rate=2.0, warnings_before_removal=0)
    model = run_model(p, days=60)
    never = ~model.residents.ever_member
    assert (~model.residents.member & model.hood.member).any(), "the test needs removed members"
    last = model.day_table().iloc[-1]
    assert last.alertness_nonmembers == pytest.approx(model.residents.alertness[never].mean())
    assert last.fear_nonmembers == pytest.approx(model.residents.fear[never].mean())


# -- 6. moderation messages are delivered like any group message ----------------------------------
def test_admin_warnings_and_removals_counted_as_messages_are_delivered():
    model = run_model(Params(offtopic_rate=2.0), days=60)
    moderation = [m for m in model.messages if m.kind in ("admin_warning", "admin_removal")]
    assert len(moderation) > 10
    assert sum(m.reads for m in moderation) > 0
    assert model.day_table().messages.sum() == len(model.messages)


# -- 7. SAAR with its point ------------------------------------------------------------------------
def test_a_duplicate_112_call_draws_no_second_dispatch():
    pol = police(dispatch_prob=0.5, response_capacity=1000)
    sent = 0
    for sid in range(2000):
        s = situation(sid=sid, stay=60.0)
        report, first = pol.receive(s, "112", s.start + 1)
        _, second = pol.receive(s, "112", s.start + 2)
        assert second is None
        sent += first is not None
    assert sent / 2000 == pytest.approx(0.5, abs=0.05)  # not 1 - 0.5² = 0.75


def test_a_call_after_the_person_left_gets_no_urgent_dispatch():
    pol = police(dispatch_prob=1.0)
    s = situation(kind="vandalism", stay=10.0)
    report, arrival = pol.receive(s, "112", s.gone_at + 30)
    assert arrival is None and "look" not in report.follow_ups
    assert report.follow_ups == {"municipality"}   # the non-urgent line passes nuisance on
    assert pol.tally["calls_non_urgent"] == 1


def test_readers_of_112_called_do_not_call_again():
    # every suspicious member calls and tells the group; readers read fast, callers act slowly
    p = Params(**BUSY, call_112_prob=1.0, saar_app_prob=1.0, nonmember_call_112_prob=0.0,
               reaction_minutes=60.0, read_delay_minutes=2.0, read_prob=1.0)
    # pooled over three seeds: ~22% of calls are saved on average, 6-30% on one seed
    days = pd.concat([run_model(p, seed=seed, days=120).day_table() for seed in range(3)])
    callers = days.responses_saar.sum() + days.responses_call_only.sum()
    assert days.calls_112.sum() + days.calls_saved.sum() == callers
    assert days.calls_112.sum() < 0.85 * callers


# -- 8. the wijkagent: duty hours, delay, no knowledge of whether the person is still there -------
def test_the_wijkagent_acts_only_on_duty_and_after_a_delay():
    pol = police(officer_action_prob=1.0)
    officer, p = pol.officer, pol.officer.p
    night = 3 * 60.0
    at = officer.acts_at(night)
    start = p.officer_duty_start_hour * 60
    assert start <= at % MINUTES_PER_DAY < start + p.officer_duty_hours * 60
    assert at > night
    day = (p.officer_duty_start_hour + 1) * 60.0
    assert officer.acts_at(day) >= day


def test_the_wijkagent_does_not_know_whether_the_person_is_still_there():
    pol = police(officer_action_prob=1.0, response_capacity=10)
    s = situation(kind="visitor", offence=False, stay=5.0)
    report, arrival = pol.receive(s, "admin", s.start + 10)  # fresh report, person already gone
    assert arrival is not None and "look" in report.follow_ups
    old = situation(kind="visitor", offence=False, stay=5.0, sid=1)
    report, arrival = pol.receive(old, "admin", old.start + 24 * 60)  # a day old: no unit
    assert arrival is None and report.follow_ups == {"officer"}


# -- 10 and 15. bias drives stigmatisation; the form's cut is exact --------------------------------
def stigmatising_share(p: Params, authors: int = 4000, draws: int = 5) -> float:
    res = Residents(p, np.ones(authors, dtype=bool), np.random.default_rng(1))
    return float(np.mean([res.stigmatising(a) for a in range(authors) for _ in range(draws)]))


def test_raising_mean_bias_raises_stigmatising_messages():
    low, mid, high = (stigmatising_share(Params(bias_mean=b, n_households=4000)) for b in (0.1, 0.3, 0.5))
    assert low + 0.1 < mid < high - 0.1   # proportional to bias: about 0.1, 0.3, 0.5


@pytest.mark.parametrize("prob", [0.1, 0.58, 1.0])
def test_the_report_form_cuts_exactly_its_share_at_any_stigmatising_prob(prob):
    p = Params(stigmatising_prob=prob, n_households=4000)
    res = Residents(p, np.ones(4000, dtype=bool), np.random.default_rng(1))
    free = res.stigmatising_chance(np.arange(4000))
    with_form = Residents(p.replace(report_form=True), np.ones(4000, dtype=bool),
                          np.random.default_rng(1)).stigmatising_chance(np.arange(4000))
    assert np.all(free <= 1)
    assert with_form == pytest.approx(free * (1 - p.report_form_profiling_cut))
    # drawn, not only computed: the realised share with the form
    shares = stigmatising_share(p.replace(report_form=True)) / stigmatising_share(p)
    assert shares == pytest.approx(1 - p.report_form_profiling_cut, abs=0.03)


def test_a_stigmatising_message_reinforces_readers_bias():
    p = Params(n_households=60, stigma_bias_gain=0.1)
    res = Residents(p, np.ones(60, dtype=bool), np.random.default_rng(0))
    before = res.bias.copy()
    res.alarm(np.arange(10), stigmatising=True)
    assert np.all(res.bias[:10] > before[:10]) and np.all(res.bias[10:] == before[10:])
    res.alarm(np.arange(10, 20), stigmatising=False)
    assert np.all(res.bias[10:20] == before[10:20])


def test_the_admin_does_not_pass_on_a_post_removed_for_profiling():
    p = Params(**BUSY, minority_share=1.0, stigmatising_prob=1.0, bias_mean=0.9, admin_availability=1.0,
               admin_forward_prob=1.0, report_form=False)
    model = run_model(p, days=60)
    days = model.day_table()
    # every resident's post is stigmatising and removed: the admin passes nothing on (an admin's
    # own post is not moderated: with several groups, several admins post now and then)
    assert days.stigmatising_messages.sum() > 0
    kept = {m.situation for m in model.messages if m.kind in ("signal", "saar") and not m.removed}
    assert all(m.role == "admin" for m in model.messages if m.kind in ("signal", "saar") and not m.removed)
    assert {r.situation.id for r in model.police.reports.values() if r.channel == "admin"} <= kept


# -- 11. ties from doing things together; warnings lapse ------------------------------------------
def test_thumbs_up_replies_form_no_ties():
    ties = {r: sum(run_model(Params(**BUSY, reply_prob=r, chatter_rule="tolerated"), seed=seed)
                   .summary()["ties_formed"] for seed in range(2)) for r in (0.0, 0.3)}
    assert ties[0.3] <= 1.3 * ties[0.0] + 3


def test_warnings_lapse():
    p = Params(n_households=20, coverage=1.0, admin_availability=1.0, warning_lapse_days=30,
               conflict_leave_prob=0.0)
    model = NeighbourhoodWatch(p, seed=0, with_space=False)
    res, chat = model.residents, model.chat
    assert 5 not in chat.admins
    chat.post(0.0, 5, "offtopic")
    assert res.warnings[5] == 1 and res.member[5]
    chat.post(40 * MINUTES_PER_DAY, 5, "offtopic")      # the warning has lapsed: warned again
    assert res.member[5]
    chat.post(41 * MINUTES_PER_DAY, 5, "offtopic")      # within the lapse: removed
    assert not res.member[5]


# -- 17. provenance ---------------------------------------------------------------------------------
PREFIXES = ("facts.md:", "inferred:", "calibrated:", "assumption:")


def test_every_source_says_what_is_fact_inference_or_assumption():
    for f in dataclasses.fields(Params):
        assert f.metadata["source"].startswith(PREFIXES), f"{f.name}: {f.metadata['source'][:60]}"


def test_calibrated_sources_are_the_parameters_the_calibration_fits():
    with open(Path(__file__).parents[1] / "conf/targets/priors.yaml") as fh:
        priors = yaml.safe_load(fh)
    fitted, carried = set(priors["params"]), set(priors["carried"])
    calibrated = {f.name for f in dataclasses.fields(Params) if f.metadata["source"].startswith("calibrated:")}
    assert calibrated <= fitted | carried
    says_carried = {n for n in calibrated if "calibrated: carried" in FIELDS[n].metadata["source"]}
    assert says_carried == calibrated & carried   # a carried parameter's source says so, a fitted one's does not
    assert all(name in FIELDS for name in fitted | carried)


# -- 5. rare outcomes: the comparison says "too few events" instead of showing noise --------------
def test_the_comparison_says_too_few_events_for_rare_counts():
    import pandas as pd

    from experiments.compare import TOO_FEW, group_table, paired_differences, scenario_means
    rows = [{"case": "generic", "calibration": "none", "days": 365, "scenario": scenario, "seed": seed,
             **dict.fromkeys(sim.OUTCOME_NAMES, 1.0), "arrests": float(seed == 0), "police_reports": 20.0 + seed}
            for scenario in ("baseline", "officer_in_group") for seed in range(3)]
    runs = pd.DataFrame(rows)
    table = group_table(scenario_means(runs), paired_differences(runs), ["arrests", "police_reports"], "baseline")
    body = table.splitlines()[2:]
    assert len(body) == 2
    for line in body:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1] == TOO_FEW and cells[2] != TOO_FEW
