"""Scenario effects over the posterior: what a comparison under ``calibration=posterior`` adds.

Under ``calibration=posterior`` every seed runs under its own parameter draw (experiments/posterior.py),
the same for every scenario. The paired difference scenario - reference at one seed is then one draw
of the effect under both parameter and stochastic uncertainty. For every outcome and scenario this
module reports, over the seeds:

- the mean effect and the central 95% interval of the per-seed effects;
- P(sign): the share of draws whose effect has the sign of the mean (a zero effect does not count);
- a verdict: *robust* when P(sign) >= 0.95; **flips inside the posterior** when at least 5% of the
  draws have the opposite sign; *often zero* otherwise; *zero in every draw* when nothing changes;
- the parameters the effect depends on most: Spearman rank correlation of the per-seed effect with
  each parameter that varies across the draws (``param_*`` columns of the runs table).

Called by experiments/compare.py; writes ``posterior_effects.csv`` and ``posterior_effects.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

import sim

POSTERIOR = "posterior"
ROBUST = 0.95
HEADLINE_OF = {o.name: o.headline for o in sim.OUTCOMES}
DRIVERS = 3


def sign_probability(effects: np.ndarray) -> float:
    """Share of draws with the (non-zero) sign of the mean."""
    sign = np.sign(effects.mean())
    return float(np.mean(np.sign(effects) == sign)) if sign != 0 else 0.0


def verdict(effects: np.ndarray) -> str:
    if np.all(effects == 0):
        return "zero in every draw"
    if sign_probability(effects) >= ROBUST:
        return "robust"
    opposite = np.mean(np.sign(effects) == -np.sign(effects.mean()))
    return "flips inside the posterior" if opposite >= 1 - ROBUST else "often zero"


def drivers(effects: pd.Series, params: pd.DataFrame, top: int = DRIVERS) -> list[tuple[str, float]]:
    """The ``top`` parameters most rank-correlated with the effect across the draws."""
    out = []
    for name in params.columns:
        x = params[name].to_numpy(dtype=float)
        if np.ptp(x) == 0 or np.ptp(effects.to_numpy()) == 0:
            continue
        rho = spearmanr(x, effects.to_numpy()).statistic
        if np.isfinite(rho):
            out.append((name.removeprefix("param_"), float(rho)))
    return sorted(out, key=lambda p: -abs(p[1]))[:top]


COLUMNS = ("case", "days", "outcome", "headline", "scenario", "reference", "draws", "effect", "lo95", "hi95",
           "p_sign", "verdict", "drivers")


def effects(runs: pd.DataFrame, reference: str = "baseline") -> pd.DataFrame:
    """One row per (case, days, outcome, scenario): effect over the posterior draws (none, with the
    columns, where fewer than two seeds pair up)."""
    runs = runs[runs["calibration"] == POSTERIOR]
    param_cols = [c for c in runs.columns if c.startswith("param_")]
    rows = []
    for (case, days), group in runs.groupby(["case", "days"], sort=False):
        if reference not in set(group["scenario"]):
            continue
        ref = group[group["scenario"] == reference].set_index("seed")
        varying = [c for c in param_cols if pd.api.types.is_numeric_dtype(ref[c]) and ref[c].nunique() > 1]
        for scenario in [s for s in group["scenario"].unique() if s != reference]:
            other = group[group["scenario"] == scenario].set_index("seed")
            seeds = ref.index.intersection(other.index)
            for name in sim.OUTCOME_NAMES:
                d = (other.loc[seeds, name] - ref.loc[seeds, name]).dropna()
                if len(d) < 2:
                    continue
                x = d.to_numpy(dtype=float)
                p = sign_probability(x)
                top = drivers(d, ref.loc[d.index, varying])
                rows.append({"case": case, "days": days, "outcome": name,
                             "headline": HEADLINE_OF[name],
                             "scenario": scenario, "reference": reference, "draws": len(x),
                             "effect": float(x.mean()), "lo95": float(np.quantile(x, 0.025)),
                             "hi95": float(np.quantile(x, 0.975)), "p_sign": p,
                             "verdict": verdict(x),
                             "drivers": "; ".join(f"{n} ({r:+.2f})" for n, r in top)})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def markdown(table: pd.DataFrame) -> str:
    head = ["# Scenario effects over the posterior", "",
            "Each seed ran under its own parameter draw from the posterior (the same for every scenario). "
            "Effect: mean of the per-seed paired differences; 95%: central interval of those differences "
            "(parameter and stochastic uncertainty together); P(sign): share of draws with the sign shown. "
            f"*Robust*: that sign in at least {ROBUST:.0%} of the draws; **flips inside the posterior**: the "
            f"opposite sign in at least {1 - ROBUST:.0%}; *often zero*: neither. Drivers: parameters most "
            "rank-correlated (Spearman) with the effect across the draws."]
    if table.empty:
        return "\n".join(head + ["", "No posterior runs with a reference scenario."]) + "\n"
    parts = head
    for (case, days), t in table.groupby(["case", "days"], sort=False):
        flips = t[(t.verdict == "flips inside the posterior") & t.headline.notna()]
        parts += ["", f"## case {case}, {days} days, {int(t.draws.max())} draws", "",
                  f"Headline effects that flip inside the posterior: {len(flips)} of "
                  f"{int(t.headline.notna().sum())}."]
        for headline in sim.HEADLINE:
            h = t[t.headline == headline]
            if h.empty:
                continue
            parts += ["", f"### {headline}", "",
                      "| outcome | scenario | effect | 95% | P(sign) | verdict | drivers |", "|---|---|---|---|---|---|---|"]
            parts += [f"| {r.outcome} | {r.scenario} | {r.effect:+.3g} | [{r.lo95:.3g}, {r.hi95:.3g}] | "
                      f"{r.p_sign:.2f} | {'**' + r.verdict + '**' if r.verdict.startswith('flips') else r.verdict} | "
                      f"{r.drivers} |" for r in h.itertuples()]
    return "\n".join(parts) + "\n"


def write(table: pd.DataFrame, out: Path) -> str:
    """Write the effects table (``effects``) as posterior_effects.csv/.md into ``out``; return the Markdown."""
    table.to_csv(out / "posterior_effects.csv", index=False)
    text = markdown(table)
    (out / "posterior_effects.md").write_text(text)
    return text
