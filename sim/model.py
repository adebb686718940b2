"""The neighbourhood-watch model: wiring, the event-driven schedule, and the course of an episode.

A step is one day. Situations are rare and a group message reaches all members at once, so the
model is event-driven: each day adds the day's situations and chatter to a queue of timed events
(minutes since the start), and the queue is worked off in time order — a situation is noticed and
appraised, residents act minutes later, members read a post within the hour and react (sightings,
going out, replies), the admin moderates, units arrive. An *episode* is everything one situation
sets off; when its last event has happened it is closed (feedback, closing message, new ties).
Then talk and forgetting apply to all residents as array operations.

Random streams (all from the seed): ``world`` (situations: common random numbers across
scenarios), ``network`` (streets, ties, membership) and ``behaviour`` (everything residents,
admins and police do).
"""

from __future__ import annotations

import heapq
import itertools
import logging
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from mesa import Model
from mesa.discrete_space import Network

from sim import neighbourhood
from sim.agents import Administrator, Resident
from sim.chat import POLICE, ChatGroup, Message
from sim.outcomes import COUNTS, DAYS_PER_MONTH, Tally, snapshot, summarise
from sim.params import Params
from sim.police import Police, Report
from sim.residents import Residents, Response
from sim.world import MINUTES_PER_DAY, Situation, World

logging.getLogger("MESA").setLevel(logging.WARNING)

VICTIMISING_KINDS = ("burglary", "attempted_burglary")


@dataclass
class Episode:
    """What one situation set off, until its last event has happened."""

    situation: Situation
    pending: int = 0                                    # events still to come
    participants: set[int] = field(default_factory=set)  # residents who acted (for ties)
    posts: list[Message] = field(default_factory=list)
    going_out: int = 0
    forwarded: bool = False
    report: Report | None = None


def _person_leaves() -> None:
    """The person of the situation leaves (or already has): nothing to do but keep time."""


