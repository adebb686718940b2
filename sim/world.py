"""The exogenous world: which situations occur, where, when, who, and whether it is an offence.

Everything here is drawn from the world's own random stream, and nothing here reads the state of
residents, the group or the police. So two scenarios run with the same seed face exactly the same
situations (common random numbers) and differ only through behaviour. Deterrence and where a
deterred offence goes, which do depend on behaviour, use numbers drawn here in advance
(``deter_draw``, ``displace_draw``, ``alt_node``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.outcomes import DAYS_PER_MONTH
from sim.params import Params

OFFENCE_KINDS = ("burglary", "attempted_burglary", "vehicle_crime", "vandalism")
# Innocent but ambiguous situations and their shares of ``ambiguous_rate``
# (assumption: no source counts them; deliveries and visitors are the everyday bulk).
INNOCENT_KINDS = {"delivery": 0.4, "visitor": 0.3, "new_resident": 0.1, "youths": 0.2}
MINUTES_PER_DAY = 24 * 60

# Relative rate by hour of day (assumption: burglaries by day and evening when homes are empty,
# vehicle crime and vandalism at night, innocent comings and goings by day).
_hour = np.arange(24)
_by_day = ((_hour >= 8) & (_hour < 22)).astype(float)
_night = ((_hour >= 22) | (_hour < 6)).astype(float)
HOURLY_PROFILE = {
    "burglary": 1 + _by_day, "attempted_burglary": 1 + _by_day,
    "vehicle_crime": 1 + 2 * _night, "vandalism": 1 + 2 * _night,
    **{kind: 0.05 + _by_day for kind in INNOCENT_KINDS},
}


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
    displace_draw: float   # uniform draw for displacement / diffusion of a deterred offence
    alt_node: int          # where a displaced offence goes instead
    # What happened to it (filled in by the model):
    deterred: bool = False
    signalled: bool = False
    reported: bool = False
    confronted: bool = False
    crowd: bool = False
    arrested: bool = False
    displaced: bool = False  # deterred at ``world_node``, committed at ``node`` instead
    left_at: float = field(default=float("inf"))  # time the person left early (confronted, arrested)
    arrested_at: float = field(default=float("inf"))  # time of the arrest (a record for tests)
    world_node: int = field(init=False)  # where the world put it (``node`` may change by displacement)

    def __post_init__(self):
        self.world_node = self.node

    @property
    def start(self) -> float:
        """Model time in minutes since the start of the run."""
        return self.day * MINUTES_PER_DAY + self.minute

    @property
    def gone_at(self) -> float:
        """Model time (minutes since the start) the person is no longer there."""
        return min(self.start + self.stay, self.left_at)


class World:
    """Draws the situations from the world stream, a block of days at a time.

    The block length is fixed, so the situations of a day do not depend on how long a run is.
    """

    BLOCK_DAYS = 64

    def __init__(self, p: Params, rng: np.random.Generator):
        self.p, self.rng = p, rng
        per_day = p.n_households / 1000 / DAYS_PER_MONTH
        self.kinds = OFFENCE_KINDS + tuple(INNOCENT_KINDS)
        monthly = [p.burglary_rate, p.attempted_burglary_rate, p.vehicle_crime_rate, p.vandalism_rate,
                   *(p.ambiguous_rate * share for share in INNOCENT_KINDS.values())]
        self.daily_rates = np.array(monthly) * per_day
        self.hour_weights = np.array([HOURLY_PROFILE[k] / HOURLY_PROFILE[k].sum() for k in self.kinds])
        self.next_id = 0
        self._block: dict[int, list[Situation]] = {}

    def situations_on(self, day: int) -> list[Situation]:
        """The day's situations, in time order (days are asked for in order)."""
        if day not in self._block:
            self._block = self._draw_block(day - day % self.BLOCK_DAYS)
        return self._block[day]

    def _draw_block(self, first_day: int) -> dict[int, list[Situation]]:
        p, rng, n_days = self.p, self.rng, self.BLOCK_DAYS
        counts = rng.poisson(self.daily_rates, size=(n_days, len(self.kinds)))
        total = int(counts.sum())
        day = first_day + np.repeat(np.arange(n_days), counts.sum(axis=1))
        kind_idx = np.repeat(np.tile(np.arange(len(self.kinds)), n_days), counts.ravel())  # day by day
        offence = kind_idx < len(OFFENCE_KINDS)
        cumulative = self.hour_weights[kind_idx].cumsum(axis=1)
        hour = np.minimum((rng.random((total, 1)) > cumulative).sum(axis=1), 23)
        minute = (hour + rng.random(total)) * 60
        node = rng.integers(0, p.n_households, size=total)
        minority = rng.random(total) < np.where(offence, p.offender_minority_share, p.minority_share)
        stay = rng.exponential(np.where(offence, p.offender_stay_minutes, p.innocent_stay_minutes))
        deter = rng.random(total)
        displace = rng.random(total)
        alt_node = rng.integers(0, p.n_households, size=total)
        block: dict[int, list[Situation]] = {d: [] for d in range(first_day, first_day + n_days)}
        order = np.lexsort((minute, day))
        columns = (day, minute, kind_idx, offence, node, minority, stay, deter, displace, alt_node)
        for i, (d, m, k, o, n, mi, st, de, di, alt) in enumerate(zip(*(c[order].tolist() for c in columns)),
                                                                start=self.next_id):
            block[d].append(Situation(i, d, m, self.kinds[k], o, n, mi, st, de, di, alt))
        self.next_id += total
        return block
