"""Compiled loops (numba) where a run spends its time: the daily talk and forgetting, the day's
state row, a situation's witnesses (noticing, appraisal, alarm, response), reading a message, who
can be invited, readers among a few households, and numpy's Philox draws computed without a
generator (docs/speed.md).

Each loop is written as the rule it implements; the rules are documented where they are used
(``Residents.daily``, ``sim.outcomes.snapshot``, ``Residents.notice``/``appraise``/``respond``/
``witness``, ``ChatGroup._deliver``, ``Membership._invitable``, ``sim.streams``). Compiled on first
use and cached on disk (``cache=True``): the first call in a fresh environment compiles for a few
seconds, later processes load the cache.

Arithmetic is done in the same order as the numpy expressions these loops replaced, so a seed
gives the same numbers bit for bit; tests/test_speed.py holds them to that.
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, error_model="numpy", nogil=True)  # numpy semantics: 0/0 is NaN


@_jit
def talk_and_forget(alertness, fear, fear_baseline, tie_ptr, tie_idx, watched, rates, scratch):
    """One day of talk, reassurance and forgetting, in place.

    Ties are in CSR form (``tie_idx[tie_ptr[i]:tie_ptr[i + 1]]``: i's ties, ascending). Every
    resident's change is computed from yesterday's state of their ties, gathered first into
    ``scratch`` (2 x households). ``rates``: see ``Residents.daily``.
    """
    (alertness_talk, talk_rate, talk_fear_gain, talk_relief, watch_reassurance, unsafe_threshold,
     alertness_baseline, fear_keep, alertness_keep) = rates
    n = len(fear)
    has_ties = tie_ptr[n] > 0
    tie_alertness, n_afraid = scratch[0], scratch[1]
    if has_ties:
        for i in range(n):
            start, end = tie_ptr[i], tie_ptr[i + 1]
            total, afraid = 0.0, 0
            if end > start:
                weight = 1.0 / (end - start)
                for k in range(start, end):
                    total += weight * alertness[tie_idx[k]]
                    afraid += fear[tie_idx[k]] > unsafe_threshold
            tie_alertness[i], n_afraid[i] = total, afraid
    for i in range(n):
        a, f = alertness[i], fear[i]
        change = -watch_reassurance * watched[i] * f
        if has_ties:
            if alertness_talk > 0:            # towards the mean alertness of one's ties, if higher
                a += alertness_talk * max(tie_alertness[i] - a, 0.0)
            n_calm = tie_ptr[i + 1] - tie_ptr[i] - n_afraid[i]   # afraid ties alarm, calm ties reassure
            change += talk_rate * (talk_fear_gain * n_afraid[i] * (1 - f) - talk_relief * n_calm * f)
        f = min(max(f + change, 0.0), 1.0)
        fear[i] = fear_baseline[i] + (f - fear_baseline[i]) * fear_keep
        alertness[i] = alertness_baseline + (a - alertness_baseline) * alertness_keep


@_jit
def _block_sum(x, start, n):
    """numpy's sum of a block of up to 128 values: eight accumulators from eight values on."""
    if n < 8:
        total = 0.0
        for i in range(start, start + n):
            total += x[i]
        return total
    a0, a1, a2, a3, a4, a5, a6, a7 = x[start:start + 8]
    i = 8
    while i < n - n % 8:
        j = start + i
        a0, a1, a2, a3 = a0 + x[j], a1 + x[j + 1], a2 + x[j + 2], a3 + x[j + 3]
        a4, a5, a6, a7 = a4 + x[j + 4], a5 + x[j + 5], a6 + x[j + 6], a7 + x[j + 7]
        i += 8
    total = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
    while i < n:
        total += x[start + i]
        i += 1
    return total


@_jit
def _pairwise_sum(x, n, stack):
    """numpy's summation order for ``x[:n].sum()``: blocks of up to 128 values, halves above that
    (a multiple of eight on the left), so that a sum here equals numpy's. The halving is walked
    with an explicit ``stack`` (``np.empty((4, 64))``): numba cannot cache a recursive function."""
    if n <= 128:
        return _block_sum(x, 0, n)
    lo, size, left, has_left = stack[0], stack[1], stack[2], stack[3]   # (start, length as floats)
    top, lo[0], size[0] = 0, 0, n
    while True:
        m = int(size[top])
        if m > 128:                              # descend into the left half
            has_left[top] = 0
            lo[top + 1], size[top + 1] = lo[top], m // 2 - m // 2 % 8
            top += 1
            continue
        total = _block_sum(x, int(lo[top]), m)
        while True:                              # climb: a left half waits for its right half
            if top == 0:
                return total
            top -= 1
            if not has_left[top]:
                left[top], has_left[top] = total, 1
                m = int(size[top])
                half = m // 2 - m // 2 % 8
                lo[top + 1], size[top + 1] = lo[top] + half, m - half
                top += 1
                break
            total = left[top] + total


@_jit
def state_row(out, member, ever_member, alertness, fear, trust, unsafe_threshold, often_unsafe_threshold):
    """Write the day's STATE values (in ``sim.outcomes.STATE`` order) into ``out``: means over
    members and over never-members, as numpy computes them (``x[mask].mean()``: the selected
    values summed pairwise; NaN for an empty group), and shares. One pass gathers the selections."""
    n = len(member)
    unsafe = often_unsafe = 0
    often = max(unsafe_threshold, often_unsafe_threshold)  # who often feels unsafe also sometimes does
    # rows: alertness and fear of members, alertness and fear of never-members, trust of members
    chosen, stack = np.empty((5, n)), np.empty((4, 64))
    members = never = 0
    for i in range(n):
        unsafe += fear[i] > unsafe_threshold
        often_unsafe += fear[i] > often
        if member[i]:
            chosen[0, members], chosen[1, members], chosen[4, members] = alertness[i], fear[i], trust[i]
            members += 1
        if not ever_member[i]:
            chosen[2, never], chosen[3, never] = alertness[i], fear[i]
            never += 1
    out[0] = _pairwise_sum(chosen[0], members, stack) / members
    out[1] = _pairwise_sum(chosen[2], never, stack) / never
    out[2] = _pairwise_sum(chosen[1], members, stack) / members
    out[3] = _pairwise_sum(chosen[3], never, stack) / never
    out[4] = _pairwise_sum(fear, n, stack) / n
    out[5] = unsafe / n
    out[6] = often_unsafe / n
    out[7] = _pairwise_sum(chosen[4], members, stack) / members
    out[8] = members
    out[9] = n - members
    out[10] = n


# -- a situation's witnesses: one rule per person, used by the array passes and the fused one ------
# Rules: Residents.notice, Residents.appraise and Residents.respond document them. ``rules`` (the
# run's constants, ``Residents._witness_rules``): notice's alertness gain, recognise, ambiguous,
# fear and bias gains, the two call chances, trust mean, SAAR, investigate, post, alarm gain.
_NOTICE_GAIN, _RECOGNISE, _AMBIGUOUS, _FEAR_GAIN, _BIAS_GAIN, _CALL, _NONMEMBER_CALL, _TRUST_MEAN, \
    _SAAR, _INVESTIGATE, _POST, _ALARM = range(12)


@_jit
def _notices(u, alertness, chance_at_baseline, alertness_gain):
    return u < min(chance_at_baseline * (1 + alertness_gain * alertness), 1.0)


@_jit
def _suspects(u, offence, minority, fear, bias, recognise_prob, ambiguous_prob, fear_gain, bias_gain):
    if offence:
        chance = recognise_prob
    else:
        chance = ambiguous_prob * (1 + fear_gain * fear)
        if minority:
            chance = chance * (1 + bias_gain * bias)
    return u < min(chance, 1.0)


@_jit
def _response(u_call, u_tell, u_investigate, u_post, is_member, trust, alertness, call_prob,
              nonmember_call_prob, trust_mean, saar_app_prob, investigate_prob, post_chance):
    """A response code (``sim.residents.Response``: SAAR 0, CALL_ONLY 1, INVESTIGATE 2, APP_ONLY 3,
    NOTHING 4): the first that applies in that order."""
    trust_factor = trust / trust_mean
    call_base = call_prob if is_member else nonmember_call_prob
    if u_call < min(call_base * trust_factor, 1.0):
        return 0 if is_member and u_tell < saar_app_prob else 1
    distrust = min(max(2 - trust_factor, 0.5), 1.5)
    if is_member and u_investigate < min(investigate_prob * (1 + alertness) * distrust, 1.0):
        return 2
    if is_member and u_post < post_chance:
        return 3
    return 4


@_jit
def noticing(candidates, alertness, u, chance_at_baseline, alertness_gain):
    """``candidates`` whose draw ``u`` falls below their chance of noticing."""
    out = np.empty(len(candidates), dtype=np.int64)
    k = 0
    for j in range(len(candidates)):
        if _notices(u[j], alertness[candidates[j]], chance_at_baseline, alertness_gain):
            out[k] = candidates[j]
            k += 1
    return out[:k]


@_jit
def suspecting(observers, u, offence, minority, fear, bias, rules):
    """``observers`` whose draw ``u`` falls below their chance of finding the situation suspicious."""
    out = np.empty(len(observers), dtype=np.int64)
    k = 0
    for j in range(len(observers)):
        o = observers[j]
        if _suspects(u[j], offence, minority, fear[o], bias[o], rules[_RECOGNISE], rules[_AMBIGUOUS],
                     rules[_FEAR_GAIN], rules[_BIAS_GAIN]):
            out[k] = o
            k += 1
    return out[:k]


@_jit
def responding(suspicious, u, member, trust, alertness, rules):
    """Each suspicious resident's response code from their four draws ``u[:, j]``."""
    out = np.empty(len(suspicious), dtype=np.int64)
    for j in range(len(suspicious)):
        i = suspicious[j]
        out[j] = _response(u[0, j], u[1, j], u[2, j], u[3, j], member[i], trust[i], alertness[i],
                           rules[_CALL], rules[_NONMEMBER_CALL], rules[_TRUST_MEAN], rules[_SAAR],
                           rules[_INVESTIGATE], rules[_POST])
    return out


@_jit
def witnessing(in_sight, u, offence, minority, chance_at_baseline, alertness, fear, bias, member, trust, rules):
    """Processes 2-4 for one situation in one pass (``Residents.witness``): who notices it (draws
    ``u[0]``), who of them finds it suspicious (``u[1]``), their alarm, and what each does
    (``u[2:6]``), household ``in_sight[j]`` drawing column j. Returns the number of observers, the
    suspicious, their responses and their reaction draws (``u[6]``).

    As the array passes in turn: noticing and appraisal read only the household's own state, and
    a witness's alarm changes only their own alertness, which their response then reads."""
    suspicious = np.empty(len(in_sight), dtype=np.int64)
    responses = np.empty(len(in_sight), dtype=np.int64)
    react = np.empty(len(in_sight))
    observers = k = 0
    for j in range(len(in_sight)):
        i = in_sight[j]
        if not _notices(u[0, j], alertness[i], chance_at_baseline, rules[_NOTICE_GAIN]):
            continue
        observers += 1
        if not _suspects(u[1, j], offence, minority, fear[i], bias[i], rules[_RECOGNISE], rules[_AMBIGUOUS],
                         rules[_FEAR_GAIN], rules[_BIAS_GAIN]):
            continue
        alertness[i] += rules[_ALARM] * (1 - alertness[i])
        suspicious[k] = i
        responses[k] = _response(u[2, j], u[3, j], u[4, j], u[5, j], member[i], trust[i], alertness[i],
                                 rules[_CALL], rules[_NONMEMBER_CALL], rules[_TRUST_MEAN], rules[_SAAR],
                                 rules[_INVESTIGATE], rules[_POST])
        react[k] = u[6, j]
        k += 1
    return observers, suspicious[:k], responses[:k], react[:k]


@_jit
def reading(members, author, time, removed_at, delay, u, chance):
    """Who of ``members`` but the ``author`` reads a message posted at ``time`` (``ChatGroup._deliver``):
    the j-th of them reads it at ``time + delay[j]`` if ``u[j] < chance`` and it is still there
    then. Returns the readers and their read times."""
    readers = np.empty(len(delay), dtype=np.int64)
    times = np.empty(len(delay))
    j = k = 0
    for m in members:
        if m == author:
            continue
        at = time + delay[j]
        if u[j] < chance and at < removed_at:
            readers[k], times[k] = m, at
            k += 1
        j += 1
    return readers[:k], times[:k]


@_jit
def among(values, pool):
    """``np.isin(values, pool)`` for a small ``pool`` (those in sight, a street), without its set-up."""
    out = np.zeros(len(values), dtype=np.bool_)
    for i in range(len(values)):
        for p in pool:
            if values[i] == p:
                out[i] = True
                break
    return out


@_jit
def invitable(src, dst, group, home_group, ever_member):
    """``src[k]`` for each tie k from a never-member to a member of their street's group
    (``Membership._invitable``), in tie order."""
    out = np.empty(len(src), dtype=np.int64)
    k = 0
    for t in range(len(src)):
        a = src[t]
        if not ever_member[a] and group[dst[t]] == home_group[a]:
            out[k] = a
            k += 1
    return out[:k]


# -- numpy's Philox4x64-10: a substream's first draws without making its generator (sim.streams) ---
_U64 = np.uint64
_PHILOX_M0, _PHILOX_M1 = _U64(0xD2E7470EE14C6C93), _U64(0xCA5A826395121157)   # multipliers
_PHILOX_W0, _PHILOX_W1 = _U64(0x9E3779B97F4A7C15), _U64(0xBB67AE8584CAA73B)   # key increments
_LOW32, _32, _11 = _U64(0xFFFFFFFF), _U64(32), _U64(11)


@_jit
def _mulhilo(a, b):
    """The high and low 64 bits of the 128-bit product a x b (from 32-bit halves)."""
    a_lo, a_hi, b_lo, b_hi = a & _LOW32, a >> _32, b & _LOW32, b >> _32
    lo_lo, hi_lo, lo_hi = a_lo * b_lo, a_hi * b_lo, a_lo * b_hi
    cross = (lo_lo >> _32) + (hi_lo & _LOW32) + lo_hi
    return a_hi * b_hi + (hi_lo >> _32) + (cross >> _32), (cross << _32) | (lo_lo & _LOW32)


@_jit
def _philox(k0, k1, counter):
    """The four 64-bit words of Philox4x64-10 at counter (``counter``, 0, 0, 0) under key (k0, k1)."""
    c0, c1, c2, c3 = _U64(counter), _U64(0), _U64(0), _U64(0)
    for r in range(10):
        if r > 0:
            k0 += _PHILOX_W0
            k1 += _PHILOX_W1
        hi0, lo0 = _mulhilo(_PHILOX_M0, c0)
        hi1, lo1 = _mulhilo(_PHILOX_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


@_jit
def _unit(word):
    """numpy's ``random()`` from a 64-bit word: its top 53 bits times 2^-53."""
    return (word >> _11) * (1.0 / 9007199254740992.0)


@_jit
def first_uniforms(seed, base_key, n):
    """The first ``random()`` of ``Generator(Philox(key=(seed, base_key | i)))`` at counter 0, for i
    in 0 .. n - 1: the first word at counter 1 (numpy counts up before it draws)."""
    out = np.empty(n)
    for i in range(n):
        out[i] = _unit(_philox(_U64(seed), _U64(base_key) | _U64(i), 1)[0])
    return out


@_jit
def uniforms(seed, key, rows, cols):
    """The first ``rows`` x ``cols`` ``random()`` of ``Generator(Philox(key=(seed, key)))`` at counter
    0, as ``random((rows, cols))`` has them: draw d is word d % 4 at counter d // 4 + 1."""
    n = rows * cols
    out = np.empty(n)
    for block in range((n + 3) // 4):
        words = _philox(_U64(seed), _U64(key), block + 1)
        for j in range(min(4, n - 4 * block)):
            out[4 * block + j] = _unit(words[j])
    return out.reshape((rows, cols))
