"""Residents: array-backed state and the rules residents follow.

One resident stands for one household. State lives in numpy arrays (one entry per household) so
that reading a group message, fear talk and forgetting are vector operations over all residents;
``sim.agents.Resident`` gives each household a Mesa agent view onto these arrays.

Rules, in the order of the model brief:
- ``notice``      process 2: residents in sight, at home, notice a situation (more when alert);
- ``appraise``    process 3: fear, and bias toward a minority person, make innocents look suspicious;
  those who find it suspicious become more alert (``alarm_witnesses``);
- ``respond``     process 4: SAAR (112, then the app), 112 only, investigate oneself, app only, nothing;
- ``alarm`` etc.  process 5-7: a group message raises alertness and fear (a stigmatising one also
  bias); feedback and afmelding reassure, a correction undoes a false alarm, an unanswered call
  lowers trust;
- ``daily``       process 9: talk with ties (afraid ones alarm, calm ones reassure, more alert ones
                  raise alertness), reassurance by watchful neighbours, forgetting towards each
                  resident's own fear baseline.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from sim.kernels import noticing, responding, suspecting, talk_and_forget, witnessing
from sim.params import Params


class Response(IntEnum):
    """What a resident who finds a situation suspicious does (mutually exclusive)."""

    SAAR = 0          # 112 first, then "112 called" in the app
    CALL_ONLY = 1     # 112 without posting (every non-member who calls)
    INVESTIGATE = 2   # goes to look / confronts the person: the vigilantism risk
    APP_ONLY = 3      # posts in the group without calling 112: signalling without follow-up
    NOTHING = 4


def _beta(rng, mean: float, size: int, concentration: float) -> np.ndarray:
    """Heterogeneous trait in [0, 1] around ``mean``."""
    mean = min(max(mean, 1e-6), 1 - 1e-6)
    return rng.beta(mean * concentration, (1 - mean) * concentration, size=size)


# The bias at which ``stigmatising_prob`` is the stigmatising chance (the baseline's ``bias_mean``):
# fixed, so that a more biased population posts more stigmatising reports.
REFERENCE_BIAS = 0.3


class Residents:
    """State of all residents as arrays over households."""

    def __init__(self, p: Params, member: np.ndarray, rng: np.random.Generator, group: np.ndarray | None = None):
        n = len(member)
        self.p, self.rng = p, rng
        self.member = member.copy()
        # the group each member is in (-1: none; default: all members in group 0); kept by Membership
        self.group = np.where(member, 0, -1) if group is None else np.asarray(group, dtype=np.int64).copy()
        self.alertness = np.full(n, p.alertness_baseline)
        self.trust = _beta(rng, p.trust_mean, n, p.trait_concentration)
        self.bias = _beta(rng, p.bias_mean, n, p.trait_concentration)
        self.ever_member = member.copy()        # non-members are the households never in the group
        self.fear_baseline = _beta(rng, p.fear_baseline, n, p.fear_concentration)  # fixed per resident
        self.fear = self.fear_baseline.copy()
        self.warnings = np.zeros(n, dtype=np.int64)
        self.warned_at = np.full(n, -np.inf)    # model time of the last warning
        # the daily update's rates, in the order sim.kernels.talk_and_forget takes them
        self._rates = np.array([p.talk_rate * p.alertness_talk_gain, p.talk_rate, p.talk_fear_gain, p.talk_relief,
                                p.watch_reassurance, p.unsafe_threshold, p.alertness_baseline,
                                np.exp(-1 / p.fear_memory_days), np.exp(-1 / p.alertness_memory_days)])
        # the run's constants of noticing, appraisal, response and alarm (sim.kernels' order)
        self._witness_rules = np.array([
            p.alertness_observe_gain, p.recognise_offence_prob, p.ambiguous_suspicion_prob, p.fear_suspicion_gain,
            p.bias_suspicion_gain, p.call_112_prob, p.nonmember_call_112_prob, p.trust_mean, p.saar_app_prob,
            p.investigate_prob, p.post_prob * (1 - p.report_form_friction if p.report_form else 1.0),
            p.alertness_gain])
        self._ties_of: tuple = (-1, None, None, None)   # (tie ends, sorted pair codes, CSR pointers, indices)
        self._scratch = np.empty((2, n))         # the daily update's ties' alertness and afraid ties

    def __len__(self) -> int:
        return len(self.member)

    # -- process 2: observation --------------------------------------------------------------
    def notice(self, candidates: np.ndarray, minute: float, u: np.ndarray | None = None) -> np.ndarray:
        """Those among ``candidates`` (households in sight) who notice the situation: each at
        ``observe_prob`` times the share at home at that hour (``home_day_share`` 7-23 h, else
        ``home_night_share``), times (1 + ``alertness_observe_gain`` x alertness), at most 1.

        ``u``: one uniform draw per candidate (the situation's observe stream), else drawn here.
        """
        u = self.rng.random(len(candidates)) if u is None else u
        return noticing(candidates, self.alertness, u, self._notice_chance(minute), self.p.alertness_observe_gain)

    def _notice_chance(self, minute: float) -> float:
        p = self.p
        hour = (minute / 60) % 24
        return (p.home_day_share if 7 <= hour < 23 else p.home_night_share) * p.observe_prob

    # -- process 3: appraisal ----------------------------------------------------------------
    def appraise(self, observers: np.ndarray, offence: bool, minority: bool,
                 u: np.ndarray | None = None) -> np.ndarray:
        """Those among ``observers`` who find the situation suspicious (``u``: as ``notice``): an
        offence is recognised at ``recognise_offence_prob``; an innocent situation at
        ``ambiguous_suspicion_prob`` x (1 + ``fear_suspicion_gain`` x fear), times
        (1 + ``bias_suspicion_gain`` x bias) for a person of the minority; at most 1."""
        u = self.rng.random(len(observers)) if u is None else u
        return suspecting(observers, u, bool(offence), bool(minority), self.fear, self.bias, self._witness_rules)

    def stigmatising_chance(self, authors: np.ndarray | int) -> np.ndarray:
        """Chance a report about a minority person names appearance rather than behaviour.

        Proportional to the author's bias (``stigmatising_prob`` at ``REFERENCE_BIAS``), capped at
        1; the report form then cuts exactly ``report_form_profiling_cut`` of it.
        """
        p = self.p
        chance = np.minimum(p.stigmatising_prob * self.bias[authors] / REFERENCE_BIAS, 1.0)
        if p.report_form:  # the structured form asks for behaviour and other distinctive features
            chance = chance * (1 - p.report_form_profiling_cut)
        return chance

    def stigmatising(self, author: int, rng: np.random.Generator | None = None) -> bool:
        """Whether a report about a minority person names appearance rather than behaviour."""
        return bool((rng or self.rng).random() < self.stigmatising_chance(author))

    # -- process 4: response -----------------------------------------------------------------
    def respond(self, suspicious: np.ndarray, u: np.ndarray | None = None) -> np.ndarray:
        """A ``Response`` code for each suspicious resident. Non-members only call 112 or do nothing.

        Each calls 112 at ``call_112_prob`` (non-members ``nonmember_call_112_prob``) times their
        trust relative to ``trust_mean``; a member who calls also says so in the group (SAAR) at
        ``saar_app_prob``. A member who does not call goes to look at ``investigate_prob`` times
        (1 + alertness) times distrust (2 - the trust factor, within 0.5-1.5: Epstein-style, alert
        residents who trust the police less take matters in hand), else posts at ``post_prob``
        (less the report form's friction). Every chance is at most 1. One compiled pass
        (``sim.kernels.responding``).

        ``u``: four rows of uniform draws (call, tell the group, investigate, post), one column per
        suspicious resident; else drawn here.
        """
        u = self.rng.random((4, len(suspicious))) if u is None else u
        return responding(suspicious, u, self.member, self.trust, self.alertness, self._witness_rules)

    def witness(self, in_sight: np.ndarray, minute: float, offence: bool, minority: bool,
                u: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """Processes 2-4 for a situation at ``minute`` in one compiled pass (``sim.kernels.witnessing``):
        ``notice``, ``appraise``, ``alarm_witnesses`` and ``respond``, household ``in_sight[j]``
        drawing column j of ``u`` (rows: notice, appraise, call, tell the group, investigate, post,
        reaction delay). Returns the number of observers, the suspicious, their responses and
        their reaction-delay draws."""
        return witnessing(in_sight, u, bool(offence), bool(minority), self._notice_chance(minute), self.alertness,
                          self.fear, self.bias, self.member, self.trust, self._witness_rules)

    # -- process 5: reading the group ----------------------------------------------------------
    def alarm(self, readers: np.ndarray, stigmatising: bool = False) -> None:
        """Readers of a signal become more alert and more afraid; a stigmatising one (naming
        appearance) also strengthens their bias against the minority."""
        p = self.p
        self.alertness[readers] += p.alertness_gain * (1 - self.alertness[readers])
        self.fear[readers] += p.fear_gain * (1 - self.fear[readers])
        if stigmatising:
            self.bias[readers] += p.stigma_bias_gain * (1 - self.bias[readers])

    def alarm_witnesses(self, suspicious: np.ndarray) -> None:
        """Residents who found a situation suspicious themselves, members or not, become more alert."""
        self.alertness[suspicious] += self.p.alertness_gain * (1 - self.alertness[suspicious])

    def correct(self, readers: np.ndarray) -> None:
        """Readers of an afmelding that corrects a false alarm: alertness and fear fall back
        towards baseline (each resident's own fear baseline) by ``correction_relief``."""
        p = self.p
        self.alertness[readers] -= p.correction_relief * np.maximum(self.alertness[readers] - p.alertness_baseline, 0)
        self.fear[readers] -= p.correction_relief * np.maximum(self.fear[readers] - self.fear_baseline[readers], 0)

    def disappoint(self, callers: np.ndarray) -> None:
        """Callers whose report got neither follow-up nor feedback trust the police less."""
        self.trust[callers] -= self.p.unanswered_trust_loss * self.trust[callers]

    def reassure(self, readers: np.ndarray, trust: bool) -> None:
        """Readers of police feedback (``trust``) or a closing message feel safer."""
        p = self.p
        self.fear[readers] -= p.feedback_fear_relief * self.fear[readers]
        if trust:
            self.trust[readers] += p.feedback_trust_gain * (1 - self.trust[readers])

    def victimise(self, household: int) -> None:
        self.fear[household] += self.p.victim_fear_gain * (1 - self.fear[household])

    # -- process 9: talk, reassurance and forgetting --------------------------------------------
    def _ties(self, social_src: np.ndarray, social_dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each resident's ties in CSR form, ascending. Ties are only ever added (at the end of
        the tie arrays, each pair once), so their number identifies the network, and new ties are
        merged into the sorted pair codes (src x n + dst) rather than all sorted again."""
        known, codes, ptr, idx = self._ties_of
        if known != len(social_src):
            n = len(self)
            new_src, new_dst = social_src[max(known, 0):], social_dst[max(known, 0):]
            new = np.sort(new_src * n + new_dst)
            codes = new if known < 0 else np.insert(codes, np.searchsorted(codes, new), new)
            grown = np.cumsum(np.bincount(new_src, minlength=n))
            ptr = np.concatenate([[0], grown]) if known < 0 else np.concatenate([[0], ptr[1:] + grown])
            idx = codes % n
            self._ties_of = (len(social_src), codes, ptr, idx)
        return ptr, idx

    def daily(self, social_src: np.ndarray, social_dst: np.ndarray, watched: np.ndarray) -> None:
        """Talk with each tie about safety (fear) and what goes on (alertness: towards more alert
        ties, members or not), reassurance by watchful neighbours, then forgetting.

        Expected values (mean field): each tie is talked with at ``talk_rate`` a day; an afraid tie
        (above ``unsafe_threshold``) adds fear, an unafraid one removes some (Prieto Curiel & Bishop
        2017: talk and memory loss). ``watched`` is the member share among the households in sight
        of each house: knowing the neighbours watch out reassures. Steady states: docs/odd.md 7.14.
        One compiled pass over the households (``sim.kernels.talk_and_forget``).
        """
        talk_and_forget(self.alertness, self.fear, self.fear_baseline, *self._ties(social_src, social_dst),
                        watched, self._rates, self._scratch)
