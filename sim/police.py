"""The police: emergency response (112 dispatch and units) and the community officer (wijkagent).

The police learn of a situation through three channels only: a 112 call, a report the admin
passes to the officer (liaison), or the officer reading the group (only when a member). The first
channel makes it a *police report*; later channels may add follow-up to the same report.
Follow-up is one or more of: a unit goes to look (capacity-limited, lognormal response time),
passing it to the municipality, or action/information by the officer. An arrest needs the
offender still there when the unit arrives.

112 decides once per situation whether to send a unit (a second call about the same situation
draws no second dispatch) and sends none when the caller says the person has left (a non-urgent
report, 0900-8844). The wijkagent works duty hours, picks up what the admin passes on or what is
posted in the group only then and after a delay, and does not know whether the person is still
there: a report that is still fresh gets a unit, an older one the officer's own action.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from mesa import Agent

from sim.outcomes import Tally
from sim.params import Params
from sim.world import MINUTES_PER_DAY, Situation

CHANNELS = ("112", "admin", "officer")
MUNICIPAL_KINDS = ("vandalism", "youths")  # public space and nuisance: the municipality's work


@dataclass
class Report:
    """A situation known to the police, and what they did about it."""

    situation: Situation
    channel: str                                         # first channel
    time: float
    follow_ups: set[str] = field(default_factory=set)   # look | municipality | officer
    met_offender: bool = False
    from_group: bool = False    # the group brought it (SAAR call, admin's liaison, officer reading)
    dispatch_decided: bool = False  # 112 has decided whether to send a unit

    def follow_up(self, kind: str, tally: Tally) -> None:
        if kind in self.follow_ups:
            return
        if not self.follow_ups:
            tally.add("follow_ups")
        self.follow_ups.add(kind)
        tally.add(f"follow_up_{kind}")


class EmergencyResponse(Agent):
    """112 dispatch and the base team's units: limited units a day, lognormal response times."""

    def __init__(self, model, p: Params, tally: Tally, rng: np.random.Generator | None = None):
        super().__init__(model)
        self.p, self.tally, self._rng = p, tally, rng
        self.dispatched_today = 0
        self._log_median = math.log(p.response_minutes)

    def answer_call(self, report: Report, time: float, rng: np.random.Generator | None = None) -> float | None:
        """A 112 call: send a unit (mostly), else pass public-space matters to the municipality.

        The caller can tell whether the person is still there: if not, the call is a non-urgent
        report (0900-8844) without a unit. 112 decides once per situation: a further call about
        it adds nothing. Returns the unit's arrival time, if one is sent.
        """
        s = report.situation
        if time >= s.gone_at:
            self.tally.add("calls_non_urgent")
            if s.kind in MUNICIPAL_KINDS:
                report.follow_up("municipality", self.tally)
            return None
        if report.dispatch_decided or "look" in report.follow_ups:
            return None
        report.dispatch_decided = True
        rng = rng or self._rng
        if rng.random() < self.p.dispatch_prob:
            arrival = self.send_unit(report, time, rng)
            if arrival is not None:
                return arrival
        if report.situation.kind in MUNICIPAL_KINDS:
            report.follow_up("municipality", self.tally)
        return None

    def send_unit(self, report: Report, time: float, rng: np.random.Generator | None = None) -> float | None:
        """Send a unit to look, capacity permitting. Returns its arrival time."""
        if self.dispatched_today >= self.p.response_capacity:
            return None
        self.dispatched_today += 1
        response = float((rng or self._rng).lognormal(self._log_median, self.p.response_spread))
        self.tally.add("response_minutes_total", response)
        report.follow_up("look", self.tally)
        if not report.situation.offence:
            self.tally.add("false_alarms")
        return time + response

    def arrive(self, report: Report, time: float, rng: np.random.Generator | None = None) -> None:
        """The unit arrives: an arrest is possible only if the offender is still there."""
        s = report.situation
        if s.offence and time < s.gone_at and not report.met_offender:
            report.met_offender = True
            self.tally.add("follow_ups_met_offender")
            if (rng or self._rng).random() < self.p.arrest_prob:
                s.arrested, s.arrested_at, s.left_at = True, time, min(s.left_at, time)
                self.tally.add("arrests")


