"""How well scenarios pair on a seed (common random numbers, issue 10).

For each outcome and each pair (baseline vs a scenario), over many seeds:

    ratio = var(B - A) / (var(A) + var(B))

about 1 when the two runs of a seed are independent, 0 when the scenario changes nothing that
matters for the outcome; a sweep's paired interval shrinks with sqrt(ratio). Targets (issue 10):
<= 0.05 for offences_signalled_share under officer_in_group (the officer cannot change what
residents notice), <= 0.4 for the others.

    python -m benchmarks.crn [--seeds 60] [--days 365]
    python -m benchmarks.crn --cost     # what the substreams cost (sim.streams)

Prints the ratios (or the costs); it asserts nothing.
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np

import sim
from sim import streams

OUTCOMES = ("police_reports", "fear_members", "offences_signalled_share", "stigmatising_messages_visible")
PAIRS = ("officer_in_group", "report_form")


def ratios(seeds: int, days: int) -> dict[str, dict[str, float]]:
    scenarios = ("baseline", *PAIRS)
    params = {name: sim.Params.preset(name) for name in scenarios}
    values = {name: {o: [] for o in OUTCOMES} for name in scenarios}
    for seed in range(seeds):
        for name in scenarios:
            summary = sim.run(params[name], seed=seed, days=days).summary
            for o in OUTCOMES:
                values[name][o].append(summary[o])
    out = {}
    for name in PAIRS:
        out[name] = {}
        for o in OUTCOMES:
            a, b = np.array(values["baseline"][o]), np.array(values[name][o])
            ok = np.isfinite(a) & np.isfinite(b)
            a, b = a[ok], b[ok]
            spread = a.var(ddof=1) + b.var(ddof=1)
            out[name][o] = float(np.var(b - a, ddof=1) / spread) if spread > 0 else float("nan")
        out[name]["_means"] = {o: (float(np.mean(values["baseline"][o])), float(np.mean(values[name][o])))
                               for o in OUTCOMES}
    return out


def _best(fn, number: int = 20_000) -> float:
    """Best time of one call in µs."""
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def costs(study_days: int = 3_100) -> None:
    """Creating a generator vs rekeying one (sim.streams), and the rekeys of a baseline year."""
    gen = np.random.default_rng(0)
    s = streams.Streams(1)
    pooled = s.fresh("episode", 1)
    timings = {
        "scalar draw (Generator.random())": _best(gen.random),
        "SeedSequence(seed, spawn_key=(purpose, id)) + default_rng": _best(
            lambda: np.random.default_rng(np.random.SeedSequence(1, spawn_key=(2, 12345)))),
        "Generator(Philox(key=...))": _best(lambda: np.random.Generator(np.random.Philox(key=12345))),
        "rekey a pooled Philox generator (sim.streams)": _best(lambda: s._rekey(pooled, "episode", 12345)),
        "rekey it through numpy's state setter": _best(lambda: s._rekey_slow(pooled, "episode", 12345)),
    }
    for what, us in timings.items():
        print(f"{what:62s} {us:7.2f} µs  ({us / timings['scalar draw (Generator.random())']:5.1f} draws)")
    counted = {"rekeys": 0}
    rekey = streams.Streams._rekey

    def counting(self, *args):
        counted["rekeys"] += 1
        return rekey(self, *args)

    streams.Streams._rekey = counting
    try:
        model = sim.NeighbourhoodWatch(sim.Params.preset(), seed=1, with_space=False)
        model.run_days(365)
    finally:
        streams.Streams._rekey = rekey
    per_day = counted["rekeys"] / 365
    us = timings["rekey a pooled Philox generator (sim.streams)"]
    print(f"baseline year: {counted['rekeys']} rekeys ({per_day:.2f} a day, {model.world.next_id} situations); "
          f"a study of {study_days:,} group-days: ~{per_day * study_days * us / 1000:.1f} ms of rekeying here")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=60)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--cost", action="store_true", help="time the substreams instead")
    args = ap.parse_args()
    if args.cost:
        costs()
        return
    result = ratios(args.seeds, args.days)
    print(f"var(paired diff) / (var(A) + var(B)), baseline vs scenario, {args.seeds} seeds x {args.days} days")
    print(f"{'outcome':34s}" + "".join(f"{name:>18s}" for name in PAIRS))
    for o in OUTCOMES:
        print(f"{o:34s}" + "".join(f"{result[name][o]:18.3f}" for name in PAIRS))
    print("means (baseline -> scenario):")
    for name in PAIRS:
        for o, (a, b) in result[name]["_means"].items():
            print(f"  {name:18s} {o:34s} {a:10.4g} -> {b:10.4g}")


if __name__ == "__main__":
    main()
