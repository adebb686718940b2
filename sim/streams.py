"""Random substreams that pair scenarios: one per (seed, purpose, situation or day).

Each random decision draws from a substream keyed by what it is about, not from a stream shared
with every other decision, so two scenarios run on one seed draw the same numbers for the same
decision whatever happened elsewhere (common random numbers). A substream is a Philox generator
whose 128-bit key is (seed, purpose, id): Philox is counter-based, and distinct keys give
independent streams.

Creating a generator costs ~25 µs (numpy draws OS entropy for a bit generator it then rekeys);
rekeying one in place costs about 1.5 scalar draws (``benchmarks/crn.py --cost``). So generators
are made once and rekeyed: a day's streams are rekeyed on their first use in a day,
a situation's streams come from a small pool and go back when its episode closes.

Purposes (docs/odd.md, "Random streams"):

- per run: ``traits`` (residents' trust, bias, fear baseline);
- per situation (id from the world, the same in every scenario): ``observe`` (who notices it, who
  finds it suspicious, what each does and when, who joins after a burglary), ``episode`` (its group
  traffic: reading, sightings, going out, replies, the admins' acts and relays), ``police`` (112's
  dispatch, response times, the officer reading and acting, arrests, feedback);
- per day (and group): ``chatter`` (off-topic posts: when, who, who reads), ``moderation`` (the
  admins' acts on chatter); per day: ``membership`` (leaving and joining through ties);
- ``direct``: the components' own generator, for calls from outside the model's schedule (tests,
  notebooks); the model itself always names the substream.
"""

from __future__ import annotations

import ctypes

import numpy as np

from .kernels import first_uniforms, uniforms

PURPOSES = ("traits", "observe", "episode", "police", "chatter", "moderation", "membership", "direct")
_CODE = {name: (i + 1) << 48 for i, name in enumerate(PURPOSES)}   # the purpose above a 48-bit id


class _PhiloxKey:
    """Rekeys one Philox generator by writing into numpy's ``philox_state`` C struct, whose layout
    (numpy/random/src/philox/philox.h) is: pointer to the counter (4 x uint64), pointer to the key
    (2 x uint64), ``int buffer_pos``, ``uint64 buffer[4]``, ``int has_uint32``, ``uint32 uinteger``.
    Setting the key, a zero counter, a spent buffer and no cached 32-bit half is exactly what the
    ``state`` setter does for a state with counter 0 (``Streams._rekey_slow``)."""

    __slots__ = ("gen", "_key", "_counter", "_flags")

    def __init__(self, gen: np.random.Generator):
        address = gen.bit_generator.ctypes.state_address
        counter_at, key_at = (ctypes.c_uint64 * 2).from_address(address)
        self.gen = gen
        # ctypes views (item assignment costs less than numpy's)
        self._counter = (ctypes.c_uint64 * 4).from_address(counter_at)
        self._key = (ctypes.c_uint64 * 2).from_address(key_at)
        self._flags = (ctypes.c_int32 * 11).from_address(address + 16)

    def set(self, seed: int, key: int) -> np.random.Generator:
        key_, counter, flags = self._key, self._counter, self._flags
        key_[0], key_[1] = seed, key
        counter[0] = counter[1] = counter[2] = counter[3] = 0
        flags[0] = 4    # buffer_pos: the buffer is spent (PHILOX_BUFFER_SIZE)
        flags[10] = 0   # has_uint32
        return self.gen


def _direct_rekey_works() -> bool:
    """Whether ``_PhiloxKey`` gives the ``state`` setter's streams in this numpy build, including
    after a generator was left mid-buffer with a cached 32-bit half."""
    template = np.random.Philox(key=0).state
    fast, slow = (np.random.Generator(np.random.Philox(key=0)) for _ in range(2))
    keyed = _PhiloxKey(fast)
    for seed, key in ((3, 5), (2**64 - 1, (7 << 48) | 12345), (0, 1)):
        for gen in (fast, slow):
            gen.random(3)
            gen.integers(0, 2**32, dtype=np.uint32)
        template["state"]["key"][:] = (seed, key)
        slow.bit_generator.state = template
        keyed.set(seed, key)
        draws = [(g.random(5).tolist(), g.integers(0, 2**32, size=3, dtype=np.uint32).tolist(), g.random())
                 for g in (fast, slow)]
        if draws[0] != draws[1] or fast.bit_generator.state["state"]["counter"].tolist() != \
                slow.bit_generator.state["state"]["counter"].tolist():
            return False
    return True


try:
    DIRECT_REKEY = _direct_rekey_works()
except (AttributeError, TypeError, ValueError):
    DIRECT_REKEY = False


