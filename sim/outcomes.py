"""Outcomes: the single definition used by the model, the app, the experiments and the tests.

The model keeps a running ``Tally`` of event counts. Each day it records one row: the day's
event counts (``COUNTS``) and snapshots of resident state (``STATE``). A run's summary
(``SUMMARY``) is computed from that per-day table only, so the same definitions apply to a
whole run, a window of days (calibration) or a live app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from sim.kernels import state_row

DAYS_PER_YEAR = 365.25
# A comparison of a count outcome over fewer events than this (all seeds of a scenario, or of a
# pair of scenarios) says "too few events" instead of showing noise (docs/experiments.md).
MIN_EVENTS = 10
DAYS_PER_MONTH = DAYS_PER_YEAR / 12

# Event counts incremented by the model; one column per count in the per-day table.
COUNTS: dict[str, str] = {
    "situations": "situations that occurred (offences + innocent ambiguous situations)",
    "offences": "true offences that took place (after deterrence)",
    "offences_deterred": "offences abandoned because the street looked watched (incl. displaced)",
    "offences_displaced": "deterred offences committed at another house instead (displacement)",
    "offences_diffused": "offences abandoned because an earlier one was deterred (diffusion of benefits)",
    "burglaries": "burglaries and attempted burglaries that took place (after deterrence)",
    "innocent_situations": "innocent but ambiguous situations",
    "innocent_minority": "innocent situations whose person was of the visible minority",
    "observations": "resident-situation pairs where a resident noticed the situation",
    "suspicions": "noticed situations appraised as suspicious (one per resident)",
    "responses_saar": "suspicious residents who called 112 and then told the group (SAAR)",
    "responses_call_only": "suspicious residents who called 112 without posting",
    "responses_call_only_members": "suspicious members who called 112 without posting (the rest are non-members)",
    "responses_app_only": "suspicious members who posted without calling 112 (signalling only)",
    "responses_investigate": "suspicious residents who went to look themselves",
    "responses_nothing": "suspicious residents who did nothing",
    "situations_signalled": "situations with at least one signal (112 call or group post)",
    "offences_signalled": "true offences with at least one signal",
    "innocent_signalled": "innocent situations with at least one signal",
    "innocent_minority_signalled": "innocent situations with a minority person that were signalled",
    "calls_112": "calls to 112 (all residents, incl. after an admin's SAAR reminder)",
    "calls_112_members": "112 calls by residents who were members at the time of the call",
    "calls_112_nonmembers": "112 calls by residents who were not members at the time of the call",
    "police_reports": "situations that reached the police (112, admin or officer)",
    "reports_via_112": "police reports whose first channel was 112",
    "reports_via_admin": "police reports first passed on by the admin",
    "reports_via_officer": "police reports first read by the officer in the group",
    "reports_from_group": "police reports the group brought: a member called 112 and said so in the group "
                          "(SAAR, or after the admin's question), the admin passed it on, or the officer read it",
    "reports_posted_about": "police reports on situations posted about in the group (each a chance for "
                            "feedback to the group; counted when the episode closes)",
    "calls_non_urgent": "112 calls after the person had left: taken as a non-urgent report (0900-8844), no unit",
    "calls_saved": "112 calls not made because the resident had read '112 called' about the situation",
    "follow_ups": "police reports that got any follow-up",
    "follow_up_look": "follow-ups: a unit went to look",
    "follow_up_municipality": "follow-ups: passed to the municipality",
    "follow_up_officer": "follow-ups: action or information from the officer",
    "follow_ups_met_offender": "follow-ups where police arrived while the offender was there",
    "arrests": "arrests",
    "response_minutes_total": "summed response times of units sent to look (minutes)",
    "false_alarms": "units sent to look at an innocent situation",
    "messages": "messages posted in the group (all kinds, all authors)",
    "messages_signal": "signals posted (incl. SAAR '112 called' and sightings)",
    "messages_offtopic": "off-topic posts and chatter replies",
    "messages_admin": "admin messages (questions, warnings, removals, closing)",
    "messages_police": "police feedback messages",
    "messages_removed": "messages removed by the admin",
    "stigmatising_messages": "signals naming appearance rather than behaviour",
    "stigmatising_visible": "stigmatising messages never removed (stayed visible)",
    "members_removed": "members removed from the group after warnings",
    "members_joined": "residents who joined the group (after an incident nearby, or through a member they know)",
    "members_left": "members who left the group (its traffic, or annoyance at a warning)",
    "self_investigations": "residents who went to look themselves (incl. after a group call)",
    "crowds": "scenes where a crowd of residents gathered",
    "wrongful_confrontations": "innocent persons confronted by residents",
    "ties_formed": "new social ties between members from shared episodes",
    "feedback_messages": "police feedback that reached the group",
    "false_alarms_corrected": "afmeldingen that correct a false alarm (the person was found innocent)",
    "relays": "signals an adjacent group's admin posted in their group, passed on through the central admins' group",
}

# Daily snapshots of resident state.
STATE: dict[str, str] = {
    "alertness_members": "mean alertness of group members",
    "alertness_nonmembers": "mean alertness of non-members (households never in the group)",
    "fear_members": "mean fear of group members",
    "fear_nonmembers": "mean fear of non-members (households never in the group)",
    "fear_residents": "mean fear of all residents",
    "feels_unsafe_share": "share of residents whose fear exceeds the unsafe threshold ('sometimes unsafe')",
    "feels_often_unsafe_share": "share of residents whose fear exceeds the 'often unsafe' threshold",
    "trust_members": "mean trust in police of group members",
    "members": "current group members",
    "nonmembers": "households not in the group now (former members included): the denominator of "
                  "112 calls by non-members",
    "households": "households in the neighbourhood (for counts per 1,000 households)",
}


_HOUSEHOLD_COUNTS = ("members", "nonmembers", "households")   # whole numbers among the STATE columns


def snapshot(member: np.ndarray, ever_member: np.ndarray, alertness: np.ndarray, fear: np.ndarray,
             trust: np.ndarray, unsafe_threshold: float, often_unsafe_threshold: float) -> dict[str, float]:
    """The STATE row for one day from resident arrays (computed by ``sim.kernels.state_row``).

    Non-members are households that were never in the group: removed (former) members count
    neither as members nor as non-members, so their drift back to baseline is no artefact of either.
    """
    row = np.empty(len(STATE))
    state_row(row, member, ever_member, alertness, fear, trust, unsafe_threshold, often_unsafe_threshold)
    return {name: int(v) if name in _HOUSEHOLD_COUNTS else float(v) for name, v in zip(STATE, row)}


class Tally(dict):
    """Event counts for the current day; the model increments, the recorder takes them each day."""

    def __init__(self):
        super().__init__({name: 0 for name in COUNTS})
        self.changed: set[str] = set()   # counts incremented since the last ``take``

    def add(self, name: str, n: float = 1) -> None:
        self[name] += n
        self.changed.add(name)

    def take(self) -> list[tuple[str, float]]:
        """The counts incremented today, with their values; all counts are zero again."""
        if not self.changed:
            return []
        taken = [(name, self[name]) for name in self.changed]
        self.update(dict.fromkeys(self.changed, 0))
        self.changed.clear()
        return taken


class DayRecord:
    """The per-day table as it grows: the day, its COUNTS and its STATE, in pre-allocated arrays."""

    def __init__(self):
        self.days = 0
        self._column = {name: j for j, name in enumerate(COUNTS)}
        self._day = np.empty(0, dtype=np.int64)
        self._counts = np.empty((0, len(COUNTS)))
        self._state = np.empty((0, len(STATE)))

    def append(self, day: int, tally: Tally, member: np.ndarray, ever_member: np.ndarray,
               alertness: np.ndarray, fear: np.ndarray, trust: np.ndarray, unsafe_threshold: float,
               often_unsafe_threshold: float) -> None:
        """Record the day: take the tally's counts, snapshot the residents' state."""
        i = self.days
        if i == len(self._day):   # grow by doubling: amortised constant cost a day
            size = max(64, 2 * i)
            self._day = np.resize(self._day, size)
            self._counts = np.concatenate([self._counts, np.zeros((size - i, len(COUNTS)))])
            self._state = np.resize(self._state, (size, len(STATE)))
        self._day[i] = day
        counts = self._counts[i]
        for name, value in tally.take():
            counts[self._column[name]] = value
        state_row(self._state[i], member, ever_member, alertness, fear, trust, unsafe_threshold,
                  often_unsafe_threshold)
        self.days = i + 1

    def columns(self) -> dict[str, np.ndarray]:
        """The recorded days as columns: ``day``, then COUNTS, then STATE. Counts are whole numbers
        (int64) unless a count is a total with fractions (such as response minutes), as are the
        STATE columns that count households."""
        n = self.days
        counts, state = self._counts[:n], self._state[:n]
        whole = (counts == np.trunc(counts)).all(axis=0)
        columns = {"day": self._day[:n].copy()}
        columns.update({name: counts[:, j].astype(np.int64) if whole[j] else counts[:, j].copy()
                        for j, name in enumerate(COUNTS)})
        columns.update({name: state[:, j].astype(np.int64) if name in _HOUSEHOLD_COUNTS else state[:, j].copy()
                        for j, name in enumerate(STATE)})
        return columns


@dataclass(frozen=True)
class Outcome:
    name: str
    doc: str
    headline: str | None  # alertness | fear | follow-up | stigmatisation | None
    compute: Callable[[pd.DataFrame], float]

    @property
    def counts_events(self) -> bool:
        """Whether the outcome is a count of events over the run (its value is its sample size)."""
        return hasattr(self.compute, "events")


def _ratio(num: str, den: str) -> Callable[[pd.DataFrame], float]:
    def compute(days: pd.DataFrame) -> float:
        d = days[den].sum()
        return float(days[num].sum() / d) if d > 0 else float("nan")
    return compute


def _mean_of(col: str) -> Callable[[pd.DataFrame], float]:
    return lambda days: float(days[col].mean())


def _total(col: str) -> Callable[[pd.DataFrame], float]:
    def compute(days: pd.DataFrame) -> float:
        return float(days[col].sum())
    compute.events = col
    return compute


def _per_month(col: str) -> Callable[[pd.DataFrame], float]:
    return lambda days: float(days[col].sum() / (len(days) / DAYS_PER_MONTH)) if len(days) else float("nan")


def _per_1000_households_a_year(col: str, of: tuple[str, ...] = ("members", "nonmembers")
                                 ) -> Callable[[pd.DataFrame], float]:
    """Σ col per 1,000 households a year; the households are the mean over days of the ``of``
    state columns (all households, or members / non-members only): NaN when there are none."""
    def compute(days: pd.DataFrame) -> float:
        household_years = days[list(of)].sum(axis=1).sum() / DAYS_PER_YEAR
        return float(days[col].sum() / household_years * 1000) if household_years > 0 else float("nan")
    return compute


def _minority_overrepresentation(days: pd.DataFrame) -> float:
    signalled = days["innocent_signalled"].sum()
    situations = days["innocent_situations"].sum()
    if signalled == 0 or situations == 0 or days["innocent_minority"].sum() == 0:
        return float("nan")
    share_signalled = days["innocent_minority_signalled"].sum() / signalled
    share_passers_by = days["innocent_minority"].sum() / situations
    return float(share_signalled / share_passers_by)


def _signals_without_follow_up(days: pd.DataFrame) -> float:
    signalled = days["situations_signalled"].sum()
    return float(1 - days["follow_ups"].sum() / signalled) if signalled else float("nan")


def _per_1000_households_per_year(count: Callable[[pd.DataFrame], float]) -> Callable[[pd.DataFrame], float]:
    def compute(days: pd.DataFrame) -> float:
        if not len(days):
            return float("nan")
        return float(count(days) * 1000 / days["households"].iloc[-1] * DAYS_PER_YEAR / len(days))
    return compute


def _signals_without_follow_up_count(days: pd.DataFrame) -> float:
    return float(days["situations_signalled"].sum() - days["follow_ups"].sum())


def _mean_response(days: pd.DataFrame) -> float:
    n = days["follow_up_look"].sum()
    return float(days["response_minutes_total"].sum() / n) if n else float("nan")


def _police_workload(days: pd.DataFrame) -> float:
    actions = days[["follow_up_look", "follow_up_municipality", "follow_up_officer"]].sum().sum()
    return float(actions / (len(days) / DAYS_PER_MONTH)) if len(days) else float("nan")


def _offtopic_share(days: pd.DataFrame) -> float:
    n = days["messages"].sum()
    return float(days["messages_offtopic"].sum() / n) if n else float("nan")


OUTCOMES: tuple[Outcome, ...] = (
    # alertness
    Outcome("alertness_members", "mean alertness of members, averaged over days", "alertness",
            _mean_of("alertness_members")),
    Outcome("alertness_nonmembers", "mean alertness of non-members (never in the group), averaged over "
            "days", "alertness",
            _mean_of("alertness_nonmembers")),
    Outcome("offences_signalled_share", "share of true offences observed and signalled (112 or app)",
            "alertness", _ratio("offences_signalled", "offences")),
    # fear
    Outcome("fear_members", "mean fear of members, averaged over days", "fear", _mean_of("fear_members")),
    Outcome("fear_nonmembers", "mean fear of non-members (never in the group), averaged over days", "fear",
            _mean_of("fear_nonmembers")),
    Outcome("feels_unsafe_share", "share of residents above the unsafe threshold, averaged over days; "
            "stands for CBS Veiligheidsmonitor 'voelt zich weleens onveilig in de eigen buurt' "
            "(sometimes feels unsafe in the own neighbourhood; 14-18% nationally)",
            "fear", _mean_of("feels_unsafe_share")),
    Outcome("feels_often_unsafe_share", "share of residents above the 'often unsafe' threshold, averaged "
            "over days; stands for CBS 'voelt zich vaak onveilig in de eigen buurt' (often feels unsafe; "
            "under 1% to ~10% by police district); never above feels_unsafe_share",
            "fear", _mean_of("feels_often_unsafe_share")),
    Outcome("fear_residents", "mean fear of all residents, averaged over days (no survey question: "
            "the model's own scale)", "fear", _mean_of("fear_residents")),
    # follow-up
    Outcome("police_reports", "situations that reached the police (112, admin or officer)", "follow-up",
            _total("police_reports")),
    Outcome("reports_per_month", "police reports per month", "follow-up", _per_month("police_reports")),
    Outcome("reports_from_group", "police reports the group brought (a member's SAAR call, the admin's "
            "liaison, the officer reading along); the study's 'reports from the group to the police'",
            "follow-up", _total("reports_from_group")),
    Outcome("reports_from_group_per_month", "police reports the group brought, per month", "follow-up",
            _per_month("reports_from_group")),
    Outcome("reports_via_112", "police reports that came in by a 112 call", "follow-up",
            _total("reports_via_112")),
    Outcome("reports_via_admin", "police reports the admin passed to the officer", "follow-up",
            _total("reports_via_admin")),
    Outcome("reports_via_officer", "police reports the officer read in the group", "follow-up",
            _total("reports_via_officer")),
    Outcome("follow_up_share", "share of police reports followed up in any way. Denominator: all "
            "reports, so it rises when the group brings fewer of them (no_admin, coverage_low: fewer "
            "admin-passed reports, which are followed up less often than 112 calls); read it with "
            "follow_ups_per_1000", "follow-up", _ratio("follow_ups", "police_reports")),
    Outcome("follow_ups_per_1000", "police reports followed up in any way, per 1,000 households per year",
            "follow-up", _per_1000_households_per_year(_total("follow_ups"))),
    Outcome("follow_up_look_share", "share of police reports where a unit went to look", "follow-up",
            _ratio("follow_up_look", "police_reports")),
    Outcome("follow_up_municipality_share", "share of police reports passed to the municipality",
            "follow-up", _ratio("follow_up_municipality", "police_reports")),
    Outcome("follow_up_officer_share", "share of police reports with officer action or information",
            "follow-up", _ratio("follow_up_officer", "police_reports")),
    Outcome("arrests", "arrests", "follow-up", _total("arrests")),
    Outcome("response_minutes", "mean response time of units sent to look (minutes)", "follow-up",
            _mean_response),
    Outcome("signals_without_follow_up_share", "share of signalled situations with no police follow-up. "
            "Denominator: signalled situations, which fall with coverage (fewer app-only signals), so "
            "the share falls as the group shrinks; read it with signals_without_follow_up_per_1000",
            "follow-up", _signals_without_follow_up),
    Outcome("signals_without_follow_up_per_1000", "signalled situations with no police follow-up, per 1,000 "
            "households per year", "follow-up", _per_1000_households_per_year(_signals_without_follow_up_count)),
    # stigmatisation
    Outcome("innocent_signal_share", "share of signalled situations that were innocent", "stigmatisation",
            _ratio("innocent_signalled", "situations_signalled")),
    Outcome("minority_overrepresentation", "minority share among innocent persons signalled / minority "
            "share among innocent persons in situations (1 = no over-representation)", "stigmatisation",
            _minority_overrepresentation),
    Outcome("stigmatising_messages_visible", "stigmatising messages never removed", "stigmatisation",
            _total("stigmatising_visible")),
    Outcome("wrongful_confrontations", "innocent persons confronted by residents", "stigmatisation",
            _total("wrongful_confrontations")),
    # other
    Outcome("self_investigations", "residents who went to look themselves", None,
            _total("self_investigations")),
    Outcome("crowds", "scenes where a crowd gathered", None, _total("crowds")),
    Outcome("false_alarms", "units sent to look at an innocent situation", None, _total("false_alarms")),
    Outcome("police_workload", "police follow-up actions per month (visits + officer actions + "
            "municipality referrals; a report can take more than one)", None, _police_workload),
    Outcome("ties_formed", "new social ties between members from shared episodes", None,
            _total("ties_formed")),
    Outcome("messages_per_month", "messages in the group per month", None, _per_month("messages")),
    # crime (after deterrence)
    Outcome("offences_per_1000", "offences that took place per 1,000 households per year (after "
            "deterrence, displacement and diffusion)", None, _per_1000_households_a_year("offences")),
    Outcome("burglaries_per_1000", "burglaries and attempted burglaries that took place per 1,000 "
            "households per year", None, _per_1000_households_a_year("burglaries")),
    # who calls the police
    Outcome("calls_112_per_1000_members", "112 calls by members per 1,000 member households per year "
            "(members at the time of the call; NaN without members)", None,
            _per_1000_households_a_year("calls_112_members", ("members",))),
    Outcome("calls_112_per_1000_nonmembers", "112 calls by non-members per 1,000 non-member households "
            "per year", None, _per_1000_households_a_year("calls_112_nonmembers", ("nonmembers",))),
    # membership over time
    Outcome("members", "group members, mean over days", None, _mean_of("members")),
    Outcome("members_joined", "residents who joined the group", None, _total("members_joined")),
    Outcome("members_left", "members who left the group of their own accord", None, _total("members_left")),
    Outcome("offtopic_share", "share of group messages that are off-topic or chatter", None,
            _offtopic_share),
)

OUTCOME_NAMES = tuple(o.name for o in OUTCOMES)
HEADLINE = {h: [o.name for o in OUTCOMES if o.headline == h]
            for h in ("alertness", "fear", "follow-up", "stigmatisation")}


def summarise(days: pd.DataFrame) -> dict[str, float]:
    """Every outcome over the given days of the per-day table."""
    return {o.name: o.compute(days) for o in OUTCOMES}