class NeighbourhoodWatch(Model):
    """Residents, admins and police exchanging signals on a neighbourhood network."""

    def __init__(self, params: Params | None = None, seed: int = 0, *, with_space: bool = True):
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise ValueError(f"seed = {seed!r} must be an integer")
        super().__init__(rng=int(seed))
        self.params = p = params if params is not None else Params()
        if not isinstance(p, Params):
            raise TypeError(f"params must be a sim.Params, not {type(p).__name__}")
        world_ss, network_ss, behaviour_ss = np.random.SeedSequence(int(seed)).spawn(3)
        self.behaviour_rng = np.random.default_rng(behaviour_ss)

        self.hood = neighbourhood.build(p, np.random.default_rng(network_ss))
        self.world = World(p, np.random.default_rng(world_ss))
        self.tally = Tally()
        self.residents = Residents(p, self.hood.member, self.behaviour_rng)
        self.admin_nodes = self.hood.admins
        self.chat = ChatGroup(p, self.residents, self.admin_nodes, self.tally, self.behaviour_rng)
        self.police = Police(self, p, self.tally, self.behaviour_rng)
        self._ties = set(zip(self.hood.social_src.tolist(), self.hood.social_dst.tolist()))
        self._new_ties: list[tuple[int, int]] = []

        self.positions = {i: tuple(xy) for i, xy in enumerate(self.hood.positions)}
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
        self._rows: list[dict] = []
        self.running = True

    @property
    def day(self) -> int:
        return self.steps

    # -- the schedule --------------------------------------------------------------------------
    def step(self) -> None:
        """One day: the day's events in time order, then talk and forgetting."""
        day = self.steps - 1  # Mesa has already counted this step
        self.chat.new_day()
        self.police.new_day()
        self.today = self.world.situations_on(day)
        self.situations.extend(self.today)
        for s in self.today:
            self._schedule(s.start, None, self._situation_occurs, s)
        for minute in self._chatter_times():
            self._schedule(day * MINUTES_PER_DAY + minute, None, self._chatter)
        self._work_off_until((day + 1) * MINUTES_PER_DAY)
        self._apply_new_ties()
        self.residents.daily(self.hood.social_src, self.hood.social_dst)
        self._record(day)

    def run_days(self, days: int) -> None:
        for _ in range(days):
            self.step()

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
        in_sight = self.hood.in_sight(s.node)
        if s.offence and s.deter_draw < p.deterrence * self._watched(in_sight):
            s.deterred = True
            t.add("offences_deterred")
            return
        t.add("situations")
        t.add("offences" if s.offence else "innocent_situations")
        if not s.offence and s.minority:
            t.add("innocent_minority")
        if s.kind in VICTIMISING_KINDS:
            res.victimise(s.node)

        observers = res.notice(in_sight, s.minute)
        suspicious = res.appraise(observers, s.offence, s.minority)
        t.add("observations", len(observers))
        t.add("suspicions", len(suspicious))
        if not len(suspicious):  # the common case: nobody finds it suspicious
            return
        responses = res.respond(suspicious)
        for r in Response:
            t.add(f"responses_{r.name.lower()}", int(np.sum(responses == r)))
        s.signalled = bool(np.isin(responses, (Response.SAAR, Response.CALL_ONLY, Response.APP_ONLY)).any())
        if s.signalled:
            t.add("situations_signalled")
            t.add("offences_signalled" if s.offence else "innocent_signalled")
            if not s.offence and s.minority:
                t.add("innocent_minority_signalled")

        episode = Episode(s)
        self._schedule(s.gone_at, episode, _person_leaves)  # the episode lasts at least this long
        act_at = self.now + self.behaviour_rng.exponential(p.reaction_minutes, size=len(suspicious))
        for resident, response, at in zip(suspicious.tolist(), responses, act_at):
            if response == Response.NOTHING:
                continue
            episode.participants.add(resident)
            if response in (Response.SAAR, Response.CALL_ONLY):
                self._schedule(at, episode, self._contact_police, episode, "112")
            if response in (Response.SAAR, Response.APP_ONLY):
                kind = "saar" if response == Response.SAAR else "signal"
                self._schedule(at, episode, self._post_signal, episode, resident, kind)
            if response == Response.INVESTIGATE:
                episode.going_out += 1
                self._schedule(at, episode, self._confront, s)

    def _watched(self, in_sight: np.ndarray) -> float:
        """How watched a street looks to an offender: group signs (members) and visible alertness."""
        res = self.residents
        return float(res.member[in_sight].mean() * (0.5 + 0.5 * res.alertness[in_sight].mean()))

    def _post_signal(self, episode: Episode, author: int, kind: str) -> None:
        """Process 5-6: a signal in the group; readers react; the admin moderates and liaises."""
        p, rng, s = self.params, self.behaviour_rng, episode.situation
        if not self.residents.member[author]:  # removed from the group in the meantime
            return
        stigmatising = s.minority and kind != "sighting" and self.residents.stigmatising(author)
        msg, readers, read_at = self.chat.post(self.now, author, kind, s.id, s.node, stigmatising)
        episode.posts.append(msg)
        self.residents.alarm(readers)
        if kind == "sighting":
            return
        self._readers_react(episode, readers, read_at)
        officer_delay = self.police.officer.reads(self.chat.read_chance(p.officer_reads_prob))
        if officer_delay is not None and self.now + officer_delay < msg.removed_at:
            msg.last_read = max(msg.last_read, self.now + officer_delay)
            self._schedule(self.now + officer_delay, episode, self._contact_police, episode, "officer")
        if kind == "signal" and p.saar_enforced:
            admin = self.chat.admin_acts()
            if admin is not None:
                self._schedule(self.now + self.chat.admin_delay(), episode, self._ask_saar, episode, admin, author)
        if p.admin_liaison and not episode.forwarded:
            episode.forwarded = True
            admin = self.chat.admin_acts()
            if admin is not None and rng.random() < p.admin_forward_prob:
                episode.participants.add(admin)
                self._schedule(self.now + self.chat.admin_delay(), episode, self._contact_police, episode, "admin")

    def _readers_react(self, episode: Episode, readers: np.ndarray, read_at: np.ndarray) -> None:
        """Readers near the scene add sightings or go out to look; some reply."""
        p, rng, s = self.params, self.behaviour_rng, episode.situation
        near = np.isin(readers, self.hood.in_sight(s.node))
        sights = rng.random(int(near.sum())) < p.sighting_prob
        for reader, at in zip(readers[near][sights].tolist(), read_at[near][sights]):
            episode.participants.add(reader)
            self._schedule(at, episode, self._post_signal, episode, reader, "sighting")
        go_out = rng.random(int(near.sum())) < np.minimum(
            p.go_out_prob * (1 + self.residents.alertness[readers[near]]), 1.0)
        for reader, at in zip(readers[near][go_out].tolist(), read_at[near][go_out]):
            episode.participants.add(reader)
            episode.going_out += 1
            self._schedule(at + p.reaction_minutes, episode, self._confront, s)
        n_replies = rng.binomial(len(readers), min(p.reply_prob * self.chat.chatter_multiplier, 1.0))
        for i in (rng.choice(len(readers), size=n_replies, replace=False) if n_replies else ()):
            reader = int(readers[i])
            episode.participants.add(reader)
            self._schedule(float(read_at[i]), episode, self._reply, episode, reader)

    def _reply(self, episode: Episode, reader: int) -> None:
        if self.residents.member[reader]:
            s = episode.situation
            self.chat.post(self.now, reader, "reply", s.id, s.node)

    def _ask_saar(self, episode: Episode, admin: int, poster: int) -> None:
        """SAAR enforced: the admin asks 'did you call 112?'; the poster may call now."""
        s = episode.situation
        if not self.residents.member[poster]:  # removed from the group meanwhile
            return
        self.chat.post(self.now, admin, "admin_question", s.id, s.node)
        episode.participants.add(admin)
        if self.behaviour_rng.random() < self.params.saar_comply_prob:
            self._schedule(self.now + self.params.reaction_minutes, episode, self._contact_police, episode, "112")

    def _confront(self, s: Situation) -> None:
        """A resident confronts the person, if still there; the person then leaves."""
        if self.now < s.gone_at:
            s.confronted = True
            s.left_at = min(s.left_at, self.now)

    def _contact_police(self, episode: Episode, channel: str) -> None:
        """Process 7: a channel reaches the police, who may send a unit."""
        if channel == "112":
            self.tally.add("calls_112")
        episode.report, arrival = self.police.receive(episode.situation, channel, self.now)
        if arrival is not None:
            self._schedule(arrival, episode, self.police.response.arrive, episode.report, arrival)

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
        if episode.posts and episode.report is not None and self.police.officer.gives_feedback(episode.report):
            self._feedback(s)
        if episode.posts:
            res.reassure(self.chat.close(s, self.now), trust=False)
        self._form_ties([i for i in episode.participants if res.member[i]])

    def _feedback(self, s: Situation) -> None:
        """Police feedback reaches the group: directly from the officer, or relayed by an admin."""
        if self.params.officer_in_group:
            author, at = POLICE, self.now + self.params.reaction_minutes
        else:
            author = self.chat.admin_acts() if self.params.admin_liaison else None
            if author is None:
                return
            at = self.now + self.chat.admin_delay()
        _, readers, _ = self.chat.post(at, author, "police_feedback", s.id, s.node)
        self.tally.add("feedback_messages")
        self.residents.reassure(readers, trust=True)

    # -- chatter -------------------------------------------------------------------------------
    def _chatter_times(self) -> np.ndarray:
        p = self.params
        rate = p.offtopic_rate * self.chat.chatter_multiplier * self.residents.member.sum() / DAYS_PER_MONTH
        return self.behaviour_rng.uniform(0, MINUTES_PER_DAY, size=self.behaviour_rng.poisson(rate))

    def _chatter(self) -> None:
        members = np.flatnonzero(self.residents.member)
        if len(members):
            self.chat.post(self.now, int(self.behaviour_rng.choice(members)), "offtopic")

    # -- cohesion ------------------------------------------------------------------------------
    def _form_ties(self, members: list[int]) -> None:
        """Members active in the same episode may get to know each other (process 8)."""
        for a, b in combinations(sorted(members), 2):
            if (a, b) not in self._ties and self.behaviour_rng.random() < self.params.tie_prob:
                self._ties.update(((a, b), (b, a)))
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
        r = self.residents
        row = {"day": day, **self.tally, **snapshot(r.member, r.alertness, r.fear, r.trust,
                                                     self.params.unsafe_threshold)}
        self._rows.append(row)
        self.tally.update(dict.fromkeys(COUNTS, 0))

    def day_table(self) -> pd.DataFrame:
        """One row per simulated day: event counts (sim.outcomes.COUNTS) and state (STATE)."""
        return pd.DataFrame(self._rows)

    def summary(self) -> dict[str, float]:
        return summarise(self.day_table())

    def situation_table(self) -> pd.DataFrame:
        """The exogenous world as it happened (identical across scenarios with one seed)."""
        cols = ("id", "day", "minute", "kind", "offence", "node", "minority", "stay", "deter_draw")
        return pd.DataFrame([{c: getattr(s, c) for c in cols} for s in self.situations], columns=cols)