def _philox_draws_work() -> bool:
    """Whether ``sim.kernels.first_uniforms`` and ``uniforms`` give numpy's draws in this numpy build
    (called as the streams call them: the seed as numpy's uint64, keys below 2^56 as ints)."""
    seed = np.uint64(2**63 + 12345)
    keys = [0, 1, (5 << 48) | (364 << 16) | 3, (8 << 48) | (2**48 - 1)]

    def numpy_draws(key, n):
        return np.random.Generator(np.random.Philox(key=np.array([seed, key], dtype=np.uint64))).random(n)
    first = first_uniforms(seed, 7 << 48, 5).tolist()
    blocks = [uniforms(seed, key, rows, cols) for key, (rows, cols) in zip(keys, ((1, 1), (1, 7), (8, 37), (3, 3)))]
    return first == [numpy_draws((7 << 48) | i, 1)[0] for i in range(5)] and all(
        b.tolist() == numpy_draws(k, b.size).reshape(b.shape).tolist() for k, b in zip(keys, blocks))


PHILOX_DRAWS = _philox_draws_work()


class Streams:
    """The substreams of one run with ``seed``."""

    def __init__(self, seed: int):
        self.seed = int(seed) & 0xFFFF_FFFF_FFFF_FFFF
        self._seed64 = np.uint64(self.seed)          # as the compiled draws take it
        self._state = np.random.Philox(key=0).state   # a template (counter 0, buffer spent)
        self._key = self._state["state"]["key"]       # rekeyed in place: (seed, purpose | id)
        self._key[0] = self.seed
        self._pool: list[np.random.Generator] = []
        self._daily: dict[tuple[str, int], tuple[int, np.random.Generator]] = {}
        self._direct: dict[int, _PhiloxKey] = {}     # id(generator) -> its direct rekeying
        self._observe = self._new()

    def _new(self) -> np.random.Generator:
        gen = np.random.Generator(np.random.Philox(key=0))
        if DIRECT_REKEY:
            self._direct[id(gen)] = _PhiloxKey(gen)
        return gen

    def _rekey(self, gen: np.random.Generator, purpose: str, key: int) -> np.random.Generator:
        """``gen`` at the start of substream (purpose, key); ``key``: 0 <= key < 2**48."""
        if DIRECT_REKEY:
            return self._direct[id(gen)].set(self.seed, _CODE[purpose] | key)
        return self._rekey_slow(gen, purpose, key)

    def _rekey_slow(self, gen: np.random.Generator, purpose: str, key: int) -> np.random.Generator:
        self._key[1] = _CODE[purpose] | key
        gen.bit_generator.state = self._state
        return gen

    def fresh(self, purpose: str, key: int = 0) -> np.random.Generator:
        """A generator of its own for (purpose, key); give it back with ``release``."""
        return self._rekey(self._pool.pop() if self._pool else self._new(), purpose, key)

    def release(self, *gens: np.random.Generator | None) -> None:
        self._pool.extend(g for g in gens if g is not None)

    def observe(self, situation: int) -> np.random.Generator:
        """Situation ``situation``'s observe stream (used at once: one generator, rekeyed)."""
        return self._rekey(self._observe, "observe", situation)

    def observe_draws(self, situation: int, rows: int, cols: int) -> np.ndarray:
        """The first ``rows`` x ``cols`` draws of ``observe(situation)`` (as ``random((rows, cols))``),
        computed from Philox without rekeying a generator (``sim.kernels.uniforms``) where this
        numpy build's Philox is reproduced."""
        if not PHILOX_DRAWS:
            return self.observe(situation).random((rows, cols))
        return uniforms(self._seed64, _CODE["observe"] | situation, rows, cols)

    def first_daily_uniforms(self, purpose: str, day: int, groups: int) -> list[float] | None:
        """The first ``random()`` that day ``day``'s stream for ``purpose`` would draw in each of
        groups 0 .. ``groups`` - 1, without making or rekeying a generator (computed from Philox,
        ``sim.kernels.first_uniforms``); None if this numpy build's Philox is not reproduced."""
        if not PHILOX_DRAWS:
            return None
        return first_uniforms(self._seed64, _CODE[purpose] | day << 16, groups).tolist()

    def daily(self, purpose: str, day: int, group: int = 0) -> np.random.Generator:
        """Day ``day``'s stream for ``purpose`` in ``group`` (rekeyed on its first use that day)."""
        got = self._daily.get((purpose, group))
        if got is not None and got[0] == day:
            return got[1]
        gen = self._rekey(got[1] if got is not None else self._new(), purpose, (day << 16) | group)
        self._daily[(purpose, group)] = (day, gen)
        return gen

