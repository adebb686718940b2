"""The neighbourhood-watch model: wiring, the event-driven schedule, and the course of an episode.

A neighbourhood has several street-level groups (``groups``: each a ``sim.chat.ChatGroup`` with its
members, admins and message log) and a central admins' group (``central``) in which admins pass a
signal on to the groups adjacent to theirs, and in which the police may post.

A step is one day. Situations are rare and a group message reaches all members at once, so the
model is event-driven: each day adds the day's situations and chatter to a queue of timed events
(minutes since the start), and the queue is worked off in time order — a situation is noticed and
appraised, residents act minutes later, members read a post within the hour and react (sightings,
going out, replies), the admin moderates, units arrive. An *episode* is everything one situation
sets off; when its last event has happened it is closed (feedback, closing message, new ties).
Then talk and forgetting apply to all residents as array operations.

Random streams (all from the seed; docs/odd.md, "Random streams"): ``world`` (situations) and
``network`` (streets, ties, initial membership) are whole-run streams that read no state, so the
same in every scenario; everything residents, admins and police do draws from substreams keyed by
what the decision is about (``sim.streams``): per situation its ``observe`` stream (who notices,
who finds it suspicious, what each does and when: one draw per household in sight, so a
household's draws do not depend on who else noticed), its ``episode`` stream (the group traffic it
sets off) and its ``police`` stream (how the police handle it); per day the ``chatter``,
``moderation`` and ``membership`` streams. Two scenarios on one seed thus draw the same numbers
for everything up to their first difference, and mostly the same after it (common random numbers).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import logging
import math
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from mesa import Model
from mesa.discrete_space import Network

from sim import neighbourhood
from sim.agents import Administrator, Resident
from sim.chat import CENTRAL, POLICE, SIGNAL_KINDS, ChatGroup, Message
from sim.kernels import among
from sim.membership import Membership
from sim.outcomes import DAYS_PER_MONTH, DayRecord, Tally, summarise
from sim.params import Params
from sim.police import Police, Report
from sim.residents import Residents, Response
from sim.streams import Streams
from sim.world import MINUTES_PER_DAY, Situation, World

logging.getLogger("MESA").setLevel(logging.WARNING)

VICTIMISING_KINDS = ("burglary", "attempted_burglary")


@dataclass
class Episode:
    """What one situation set off, until its last event has happened."""

    situation: Situation
    group: ChatGroup                                    # the group over the situation's street
    pending: int = 0                                    # events still to come
    participants: set[int] = field(default_factory=set)  # residents who did something about it (ties)
    callers: set[int] = field(default_factory=set)       # residents who called 112 about it
    told_112: dict[int, float] = field(default_factory=dict)  # member -> when they read "112 called"
    posts: list[Message] = field(default_factory=list)
    going_out: int = 0
    forwarded: bool = False
    relayed: bool = False      # an admin has considered passing it on to the central group
    in_central: bool = False   # it was passed on to the central admins' group
    report: Report | None = None
    traffic: np.random.Generator | None = None    # its episode stream (made on first use)
    handling: np.random.Generator | None = None   # its police stream (made on first use)


RESPONSE_COUNTS = tuple(f"responses_{r.name.lower()}" for r in Response)   # the tally's name of each


def _person_leaves() -> None:
    """The person of the situation leaves (or already has): nothing to do but keep time."""


class NeighbourhoodWatch(Model):
    """Residents, admins and police exchanging signals on a neighbourhood network."""

    def __init__(self, params: Params | None = None, seed: int = 0, *, with_space: bool = True):
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise ValueError(f"seed = {seed!r} must be an integer")
        super().__init__(rng=int(seed))
        self.params = p = params if params is not None else Params.preset()  # as sim.run()
        if not isinstance(p, Params):
            raise TypeError(f"params must be a sim.Params, not {type(p).__name__}")
        world_ss, network_ss = np.random.SeedSequence(int(seed)).spawn(2)
        self.streams = Streams(int(seed))

        self.hood = neighbourhood.build(p, np.random.default_rng(network_ss))
        self.world = World(p, np.random.default_rng(world_ss))
        self.tally = Tally()
        self.residents = Residents(p, self.hood.member, self.streams.fresh("traits"), self.hood.group)
        # the components' own generator serves direct calls only: the model names each substream
        direct = self.residents.rng = self.streams.fresh("direct")
        self.admin_nodes = self.hood.admins
        self.membership = Membership(p, self.residents, self.hood, self.tally, direct)
        self.groups = [ChatGroup(p, self.residents, admins, self.tally, direct, self.membership, index=g)
                       for g, admins in enumerate(self.hood.group_admins)]
        # the central admins' group: its messages are not the neighbourhood's (own tally)
        self.central = ChatGroup(p, self.residents, self.admin_nodes, Tally(), direct, self.membership,
                                 index=CENTRAL)
        self.police = Police(self, p, self.tally, direct)
        self._ties = set((self.hood.social_src * p.n_households + self.hood.social_dst).tolist())  # a * n + b
        self._new_ties: list[tuple[int, int]] = []

        self.graph = self.hood.graph() if with_space else None
        if with_space:  # Mesa's network space, for Mesa tools and the app
            self.grid = Network(self.graph, layout=self.positions, random=self.random)
            for cell in self.grid.all_cells:
                (Administrator if cell.coordinate in self.admin_nodes else Resident)(self, cell)

        self.now = 0.0                       # minutes since the start of the run
        self._queue: list = []               # (time, order, episode, action, args)
        self._order = itertools.count()
        self.today: list[Situation] = []
        self.situations: list[Situation] = []
        self._days = DayRecord()
        self._recording = True
        self._diffusion_pending = 0          # offences still to be prevented by diffusion of benefits
        self.running = True

    @functools.cached_property
    def positions(self) -> dict[int, tuple[float, float]]:
        """Each household's position on the plan (the app's layout)."""
        return dict(enumerate(map(tuple, self.hood.positions.tolist())))

    @property
    def day(self) -> int:
        return self.steps

    @property
    def chat(self) -> ChatGroup:
        """The group, in a neighbourhood of one group (``groups`` lists them all)."""
        if len(self.groups) != 1:
            raise AttributeError(f"the neighbourhood has {len(self.groups)} groups: use model.groups "
                                 "(or model.messages for all their messages)")
        return self.groups[0]

    @property
    def messages(self) -> list[Message]:
        """Every group's messages, in time order (the central admins' group not included)."""
        return sorted((m for g in self.groups for m in g.log), key=lambda m: (m.time, m.group, m.id))

    def group_table(self) -> pd.DataFrame:
        """One row per group: households over its streets, members now, admins, and its messages
        (all, signals, relayed in from adjacent groups, chatter)."""
        rows = []
        for g in self.groups:
            kinds = [m.kind for m in g.log]
            rows.append({"group": g.index, "households": int(np.count_nonzero(self.hood.home_group == g.index)),
                         "members": len(g.members), "admins": len(g.admins), "messages": len(kinds),
                         "signals": sum(k in SIGNAL_KINDS for k in kinds),
                         "relays": kinds.count("relay"),
                         "offtopic": kinds.count("offtopic") + kinds.count("reply")})
        return pd.DataFrame(rows)

    # -- the schedule --------------------------------------------------------------------------
    def step(self) -> None:
        """One day: the day's events in time order, then talk and forgetting."""
        day = self.steps - 1  # Mesa has already counted this step
        for group in self.groups:
            group.new_day()
        self.police.new_day()
        self.today = self.world.situations_on(day)
        self.situations.extend(self.today)
        for s in self.today:
            self._schedule(s.start, None, self._situation_occurs, s)
        for group, members in self._may_chatter(day):
            for minute in self._chatter_times(day, group, members):
                self._schedule(day * MINUTES_PER_DAY + minute, None, self._chatter, day, group)
        self._work_off_until((day + 1) * MINUTES_PER_DAY)
        self._apply_new_ties()
        self.membership.daily([g.messages_per_day for g in self.groups], (day + 1) * MINUTES_PER_DAY,
                              self.streams.daily("membership", day))
        self.residents.daily(self.hood.social_src, self.hood.social_dst, self.membership.watched())
        self._record(day)

    def run_days(self, days: int) -> None:
        """``days`` steps. With nothing on Mesa's event list but the next step (no simulator, no
        scheduled event: sim.run and the studies), the days run straight through and Mesa's clock
        (``time`` and the next step's event) moves on once, at the end: the same days as ``step()``
        without its per-step event machinery."""
        next_step = self._default_schedule._current_event
        if self._simulator is not None or [e for e in self._event_list._events if not e.CANCELED] != [next_step]:
            for _ in range(days):
                self.step()
            return
        for _ in range(days):
            self.steps += 1
            type(self).step(self)
        self.time += days
        next_step.time += days

    def warm_up(self) -> None:
        """Simulate ``warmup_days`` days before anything is recorded (from the start only).

        The world stays the world of the calendar day: day ``d`` has the same situations whatever
        the warm-up; the per-day table and the situation table start at day ``warmup_days``.
        """
        if self.steps:
            raise RuntimeError("warm_up() must come before the first recorded day")
        self._recording = False
        self.run_days(self.params.warmup_days)
        self._recording = True
        self.situations.clear()

    def _schedule(self, time: float, episode: Episode | None, action, *args) -> None:
        if episode is not None:
            episode.pending += 1
        heapq.heappush(self._queue, (time, next(self._order), episode, action, args))

    def _work_off_until(self, end: float) -> None:
        """Events before ``end`` in time order; later ones (after midnight) wait for the next day."""
        while self._queue and self._queue[0][0] < end:
            self.now, _, episode, action, args = heapq.heappop(self._queue)
            action(*args)
            if episode is not None:
                episode.pending -= 1
                if episode.pending == 0:
                    self._close(episode)

    # -- an episode: from situation to closing -----------------------------------------------------
    def _situation_occurs(self, s: Situation) -> None:
        """Processes 1-4: deterrence, observation, appraisal and each resident's response."""
        p, res, t = self.params, self.residents, self.tally
        if s.offence and not self._offence_goes_ahead(s):
            return
        in_sight = self.hood.in_sight(s.node)
        t.add("situations")
        t.add("offences" if s.offence else "innocent_situations")
        if not s.offence and s.minority:
            t.add("innocent_minority")
        # the observe stream: one draw per household in sight for each decision (rows: notice,
        # appraise, call, tell the group, investigate, post, reaction delay, join after a burglary)
        if s.kind in VICTIMISING_KINDS:   # the stream goes on after the block: who joins, in what order
            rng = self.streams.observe(s.id)
            u = rng.random((8, len(in_sight)))
            t.add("burglaries")
            res.victimise(s.node)
            self.membership.after_incident(in_sight, self.now, u[7], rng)
        else:
            u = self.streams.observe_draws(s.id, 8, len(in_sight))
        n_observers, suspicious, responses, react_draws = res.witness(in_sight, s.minute, s.offence, s.minority, u)
        t.add("observations", n_observers)
        if not len(suspicious):  # the common case: nobody finds it suspicious
            return
        t.add("suspicions", len(suspicious))
        counts = np.bincount(responses, minlength=len(Response)).tolist()
        for name, n in zip(RESPONSE_COUNTS, counts):
            t.add(name, n)
        if counts[Response.CALL_ONLY]:
            t.add("responses_call_only_members",
                  int(np.count_nonzero((responses == Response.CALL_ONLY) & res.member[suspicious])))
        s.signalled = counts[Response.SAAR] + counts[Response.CALL_ONLY] + counts[Response.APP_ONLY] > 0
        if s.signalled:
            t.add("situations_signalled")
            t.add("offences_signalled" if s.offence else "innocent_signalled")
            if not s.offence and s.minority:
                t.add("innocent_minority_signalled")

        episode = Episode(s, self.groups[self.hood.home_group[s.node]])
        self._schedule(s.gone_at, episode, _person_leaves)  # the episode lasts at least this long
        act_at = self.now - p.reaction_minutes * np.log1p(-react_draws)   # exponential delays
        for resident, response, at in zip(suspicious.tolist(), responses.tolist(), act_at.tolist()):
            if response == Response.NOTHING:
                continue
            episode.participants.add(resident)
            if response in (Response.SAAR, Response.CALL_ONLY):
                self._schedule(at, episode, self._contact_police, episode, "112", resident,
                               response == Response.SAAR)
            if response in (Response.SAAR, Response.APP_ONLY):
                kind = "saar" if response == Response.SAAR else "signal"
                self._schedule(at, episode, self._post_signal, episode, resident, kind)
            if response == Response.INVESTIGATE:
                episode.going_out += 1
                self._schedule(at, episode, self._confront, s)

    def _offence_goes_ahead(self, s: Situation) -> bool:
        """Process 10: deterrence at the scene; a deterred offence may move (displacement) or
        prevent the next one elsewhere (diffusion of benefits). False if it does not take place."""
        p, t = self.params, self.tally
        if s.deter_draw >= self._deterrence_at(s.node):
            if not self._diffusion_pending:
                return True
            self._diffusion_pending -= 1
            t.add("offences_diffused")
        else:
            t.add("offences_deterred")
            if 0 < s.displace_draw < p.displacement:
                # the offender tries elsewhere and meets that street's deterrence (rescaled draw)
                if s.displace_draw / p.displacement >= self._deterrence_at(s.alt_node):
                    s.node, s.displaced = s.alt_node, True
                    t.add("offences_displaced")
                    return True
            elif s.displace_draw < -p.displacement:
                self._diffusion_pending += 1
        s.deterred = True
        return False

    def _deterrence_at(self, node: int) -> float:
        """Chance an offence at ``node`` is abandoned: the group's members in sight of it (signs,
        windows) and the visible alertness there, relative to baseline alertness."""
        p, res = self.params, self.residents
        in_sight = self.hood.in_sight(node)
        members = np.count_nonzero(res.member[in_sight]) / len(in_sight)   # (a mean, without np.mean's cost)
        if p.deterrence == 0 or members == 0:
            return 0.0
        alert = (1 + res.alertness[in_sight].sum() / len(in_sight)) / (1 + p.alertness_baseline)
        return float(min(1.0, p.deterrence * members * alert))

    # -- an episode's substreams ---------------------------------------------------------------
    def _traffic(self, episode: Episode) -> np.random.Generator:
        """The episode's group traffic stream (reading, reactions, the admins' acts)."""
        if episode.traffic is None:
            episode.traffic = self.streams.fresh("episode", episode.situation.id)
        return episode.traffic

    def _handling(self, episode: Episode) -> np.random.Generator:
        """The police's stream for the episode's situation (dispatch, units, the officer)."""
        if episode.handling is None:
            episode.handling = self.streams.fresh("police", episode.situation.id)
        return episode.handling

    def _post_signal(self, episode: Episode, author: int, kind: str) -> None:
        """Process 5-6: a signal in the group; readers react; the admin moderates and liaises."""
        p, rng, s = self.params, self._traffic(episode), episode.situation
        if not self.residents.member[author]:  # removed from the group in the meantime
            return
        if kind == "saar" and episode.told_112.get(author, float("inf")) <= self.now:
            return  # had read "112 called" before calling: called nobody, tells nothing new
        stigmatising = s.minority and kind != "sighting" and self.residents.stigmatising(author, rng)
        group = episode.group
        msg, readers, read_at = group.post(self.now, author, kind, s.id, s.node, stigmatising, rng)
        episode.posts.append(msg)
        self.residents.alarm(readers, stigmatising)
        if kind == "saar":
            for reader, at in zip(readers.tolist(), read_at.tolist()):
                episode.told_112[reader] = min(at, episode.told_112.get(reader, at))
        if kind == "sighting":
            return
        self._readers_react(episode, msg, readers, read_at)
        officer_reads_at = self.police.officer.reads(self.now, self._officer_read_chance(),
                                                     self._handling(episode) if p.officer_in_group else None)
        if officer_reads_at is not None and officer_reads_at < msg.removed_at:
            msg.last_read = max(msg.last_read, officer_reads_at)
            self._schedule(officer_reads_at, episode, self._contact_police, episode, "officer")
        if kind == "signal" and p.saar_enforced:
            admin = group.admin_acts(rng)
            if admin is not None:
                self._schedule(self.now + group.admin_delay(rng), episode, self._ask_saar, episode, admin, author)
        if p.admin_liaison and not episode.forwarded and not msg.removed:  # a removed post is not passed on
            episode.forwarded = True
            admin = group.admin_acts(rng)
            if admin is not None and rng.random() < p.admin_forward_prob:
                episode.participants.add(admin)
                # the officer picks it up on duty, after a delay
                picked_up = self.police.officer.acts_at(self.now + group.admin_delay(rng),
                                                        self._handling(episode))
                self._schedule(picked_up, episode, self._contact_police, episode, "admin")
        if not episode.relayed and not msg.removed and p.relay_prob > 0 and self.hood.adjacent[group.index]:
            episode.relayed = True   # the admin considers passing the first (kept) signal on
            admin = group.admin_acts(rng)
            if admin is not None and rng.random() < p.relay_prob:
                self._schedule(self.now + rng.exponential(p.relay_delay_minutes), episode, self._relay_central,
                               episode, admin)

    def _officer_read_chance(self) -> float:
        """The officer in every group reads a post with ``officer_reads_prob``, dulled by all their
        groups' traffic: one officer's reading time is shared across the groups."""
        p = self.params
        return p.officer_reads_prob / (1 + p.chatter_fatigue * sum(g.messages_per_day for g in self.groups))

    def _relay_central(self, episode: Episode, admin: int) -> None:
        """An admin passes the signal on in the central admins' group; the admins of adjacent groups
        read it there and may post it in their own group."""
        p, rng, s = self.params, self._traffic(episode), episode.situation
        self.central.post(self.now, admin, "relay", s.id, s.node, rng=rng)
        episode.in_central = True
        for g in self.hood.adjacent[episode.group.index]:
            group = self.groups[g]
            relayer = group.admin_acts(rng)
            if relayer is not None and rng.random() < p.relay_prob:
                self._schedule(self.now + rng.exponential(p.relay_delay_minutes), episode, self._relay_into,
                               episode, group, relayer)

    def _relay_into(self, episode: Episode, group: ChatGroup, admin: int) -> None:
        """An adjacent group's admin posts the relayed signal there: its readers become more alert."""
        s = episode.situation
        if self.residents.group[admin] != group.index:  # no longer in it
            return
        _, readers, _ = group.post(self.now, admin, "relay", s.id, s.node, rng=self._traffic(episode))
        self.residents.alarm(readers)
        self.tally.add("relays")

    def _readers_react(self, episode: Episode, msg: Message, readers: np.ndarray, read_at: np.ndarray) -> None:
        """Readers in sight of the scene add sightings, readers on its street go out to look; some reply."""
        p, rng, s = self.params, self._traffic(episode), episode.situation
        near = among(readers, self.hood.in_sight(s.node))
        sights = rng.random(int(near.sum())) < p.sighting_prob
        for reader, at in zip(readers[near][sights].tolist(), read_at[near][sights]):
            episode.participants.add(reader)
            self._schedule(at, episode, self._post_signal, episode, reader, "sighting")
        street = among(readers, self.hood.on_street(s.node))
        go_out_prob = p.go_out_prob * (1 + p.stigma_go_out_gain if msg.stigmatising else 1)
        go_out = rng.random(int(street.sum())) < np.minimum(
            go_out_prob * (1 + self.residents.alertness[readers[street]]), 1.0)
        for reader, at in zip(readers[street][go_out].tolist(), read_at[street][go_out]):
            episode.participants.add(reader)
            episode.going_out += 1
            self._schedule(at + p.reaction_minutes, episode, self._confront, s)
        # replies are chatter: no one does anything together, so repliers are no participants
        n_replies = rng.binomial(len(readers), min(p.reply_prob * episode.group.chatter_multiplier, 1.0))
        for i in (rng.choice(len(readers), size=n_replies, replace=False) if n_replies else ()):
            self._schedule(float(read_at[i]), episode, self._reply, episode, int(readers[i]))

    def _reply(self, episode: Episode, reader: int) -> None:
        if self.residents.group[reader] == episode.group.index:
            s = episode.situation
            episode.group.post(self.now, reader, "reply", s.id, s.node, rng=self._traffic(episode))

    def _ask_saar(self, episode: Episode, admin: int, poster: int) -> None:
        """SAAR enforced: the admin asks 'did you call 112?'; the poster may call now."""
        s = episode.situation
        if not self.residents.member[poster]:  # removed from the group meanwhile
            return
        rng = self._traffic(episode)
        episode.group.post(self.now, admin, "admin_question", s.id, s.node, rng=rng)
        episode.participants.add(admin)
        if rng.random() < self.params.saar_comply_prob:
            self._schedule(self.now + self.params.reaction_minutes, episode, self._contact_police, episode, "112",
                           poster, True)

    def _confront(self, s: Situation) -> None:
        """A resident confronts the person, if still there; the person then leaves."""
        if self.now < s.gone_at:
            s.confronted = True
            s.left_at = min(s.left_at, self.now)

    def _contact_police(self, episode: Episode, channel: str, caller: int | None = None,
                        tells_group: bool | None = None) -> None:
        """Process 7: a channel reaches the police, who may send a unit.

        A 112 ``caller`` who has already read "112 called" about the situation does not call
        (the point of SAAR); ``tells_group``: the caller says so in the group (a report from it).
        """
        if channel == "112":
            if episode.told_112.get(caller, float("inf")) <= self.now:
                self.tally.add("calls_saved")
                return
            self.tally.add("calls_112")
            episode.callers.add(caller)
            self.tally.add("calls_112_members" if self.residents.member[caller] else "calls_112_nonmembers")
        rng = self._handling(episode)
        episode.report, arrival = self.police.receive(episode.situation, channel, self.now, tells_group, rng)
        if arrival is not None:
            self._schedule(arrival, episode, self.police.response.arrive, episode.report, arrival, rng)

    def _close(self, episode: Episode) -> None:
        """Everything is over: tally the episode, feedback, closing message, new ties."""
        p, t, s, res = self.params, self.tally, episode.situation, self.residents
        if episode.going_out:
            t.add("self_investigations", episode.going_out)
            if episode.going_out >= p.crowd_size:
                s.crowd = True
                t.add("crowds")
        if s.confronted and not s.offence:
            t.add("wrongful_confrontations")
        t.add("stigmatising_visible", sum(m.stigmatising and not m.removed for m in episode.posts))
        report = episode.report
        posted_report = bool(episode.posts) and report is not None   # a chance for feedback to the group
        if posted_report:
            t.add("reports_posted_about")
        fed_back = bool(posted_report
                        and self.police.officer.gives_feedback(report, self._handling(episode))
                        and self._feedback(episode))
        if episode.callers and not fed_back and (report is None or not report.follow_ups):
            res.disappoint(np.array(sorted(episode.callers)))
        if episode.posts:
            readers = episode.group.close(s, self.now, self._traffic(episode))
            res.reassure(readers, trust=False)
            # a false alarm the admin knows of (a unit looked, or a resident spoke to the person)
            if len(readers) and not s.offence and (s.confronted or (report is not None and "look" in report.follow_ups)):
                t.add("false_alarms_corrected")
                res.correct(readers)
        self._form_ties([i for i in episode.participants if res.member[i]], episode)
        self.streams.release(episode.traffic, episode.handling)
        episode.traffic = episode.handling = None

    def _feedback(self, episode: Episode) -> bool:
        """Police feedback reaches the group: from the officer (on duty), or relayed by an admin.

        Returns whether it reached the group.
        """
        s, rng, group = episode.situation, self._traffic(episode), episode.group
        if self.params.officer_in_group:
            author, at = POLICE, self.police.officer.acts_at(self.now, self._handling(episode))
            if episode.in_central:  # the police may post in the central admins' group too
                self.central.post(at, POLICE, "police_feedback", s.id, s.node, rng=rng)
        else:
            author = group.admin_acts(rng) if self.params.admin_liaison else None
            if author is None:
                return False
            at = self.now + group.admin_delay(rng)
        _, readers, _ = group.post(at, author, "police_feedback", s.id, s.node, rng=rng)
        self.tally.add("feedback_messages")
        self.residents.reassure(readers, trust=True)
        return True

    # -- chatter -------------------------------------------------------------------------------
    def _may_chatter(self, day: int) -> list[tuple[ChatGroup, int]]:
        """The groups, with their members, that may have chatter today. Most group-days have none,
        and the first draw of the day's chatter stream tells which: below rate 10, numpy's Poisson
        count is 0 when that uniform is at most exp(-rate). That draw is computed without making
        the stream (``Streams.first_daily_uniforms``); the other groups' counts are drawn as before."""
        p, counts = self.params, self.membership.counts().tolist()
        if p.offtopic_rate == 0:
            return []
        u = self.streams.first_daily_uniforms("chatter", day, len(self.groups))
        if u is None:
            return list(zip(self.groups, counts))
        per_member = p.offtopic_rate * self.groups[0].chatter_multiplier   # the rate as _chatter_times has it
        return [(self.groups[g], members) for g, members in enumerate(counts)
                if members and ((rate := per_member * members / DAYS_PER_MONTH) >= 10
                                or u[g] > math.exp(-rate) * (1 - 1e-9))]   # a margin for exp's last bit

    def _chatter_times(self, day: int, group: ChatGroup, members: int) -> np.ndarray:
        p = self.params
        if not members or p.offtopic_rate == 0:
            return np.empty(0)
        rng = self.streams.daily("chatter", day, group.index)
        rate = p.offtopic_rate * group.chatter_multiplier * members / DAYS_PER_MONTH
        n = rng.poisson(rate)
        return rng.uniform(0, MINUTES_PER_DAY, size=n) if n else np.empty(0)  # most days: none

    def _chatter(self, day: int, group: ChatGroup) -> None:
        members = group.members
        if len(members):
            rng = self.streams.daily("chatter", day, group.index)
            author = int(members[rng.integers(len(members))])   # rng.choice(members)'s draw, without its overhead
            group.post(self.now, author, "offtopic", rng=rng,
                       moderation_rng=self.streams.daily("moderation", day, group.index))

    # -- cohesion ------------------------------------------------------------------------------
    def _form_ties(self, members: list[int], episode: Episode) -> None:
        """Members active in the same episode may get to know each other (process 8)."""
        rng = self._traffic(episode) if len(members) > 1 else None
        n = self.params.n_households
        for a, b in combinations(sorted(members), 2):
            if a * n + b not in self._ties and rng.random() < self.params.tie_prob:
                self._ties.update((a * n + b, b * n + a))
                self._new_ties.append((a, b))
                self.tally.add("ties_formed")
                if self.graph is not None:
                    self.graph.add_edge(a, b, kind="social")

    def _apply_new_ties(self) -> None:
        if self._new_ties:
            a, b = np.array(self._new_ties).T
            self.hood.social_src = np.concatenate([self.hood.social_src, a, b])
            self.hood.social_dst = np.concatenate([self.hood.social_dst, b, a])
            self._new_ties.clear()

    # -- records -------------------------------------------------------------------------------
    def _record(self, day: int) -> None:
        r, p = self.residents, self.params
        if self._recording:
            self._days.append(day, self.tally, r.member, r.ever_member, r.alertness, r.fear, r.trust,
                              p.unsafe_threshold, p.often_unsafe_threshold)
        else:
            self.tally.take()

    def day_table(self) -> pd.DataFrame:
        """One row per simulated day: event counts (sim.outcomes.COUNTS) and state (STATE)."""
        return pd.DataFrame(self.day_columns())

    def day_columns(self) -> dict[str, np.ndarray]:
        """The columns of ``day_table()`` as arrays (for clients that only aggregate them)."""
        return self._days.columns()

    def summary(self) -> dict[str, float]:
        return summarise(self.day_table())

    def situation_table(self) -> pd.DataFrame:
        """The exogenous world as it happened (identical across scenarios with one seed)."""
        cols = ("id", "day", "minute", "kind", "offence", "node", "minority", "stay", "deter_draw",
                "displace_draw")
        return pd.DataFrame([{c: getattr(s, "world_node" if c == "node" else c) for c in cols}
                             for s in self.situations], columns=cols)
