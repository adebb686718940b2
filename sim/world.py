"""The exogenous world: which situations occur, where, when, who, and whether it is an offence.

Everything here is drawn from the world's own random stream, and nothing here reads the state of
residents, the group or the police. So two scenarios run with the same seed face exactly the same
situations (common random numbers) and differ only through behaviour. Deterrence, which does
depend on behaviour, uses a uniform number drawn here in advance (``deter_draw``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.outcomes import DAYS_PER_MONTH
from sim.params import Params

OFFENCE_KINDS = ("burglary", "attempted_burglary", "vehicle_crime", "vandalism")
INNOCENT_KIND = "ambiguous"   # deliveries, visitors, new residents, youths hanging around
MINUTES_PER_DAY = 24 * 60


@dataclass
class Situation:
    """One situation: a person of a visible group at a house, for a while."""

    id: int
    day: int
    minute: float          # start, minutes after midnight
    kind: str
    offence: bool
    node: int              # household in front of which it happens
    minority: bool         # the person is of the visible minority
    stay: float            # minutes the person stays (unless confronted or arrested)
    deter_draw: float      # uniform draw for deterrence, fixed by the world
    # What happened to it (filled in by the model):
    deterred: bool = False
    signalled: bool = False
    reported: bool = False
    confronted: bool = False
    crowd: bool = False
    arrested: bool = False
    left_at: float = field(default=float("inf"))  # time the person left early (confronted, arrested)

    @property
    def start(self) -> float:
        """Model time in minutes since the start of the run."""
        return self.day * MINUTES_PER_DAY + self.minute

    @property
    def gone_at(self) -> float:
        """Model time (minutes since the start) the person is no longer there."""
        return min(self.start + self.stay, self.left_at)


class World:
    """Draws each day's situations from the world stream."""

    def __init__(self, p: Params, rng: np.random.Generator):
        self.p, self.rng = p, rng
        per_day = p.n_households / 1000 / DAYS_PER_MONTH
        self.kinds = OFFENCE_KINDS + (INNOCENT_KIND,)
        self.daily_rates = np.array([p.burglary_rate, p.attempted_burglary_rate, p.vehicle_crime_rate,
                                     p.vandalism_rate, p.ambiguous_rate]) * per_day
        self.next_id = 0

    def situations_on(self, day: int) -> list[Situation]:
        """Today's situations, in time order."""
        p, rng = self.p, self.rng
        counts = rng.poisson(self.daily_rates)
        total = int(counts.sum())
        kind_idx = np.repeat(np.arange(len(self.kinds)), counts)
        offence = kind_idx < len(OFFENCE_KINDS)
        minute = rng.uniform(0, MINUTES_PER_DAY, size=total)
        node = rng.integers(0, p.n_households, size=total)
        minority = rng.random(total) < np.where(offence, p.offender_minority_share, p.minority_share)
        stay = rng.exponential(np.where(offence, p.offender_stay_minutes, p.innocent_stay_minutes))
        deter = rng.random(total)
        situations = []
        for i in np.argsort(minute, kind="stable"):
            situations.append(Situation(self.next_id, day, float(minute[i]), self.kinds[kind_idx[i]],
                                        bool(offence[i]), int(node[i]), bool(minority[i]),
                                        float(stay[i]), float(deter[i])))
            self.next_id += 1
        return situations