class CommunityOfficer(Agent):
    """The wijkagent: on duty part of the day; reads the group when a member, acts on reports,
    gives feedback."""

    def __init__(self, model, p: Params, tally: Tally, rng: np.random.Generator | None = None):
        super().__init__(model)
        self.p, self.tally, self._rng = p, tally, rng
        self.in_group = p.officer_in_group
        self._shift_start, self._shift_length = p.officer_duty_start_hour * 60.0, p.officer_duty_hours * 60.0

    def on_duty_from(self, time: float) -> float:
        """The first moment at or after ``time`` (model minutes) when the officer is on duty."""
        since_start = (time % MINUTES_PER_DAY - self._shift_start) % MINUTES_PER_DAY
        if since_start < self._shift_length:
            return time
        return time + MINUTES_PER_DAY - since_start

    def acts_at(self, time: float, rng: np.random.Generator | None = None) -> float:
        """When the officer gets to something that reached them at ``time``: on duty, after a delay."""
        return self.on_duty_from(self.on_duty_from(time) + (rng or self._rng).exponential(self.p.officer_action_delay_minutes))

    def reads(self, time: float, read_chance: float, rng: np.random.Generator | None = None) -> float | None:
        """Reads a group message posted at ``time``, on duty: the read time, or None if missed."""
        rng = rng or self._rng
        if self.in_group and rng.random() < read_chance:
            return self.on_duty_from(self.on_duty_from(time) + rng.exponential(self.p.read_delay_minutes))
        return None

    def handle(self, report: Report, time: float, response: EmergencyResponse,
               rng: np.random.Generator | None = None) -> float | None:
        """Acts on a report: a unit if the report is still fresh, else the municipality or own action.

        The officer cannot see whether the person is still there, only how old the signal is
        (``officer_urgent_minutes`` since the situation began). Returns a unit's arrival time.
        """
        rng = rng or self._rng
        if rng.random() >= self.p.officer_action_prob:
            return None
        s = report.situation
        if time - s.start < self.p.officer_urgent_minutes and "look" not in report.follow_ups:
            arrival = response.send_unit(report, time, rng)
            if arrival is not None:
                return arrival
        report.follow_up("municipality" if s.kind in MUNICIPAL_KINDS else "officer", self.tally)
        return None

    def gives_feedback(self, report: Report, rng: np.random.Generator | None = None) -> bool:
        """Feedback to the group: after every report under the feedback rule, else sometimes."""
        if self.p.police_feedback:
            return True
        return bool(report.follow_ups) and (rng or self._rng).random() < self.p.feedback_prob


class Police:
    """Where situations reach the police, through the three channels, as reports."""

    def __init__(self, model, p: Params, tally: Tally, rng: np.random.Generator | None = None):
        self.tally = tally
        self.response = EmergencyResponse(model, p, tally, rng)
        self.officer = CommunityOfficer(model, p, tally, rng)
        self.reports: dict[int, Report] = {}

    def new_day(self) -> None:
        self.response.dispatched_today = 0

    def receive(self, situation: Situation, channel: str, time: float,
                from_group: bool | None = None, rng: np.random.Generator | None = None
                ) -> tuple[Report, float | None]:
        """A channel brings the situation to the police at ``time``.

        ``from_group``: whether the group brought it; the admin and officer channels always are,
        a 112 call only when the caller told the group. ``rng``: the situation's police stream.
        Returns the report and the arrival time
        of a unit sent now, if any.
        """
        report = self.reports.get(situation.id)
        if report is None:
            report = self.reports[situation.id] = Report(situation, channel, time)
            situation.reported = True
            self.tally.add("police_reports")
            self.tally.add(f"reports_via_{channel}")
        if (channel != "112" if from_group is None else from_group) and not report.from_group:
            report.from_group = True
            self.tally.add("reports_from_group")
        if channel == "112":
            return report, self.response.answer_call(report, time, rng)
        return report, self.officer.handle(report, time, self.response, rng)
