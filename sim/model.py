"""The neighbourhood-watch model: wiring, the daily schedule, and the course of one episode.

A step is one day. Situations are rare and a group message reaches all members at once, so the
model is event-driven: each day it takes the day's situations in time order and plays out each
episode (observation → appraisal → response → chat → moderation → police → feedback → ties),
then applies the daily talk-and-forgetting dynamics to all residents as array operations.

Random streams (all from the seed): ``world`` (situations: common random numbers across
scenarios), ``network`` (streets, ties, membership) and ``behaviour`` (everything residents,
admins and police do).
"""

from __future__ import annotations

import logging
from itertools import combinations

import numpy as np
import pandas as pd
from mesa import Model
from mesa.discrete_space import Network

from sim import neighbourhood
from sim.agents import Administrator, Resident
from sim.chat import POLICE, ChatGroup
from sim.outcomes import COUNTS, Tally, snapshot, summarise
from sim.params import Params
from sim.police import Police
from sim.residents import Residents, Response
from sim.world import MINUTES_PER_DAY, Situation, World

logging.getLogger("MESA").setLevel(logging.WARNING)

VICTIMISING_KINDS = ("burglary", "attempted_burglary")


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

        self.today: list[Situation] = []
        self.situations: list[Situation] = []
        self._rows: list[dict] = []
        self.running = True

    @property
    def day(self) -> int:
        return self.steps

    # -- the schedule --------------------------------------------------------------------------
    def step(self) -> None:
        """One day: the day's episodes and chatter in time order, then talk and forgetting."""
        day = self.steps - 1  # Mesa has already counted this step
        self.chat.new_day(day)
        self.police.new_day()
        self.today = self.world.situations_on(day)
        self.situations.extend(self.today)
        events = [(s.minute, 0, s) for s in self.today] + [(m, 1, None) for m in self._chatter_times()]
        for minute, _, situation in sorted(events, key=lambda e: (e[0], e[1])):
            if situation is None:
                self._chatter(minute)
            else:
                self._episode(situation)
        self._apply_new_ties()
        self.residents.daily(self.hood.social_src, self.hood.social_dst)
        self._record(day)

    def run_days(self, days: int) -> None:
        for _ in range(days):
            self.step()

    # -- one episode ---------------------------------------------------------------------------
    def _episode(self, s: Situation) -> None:
        p, res, rng, t = self.params, self.residents, self.behaviour_rng, self.tally
        in_sight = self.hood.in_sight(s.node)
        if s.offence and s.deter_draw < p.deterrence * res.member[in_sight].mean():
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
        act_at = s.minute + rng.exponential(p.reaction_minutes, size=len(suspicious))
        for r in Response:
            t.add(f"responses_{r.name.lower()}", int(np.sum(responses == r)))

        participants = set(suspicious[responses != Response.NOTHING].tolist())
        police_contacts = [(m, "112") for m in act_at[(responses == Response.SAAR) |
                                                      (responses == Response.CALL_ONLY)]]
        investigators = act_at[responses == Response.INVESTIGATE]
        going_out = len(investigators)
        for m in investigators:
            self._confront(s, m)

        posting = (responses == Response.SAAR) | (responses == Response.APP_ONLY)
        posts = sorted(zip(act_at[posting], suspicious[posting], responses[posting]))
        stigmatising = res.stigmatising(np.array([a for _, a, _ in posts], dtype=np.int64))
        stigmatising &= s.minority
        stigmatising_posts = []
        for (minute, author, response), stig in zip(posts, stigmatising):
            kind = "saar" if response == Response.SAAR else "signal"
            msg, readers, read_at = self.chat.post(minute, int(author), kind, s.id, s.node, bool(stig))
            if msg.stigmatising:
                stigmatising_posts.append(msg)
            res.alarm(readers)
            going_out += self._readers_react(s, readers, read_at, participants)
            police_contacts += self._police_in_group(msg)
            if kind == "signal" and p.saar_enforced:
                asked_at = self.chat.ask_saar(msg)
                if asked_at is not None and rng.random() < p.saar_comply_prob:
                    police_contacts.append((asked_at + p.reaction_minutes, "112"))
        if posts and p.admin_liaison:
            admin = self.chat.admin_acts()
            if admin is not None and rng.random() < p.admin_forward_prob:
                police_contacts.append((posts[0][0] + self.chat.admin_delay(), "admin"))
                participants.add(admin)

        s.signalled = bool(np.isin(responses, (Response.SAAR, Response.CALL_ONLY, Response.APP_ONLY)).any())
        if s.signalled:
            t.add("situations_signalled")
            t.add("offences_signalled" if s.offence else "innocent_signalled")
            if not s.offence and s.minority:
                t.add("innocent_minority_signalled")
        if going_out:
            t.add("self_investigations", going_out)
            if going_out >= p.crowd_size:
                s.crowd = True
                t.add("crowds")
        if s.confronted and not s.offence:
            t.add("wrongful_confrontations")

        t.add("calls_112", sum(1 for _, channel in police_contacts if channel == "112"))
        report = None
        for minute, channel in sorted(police_contacts):
            report = self.police.receive(s, channel, minute)
        over_at = max([s.gone_at] + [m for m, _ in police_contacts])
        if report is not None and self.police.officer.gives_feedback(report):
            self._feedback(s, over_at)
        if posts:
            res.reassure(self.chat.close(s, over_at), trust=False)
        t.add("stigmatising_visible", sum(not m.removed for m in stigmatising_posts))
        self._form_ties([i for i in participants if res.member[i]])

    def _confront(self, s: Situation, minute: float) -> None:
        """A resident confronts the person, if still there; the person then leaves."""
        if minute < s.gone_at:
            s.confronted = True
            s.left_at = min(s.left_at, minute)

    def _readers_react(self, s: Situation, readers, read_at, participants: set) -> int:
        """Readers near the scene add sightings or go out; some reply. Returns how many went out."""
        p, rng = self.params, self.behaviour_rng
        near = np.isin(readers, self.hood.in_sight(s.node))
        for reader, minute in zip(readers[near], read_at[near]):
            if rng.random() < p.sighting_prob:
                msg, others, _ = self.chat.post(minute, int(reader), "sighting", s.id, s.node)
                self.residents.alarm(others)
                participants.add(int(reader))
        chance = np.minimum(p.go_out_prob * (1 + self.residents.alertness[readers[near]]), 1.0)
        out = rng.random(int(near.sum())) < chance
        for reader, minute in zip(readers[near][out], read_at[near][out]):
            self._confront(s, minute + p.reaction_minutes)
            participants.add(int(reader))
        n_replies = rng.binomial(len(readers), min(p.reply_prob * self.chat.chatter_multiplier, 1.0))
        for i in rng.choice(len(readers), size=n_replies, replace=False) if n_replies else ():
            self.chat.post(float(read_at[i]), int(readers[i]), "reply", s.id, s.node)
            participants.add(int(readers[i]))
        return int(out.sum())

    def _police_in_group(self, msg) -> list[tuple[float, str]]:
        """The officer, when a member, reads a signal and so the police learn of it."""
        delay = self.police.officer.reads(self.chat.read_chance(self.params.officer_reads_prob))
        return [] if delay is None else [(msg.minute + delay, "officer")]

    def _feedback(self, s: Situation, minute: float) -> None:
        """Police feedback reaches the group: directly from the officer, or relayed by an admin."""
        if self.params.officer_in_group:
            author = POLICE
        else:
            author = self.chat.admin_acts() if self.params.admin_liaison else None
            if author is None:
                return
        _, readers, _ = self.chat.post(minute + self.chat.admin_delay(), author, "police_feedback",
                                       s.id, s.node)
        self.tally.add("feedback_messages")
        self.residents.reassure(readers, trust=True)

    def _chatter_times(self) -> np.ndarray:
        p = self.params
        rate = p.offtopic_rate * self.chat.chatter_multiplier * self.residents.member.sum() / 30.4375
        return self.behaviour_rng.uniform(0, MINUTES_PER_DAY, size=self.behaviour_rng.poisson(rate))

    def _chatter(self, minute: float) -> None:
        members = np.flatnonzero(self.residents.member)
        if len(members):
            self.chat.post(minute, int(self.behaviour_rng.choice(members)), "offtopic")

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
        cols = ("id", "day", "minute", "kind", "offence", "node", "minority", "stay")
        return pd.DataFrame([{c: getattr(s, c) for c in cols} for s in self.situations], columns=cols)
