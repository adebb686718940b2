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

import numpy as np

PURPOSES = ("traits", "observe", "episode", "police", "chatter", "moderation", "membership", "direct")
_CODE = {name: (i + 1) << 48 for i, name in enumerate(PURPOSES)}   # the purpose above a 48-bit id


class Streams:
    """The substreams of one run with ``seed``."""

    def __init__(self, seed: int):
        self.seed = int(seed) & 0xFFFF_FFFF_FFFF_FFFF
        self._state = np.random.Philox(key=0).state   # a template (counter 0, buffer spent)
        self._key = self._state["state"]["key"]       # rekeyed in place: (seed, purpose | id)
        self._key[0] = self.seed
        self._pool: list[np.random.Generator] = []
        self._daily: dict[tuple[str, int], tuple[int, np.random.Generator]] = {}
        self._observe = self._new()

    @staticmethod
    def _new() -> np.random.Generator:
        return np.random.Generator(np.random.Philox(key=0))

    def _rekey(self, gen: np.random.Generator, purpose: str, key: int) -> np.random.Generator:
        """``gen`` at the start of substream (purpose, key); ``key``: 0 <= key < 2**48."""
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

    def daily(self, purpose: str, day: int, group: int = 0) -> np.random.Generator:
        """Day ``day``'s stream for ``purpose`` in ``group`` (rekeyed on its first use that day)."""
        got = self._daily.get((purpose, group))
        if got is not None and got[0] == day:
            return got[1]
        gen = self._rekey(got[1] if got is not None else self._new(), purpose, (day << 16) | group)
        self._daily[(purpose, group)] = (day, gen)
        return gen

