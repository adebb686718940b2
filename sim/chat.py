"""A group chat and its rules: messages, who reads them when, and the admins' moderation.

A neighbourhood has several groups (``sim.neighbourhood``), each a ``ChatGroup`` over its own
streets with its own admins and message log, and one central admins' group (``central=True``)
whose members are every group's admins, where admins pass reports between groups and the police
may post. A message reaches all current members of its group at once (broadcast). Each member reads it with a chance
that falls with recent chatter (fatigue), after a random delay. A message the admin removes is
not read by anyone after its removal. The administrator (*beheerder*) moderates by the group's
rules: removes profiling posts, warns (then removes) members who post chatter, asks "did you call
112?" under SAAR, posts a closing message (*afmelding*) and relays police feedback. Warnings and
removals are posted in the group like any message (delivered, read, counted); a warning lapses
after ``warning_lapse_days``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from sim.kernels import reading
from sim.membership import Membership
from sim.outcomes import Tally
from sim.params import Params
from sim.residents import Residents
from sim.world import MINUTES_PER_DAY

MESSAGE_KINDS = ("signal", "saar", "sighting", "reply", "offtopic", "admin_question", "admin_warning",
                 "admin_removal", "police_feedback", "closing", "relay")
SIGNAL_KINDS = ("signal", "saar", "sighting")
CHATTER_KINDS = ("reply", "offtopic")
ADMIN_KINDS = ("admin_question", "admin_warning", "admin_removal", "closing", "relay")
POLICE = -1  # author id of the officer / police
CENTRAL = -2  # index of the central admins' group

TEXT = {
    "signal": "Suspicious person at house {node}", "saar": "112 called: suspicious person at house {node}",
    "sighting": "I see someone near house {node} too", "reply": "👍 thanks", "offtopic": "Anyone lost a cat?",
    "admin_question": "Did you call 112?", "admin_warning": "Warning: keep this group for alarms only",
    "admin_removal": "Removed by the admin", "police_feedback": "Police: we checked house {node}",
    "closing": "Closing: the situation at house {node} is over",
    "relay": "Passed on from a group nearby: suspicious person at house {node}",
}


@dataclass
class Message:
    id: int
    time: float                 # model time: minutes since the start of the run
    author: int                 # household node, or POLICE
    role: str                   # resident | admin | officer
    kind: str                   # one of MESSAGE_KINDS
    situation: int | None = None
    node: int | None = None     # where it is about
    stigmatising: bool = False  # names appearance rather than behaviour
    removed: bool = False
    removed_at: float = float("inf")
    reads: int = 0                   # members who read it
    last_read: float = float("-inf")  # latest read by anyone, the officer included
    group: int = 0                    # the group it was posted in (CENTRAL: the admins' group)

    @property
    def day(self) -> int:
        return int(self.time // MINUTES_PER_DAY)

    @property
    def minute(self) -> float:
        """Minutes after midnight."""
        return self.time % MINUTES_PER_DAY

    @property
    def text(self) -> str:
        return TEXT[self.kind].format(node=self.node)


class ChatGroup:
    """One WhatsApp group: its message log, delivery to its members, and its admins' moderation."""

    def __init__(self, p: Params, residents: Residents, admins: list[int], tally: Tally,
                 rng: np.random.Generator | None, membership: Membership, index: int = 0):
        self.p, self.residents, self.admins, self.tally, self.rng = p, residents, admins, tally, rng
        self.membership, self.index = membership, index
        self.log: list[Message] = []
        self.removed_at: dict[int, float] = {}             # removed member -> time of removal
        self._recent_daily: deque[int] = deque(maxlen=7)   # messages on each of the last 7 days
        self._today = 0

    # -- the day -----------------------------------------------------------------------------
    def new_day(self) -> None:
        if self.log:
            self._recent_daily.append(self._today)
        self._today = 0

    @property
    def members(self) -> np.ndarray:
        """Its current members, ascending, read-only (the central group: every admin)."""
        if self.index == CENTRAL:
            admins = np.asarray(sorted(self.admins), dtype=np.int64)
            admins.flags.writeable = False   # as members_of's: one compiled signature for reading them
            return admins
        return self.membership.members_of(self.index)

    @property
    def chatter_multiplier(self) -> float:
        rule = self.p.chatter_rule
        if rule == "strict":
            return 1 - self.p.strict_chatter_cut
        return self.p.tolerated_chatter_boost if rule == "tolerated" else 1.0

    @property
    def messages_per_day(self) -> float:
        """Mean messages a day over the last (up to) seven completed days."""
        recent = self._recent_daily   # (a Python sum: np.mean costs more than a day's update)
        return sum(recent) / len(recent) if recent else 0.0

    def read_chance(self, base: float) -> float:
        """Chance a message is read at all: dulled by the last week's messages per day."""
        return base / (1 + self.p.chatter_fatigue * self.messages_per_day)

    # -- posting and reading -------------------------------------------------------------------
    def post(self, time: float, author: int, kind: str, situation=None, node=None,
             stigmatising: bool = False, rng: np.random.Generator | None = None,
             moderation_rng: np.random.Generator | None = None) -> tuple[Message, np.ndarray, np.ndarray]:
        """Post a message at model ``time``, moderate it, deliver it to the members.

        Returns the message, its readers and their read times. Only members may post. ``rng``:
        the stream for its delivery, ``moderation_rng`` for the admin's acts on it (default
        ``rng``; both default to the group's own generator).
        """
        rng = rng or self.rng
        role = "officer" if author == POLICE else ("admin" if author in self.admins else "resident")
        if role == "resident" and self.residents.group[author] != self.index:
            raise ValueError(f"household {author} is not a member of group {self.index} and cannot post")
        msg = Message(len(self.log), time, author, role, kind, situation, node, stigmatising, group=self.index)
        self._record(msg)
        if role == "resident":
            self._moderate(msg, moderation_rng or rng)
        return (msg, *self._deliver(msg, rng))

    def _record(self, msg: Message) -> None:
        self.log.append(msg)
        self._today += 1
        t = self.tally
        t.add("messages")
        if msg.kind in SIGNAL_KINDS:
            t.add("messages_signal")
        elif msg.kind in CHATTER_KINDS:
            t.add("messages_offtopic")
        elif msg.kind in ADMIN_KINDS:
            t.add("messages_admin")
        elif msg.kind == "police_feedback":
            t.add("messages_police")
        if msg.stigmatising:
            t.add("stigmatising_messages")

    def _deliver(self, msg: Message, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Each member but the author reads the message at ``read_chance(read_prob)``, after an
        exponential delay (``read_delay_minutes``), if it has not been removed by then."""
        members = self.members                       # ascending
        at = int(members.searchsorted(msg.author))
        others = len(members) - (at < len(members) and members[at] == msg.author)
        delay = rng.exponential(self.p.read_delay_minutes, size=others)
        u = rng.random(others)
        readers, times = reading(members, msg.author, msg.time, msg.removed_at, delay, u,
                                 self.read_chance(self.p.read_prob))
        msg.reads = len(readers)
        if len(times):
            msg.last_read = float(times.max())
        return readers, times

    # -- the administrator (beheerder) -----------------------------------------------------------
    def admin_acts(self, rng: np.random.Generator | None = None) -> int | None:
        """An admin available right now, or None (no admin, or none responds)."""
        rng = rng or self.rng
        available = [a for a in self.admins if rng.random() < self.p.admin_availability]
        return available[int(rng.integers(len(available)))] if available else None

    def admin_delay(self, rng: np.random.Generator | None = None) -> float:
        return (rng or self.rng).exponential(self.p.admin_delay_minutes)

    def _moderate(self, msg: Message, rng: np.random.Generator) -> None:
        """Apply the group's rules to a resident's message (before anyone reads it)."""
        p = self.p
        profiling = msg.stigmatising and p.remove_profiling
        chatter = msg.kind in CHATTER_KINDS and p.chatter_rule != "tolerated"
        if not (profiling or chatter):
            return
        admin = self.admin_acts(rng)
        if admin is None:
            return
        at = msg.time + self.admin_delay(rng)
        if profiling or p.chatter_rule == "strict":
            msg.removed, msg.removed_at = True, at
            self.tally.add("messages_removed")
        self._warn_or_remove(admin, msg.author, at, msg.time, rng)

    def _warn_or_remove(self, admin: int, member: int, time: float, now: float,
                        rng: np.random.Generator) -> None:
        """One warning (or ``warnings_before_removal``), then removal from the group.

        The decision takes effect at once (the member posts no more); the admin's message
        follows at ``time`` and is delivered to the (remaining) members. Warnings older than
        ``warning_lapse_days`` have lapsed.
        """
        if member in self.admins:
            return
        res = self.residents
        if time - res.warned_at[member] > self.p.warning_lapse_days * MINUTES_PER_DAY:
            res.warnings[member] = 0
        if res.warnings[member] >= self.p.warnings_before_removal:
            self.membership.remove(member, now)
            self.removed_at[member] = now
            kind = "admin_removal"
        else:
            res.warnings[member] += 1
            res.warned_at[member] = time
            kind = "admin_warning"
        msg = Message(len(self.log), time, admin, "admin", kind, node=member, group=self.index)
        self._record(msg)
        self._deliver(msg, rng)
        if kind == "admin_warning" and rng.random() < self.p.conflict_leave_prob:
            self.membership.leave(member, now)  # leaves in annoyance

    def close(self, situation, time: float, rng: np.random.Generator | None = None) -> np.ndarray:
        """Closing message after an incident (afmelding); returns its readers."""
        rng = rng or self.rng
        admin = self.admin_acts(rng)
        if admin is None or rng.random() >= self.p.closing_prob:
            return np.empty(0, dtype=np.int64)
        return self.post(time + self.admin_delay(rng), admin, "closing", situation.id, situation.node,
                         rng=rng)[1]
