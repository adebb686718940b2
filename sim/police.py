"""The police: emergency response (112 dispatch and units) and the community officer (wijkagent).

The police learn of a situation through three channels only: a 112 call, a report the admin
passes to the officer (liaison), or the officer reading the group (only when a member). The first
channel makes it a *police report*; later channels may add follow-up to the same report.
Follow-up is one or more of: a unit goes to look (capacity-limited, lognormal response time),
passing it to the municipality, or action/information by the officer. An arrest needs the
offender still there when the unit arrives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.outcomes import Tally
from sim.params import Params
from sim.world import Situation

CHANNELS = ("112", "admin", "officer")
MUNICIPAL_KINDS = ("vandalism",)  # public-space damage: the municipality's work


@dataclass
class Report:
    situation: Situation
    channel: str                        # first channel
    minute: float
    follow_ups: set[str] = field(default_factory=set)   # look | municipality | officer
    met_offender: bool = False


class Police:
    """Emergency response and community officer for one neighbourhood."""

    def __init__(self, p: Params, tally: Tally, rng: np.random.Generator):
        self.p, self.tally, self.rng = p, tally, rng
        self.reports: dict[int, Report] = {}
        self.dispatched_today = 0
        self._log_median = math.log(p.response_minutes)

    def new_day(self) -> None:
        self.dispatched_today = 0

    def receive(self, situation: Situation, channel: str, minute: float) -> Report:
        """A channel brings the situation to the police at ``minute``."""
        report = self.reports.get(situation.id)
        if report is None:
            report = self.reports[situation.id] = Report(situation, channel, minute)
            situation.reported = True
            self.tally.add("police_reports")
            self.tally.add(f"reports_via_{channel}")
        if channel == "112":
            self._answer_call(report, minute)
        else:
            self._officer_handles(report, minute)
        return report

    def officer_reads(self, read_chance: float) -> float | None:
        """The officer in the group reads a message (limited hours): delay in minutes, or None."""
        if self.rng.random() < read_chance:
            return float(self.rng.exponential(self.p.read_delay_minutes))
        return None

    def gives_feedback(self, report: Report) -> bool:
        """Feedback to the group: after every report under the feedback rule, else sometimes."""
        if self.p.police_feedback:
            return True
        return bool(report.follow_ups) and self.rng.random() < self.p.feedback_prob

    # -- follow-up ------------------------------------------------------------------------------
    def _answer_call(self, report: Report, minute: float) -> None:
        if "look" in report.follow_ups:
            return
        if self.rng.random() < self.p.dispatch_prob and self._send_unit(report, minute):
            return
        if report.situation.kind in MUNICIPAL_KINDS:
            self._follow_up(report, "municipality")

    def _officer_handles(self, report: Report, minute: float) -> None:
        if self.rng.random() >= self.p.officer_action_prob:
            return
        s = report.situation
        if minute < s.gone_at and "look" not in report.follow_ups and self._send_unit(report, minute):
            return
        self._follow_up(report, "municipality" if s.kind in MUNICIPAL_KINDS else "officer")

    def _send_unit(self, report: Report, minute: float) -> bool:
        """Send a unit to look, capacity permitting; arrest if the offender is still there."""
        if self.dispatched_today >= self.p.response_capacity:
            return False
        self.dispatched_today += 1
        response = float(self.rng.lognormal(self._log_median, 0.5))
        self.tally.add("response_minutes_total", response)
        self._follow_up(report, "look")
        s = report.situation
        if not s.offence:
            self.tally.add("false_alarms")
        elif minute + response < s.gone_at and not report.met_offender:
            report.met_offender = True
            self.tally.add("follow_ups_met_offender")
            if self.rng.random() < self.p.arrest_prob:
                s.arrested, s.left_at = True, minute + response
                self.tally.add("arrests")
        return True

    def _follow_up(self, report: Report, kind: str) -> None:
        if kind in report.follow_ups:
            return
        if not report.follow_ups:
            self.tally.add("follow_ups")
        report.follow_ups.add(kind)
        self.tally.add(f"follow_up_{kind}")
