"""Who is in which group over time: joining, leaving and removal, under WhatsApp's cap (process 8).

Every change of membership goes through ``Membership``, which keeps the log and the counts, and
``residents.member`` (in a group) and ``residents.group`` (which) in step. A household can only
ever be in the group over its own street (``hood.home_group``), so a resident is in at most one:

- **joining**: a non-member joins after a burglary or attempt in sight of their house, if a member
  is in sight of it too (the group is present on that street), or because a member of that group
  they know gets them to join (each such tie, ``invite_prob`` a day); never above ``member_cap``
  in a group, and never without a group (at least one member);
- **leaving**: a member leaves because of the group's traffic (``traffic_leave_prob`` per message a
  day over the last week) or in annoyance after an admin's warning (``conflict_leave_prob``, drawn
  by the chat when it warns);
- **removal** by the admin after warnings (decided by the chat's moderation).

Admins never leave. Households that have left or were removed never rejoin.
"""

from __future__ import annotations

import numpy as np

from sim.kernels import invitable
from sim.neighbourhood import Neighbourhood
from sim.outcomes import Tally
from sim.params import Params
from sim.residents import Residents

CHANGES = ("joined", "left", "removed")


class Membership:
    """The group's membership over time and the record of each change."""

    def __init__(self, p: Params, residents: Residents, hood: Neighbourhood, tally: Tally,
                 rng: np.random.Generator | None = None):
        self.p, self.residents, self.hood, self.tally, self.rng = p, residents, hood, tally, rng
        self.admins = set(hood.admins)
        self.log: list[tuple[float, int, str]] = []         # (model time, household, change)
        ptr = hood.sight_ptr   # members in sight of each house, kept up to date by every change
        self._members_in_sight = np.add.reduceat(residents.member[hood.sight_idx].astype(np.int64), ptr[:-1])
        self._in_sight = np.diff(ptr)
        self._counts = np.bincount(residents.group + 1, minlength=hood.n_groups + 1)[1:]  # kept by _change
        self._watched: np.ndarray | None = None   # watched(), until the next change
        self._members_of: dict[int, np.ndarray] = {}   # members_of(g), until g's next change
        self._invitable_of: tuple[tuple[int, int], np.ndarray] = ((-1, -1), np.empty(0, dtype=np.int64))

    @property
    def count(self) -> int:
        """Members of all groups."""
        return int(self._counts.sum())

    def count_in(self, group: int) -> int:
        return int(self._counts[group])

    def members_of(self, group: int) -> np.ndarray:
        """The members of ``group``, ascending (read-only; kept until the group changes)."""
        members = self._members_of.get(group)
        if members is None:
            members = self._members_of[group] = np.flatnonzero(self.residents.group == group)
            members.flags.writeable = False
        return members

    def counts(self) -> np.ndarray:
        """Members of each group (a copy)."""
        return self._counts.copy()

    def watched(self) -> np.ndarray:
        """Member share among the households in sight of each house (the group's presence; kept
        until membership changes, which is rare). Read-only."""
        if self._watched is None:
            self._watched = self._members_in_sight / self._in_sight
            self._watched.flags.writeable = False
        return self._watched

    # -- changes ---------------------------------------------------------------------------------
    def join(self, households: np.ndarray, time: float, rng: np.random.Generator | None = None) -> None:
        """Those of ``households`` who may join do, in random order, while there is room."""
        res = self.residents
        candidates = np.unique(households[~res.ever_member[households]])
        home = self.hood.home_group[candidates]
        for g in np.unique(home).tolist():
            joining = candidates[home == g]
            present = self.count_in(g)
            room = self.p.member_cap - present
            if not present or room <= 0:
                continue  # no group to join, or it is full
            if len(joining) > room:
                joining = (rng or self.rng).choice(joining, size=room, replace=False)
            for h in joining.tolist():
                self._change(h, True, "joined", time)

    def leave(self, household: int, time: float) -> None:
        if self.residents.member[household] and household not in self.admins:
            self._change(household, False, "left", time)

    def remove(self, household: int, time: float) -> None:
        """The admin removes a member (the decision takes effect at ``time``)."""
        self._change(household, False, "removed", time)

    def _change(self, household: int, member: bool, change: str, time: float) -> None:
        if self.residents.member[household] != member:   # sight is mutual: who sees it, it sees
            self._members_in_sight[self.hood.in_sight(household)] += 1 if member else -1
            self._counts[self.hood.home_group[household]] += 1 if member else -1
            self._watched = None
            self._members_of.pop(int(self.hood.home_group[household]), None)
        self.residents.member[household] = member
        self.residents.group[household] = self.hood.home_group[household] if member else -1
        self.residents.ever_member[household] = True
        self.log.append((time, household, change))
        self.tally.add(f"members_{change}")

    # -- the rules -------------------------------------------------------------------------------
    def after_incident(self, scene: np.ndarray, time: float, u: np.ndarray | None = None,
                       rng: np.random.Generator | None = None) -> None:
        """A burglary or attempt: non-members in sight of it may join, if the group is there.

        ``u``: one uniform draw per household of ``scene``; ``rng`` for the order of joining.
        """
        res, rng = self.residents, rng or self.rng
        if self.p.incident_join_prob == 0 or not res.member[scene].any():
            return
        u = rng.random(len(scene)) if u is None else u
        self.join(scene[~res.member[scene] & (u < self.p.incident_join_prob)], time, rng)

    def daily(self, messages_per_day, time: float, rng: np.random.Generator | None = None) -> None:
        """Leaving because of each group's traffic (``messages_per_day``: one value per group, or
        one for all), then joining through members one knows."""
        p, rng = self.p, rng or self.rng
        counts = self._counts.tolist()
        if not any(counts):
            return
        if not isinstance(messages_per_day, (list, tuple, np.ndarray)):
            messages_per_day = [messages_per_day] * len(counts)
        for g, traffic in enumerate(messages_per_day):
            leave_chance = min(p.traffic_leave_prob * traffic, 1.0)
            if leave_chance <= 0:
                continue
            n_leaving = rng.binomial(counts[g], leave_chance)
            if n_leaving:
                for h in rng.choice(self.members_of(g), size=n_leaving, replace=False).tolist():
                    self.leave(h, time)
        if p.invite_prob > 0:  # each tie between a member and a never-member: invite_prob a day
            invited = self._invitable()
            joiners = invited[rng.random(len(invited)) < p.invite_prob]
            if len(joiners):
                self.join(joiners, time, rng)

    def _invitable(self) -> np.ndarray:
        """Never-members, once per tie they have with a member of their street's group (cached until
        ties or members change)."""
        src, dst, res = self.hood.social_src, self.hood.social_dst, self.residents
        if self._invitable_of[0] != (len(src), len(self.log)):
            self._invitable_of = ((len(src), len(self.log)),
                                  invitable(src, dst, res.group, self.hood.home_group, res.ever_member))
        return self._invitable_of[1]
