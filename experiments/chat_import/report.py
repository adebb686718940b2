"""The import's report: the export's statistics beside the fitted model's posterior predictive spread.

Writes only derived numbers (no text, no pseudonyms): ``report.md``, ``statistics.json``,
``posterior.csv``, ``predictive_check.csv`` and ``predictive_check.png`` (beside pyabc's ``history.db``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from experiments.chat_import import calibrate
from experiments.chat_import.calibrate import CaseFit, FitSettings
from experiments.chat_import.statistics import FITTED

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the non-interactive backend)


def _md(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    rows = [[f"{v:.3g}" if isinstance(v, float) else str(v) for v in r] for r in df.itertuples(index=False)]
    return "\n".join(["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)] +
                     ["| " + " | ".join(r) + " |" for r in rows])


def write(out: Path, name: str, stats: dict, fit: CaseFit, settings: FitSettings, case_file: Path) -> None:
    (out / "statistics.json").write_text(json.dumps(stats, indent=1, default=float))
    fit.posterior.to_csv(out / "posterior.csv", index=False)
    fit.predictive.to_csv(out / "predictive_check.csv", index=False)
    _plot(out / "predictive_check.png", fit)
    kinds = pd.DataFrame([{"kind": k, "messages": n} for k, n in stats["messages_by_kind"].items()])
    members = pd.DataFrame([{"month": m, "members": n} for m, n in stats["members_by_month"].items()])
    hours = pd.DataFrame([{"hour": h, "share": s} for h, s in enumerate(stats["hour_profile"])])
    fitted = fit.predictive[fit.predictive.fitted]
    lines = [
        f"# Chat import: case `{name}`",
        "",
        f"Case preset written to `{case_file}`. The export was read in memory and pseudonymised; no names, "
        "phone numbers or message text are in any output (docs/chat_import.md).",
        "",
        "## The export",
        "",
        f"- window: {stats['start_month']} to {stats['end_month']}, {stats['window_days']:.0f} days",
        f"- messages: {stats['messages']} (system lines and media not counted: {stats['not_messages']})",
        f"- members: {stats['members_start']} at the start, {stats['members_end']} at the end; "
        f"{stats['authors']} posted; {stats['admins']} admin(s) (who add or remove members, or post house rules)",
        f"- messages per month {stats['messages_per_month']:.3g}; off-topic share {stats['offtopic_share']:.3g}; "
        f"signals per month {stats['signals_per_month']:.3g}; share of signals with \"112 called\" "
        f"{stats['saar_share']:.3g}; replies per signal {stats['replies_per_signal']:.3g}",
        f"- admin: answers {stats['admin_response_share']:.3g} of the chatter, median reaction "
        f"{stats['admin_reaction_minutes']:.3g} min; {stats['removals']} removals",
        "",
        _md(kinds),
        "",
        "Members at the end of each month (counted back from the members at the end with the join, leave and "
        "removal lines):",
        "",
        _md(members),
        "",
        "Hour-of-day profile (share of messages):",
        "",
        _md(hours),
        "",
        "## Fit",
        "",
        f"ABC-SMC (pyabc), population {settings.population}, {fit.generations} generations, {fit.simulations} "
        f"model runs of {fit.days} days ({fit.stop_reason}), final epsilon {fit.epsilon:.3g}; the six-case "
        "calibration's ABC-SMC (experiments.calibrate.abc_smc), history in `history.db`. Everything the chat "
        f"cannot tell is drawn per run from the six-case posterior sample `{calibrate.sample_name(fit.sample)}` "
        f"({calibrate.sample_provenance(fit.sample)}). Group size set, not fitted: "
        f"n_households = {fit.start.n_households}.",
        "",
        "Width ratio = posterior 95% interval / prior 95% interval (log scale for log-uniform priors).",
        "",
        _md(fit.table),
        "",
        "## Posterior predictive check",
        "",
        f"{settings.predictive_runs} runs with parameters drawn from the posterior. A statistic is *met* when "
        "the export's value lies in the central 90% of the simulated values.",
        "",
        f"- fitted statistics met: {int(fitted.met.sum())} of {len(fitted)}"
        + (f"; **not met: {', '.join(fitted[~fitted.met].statistic)}**" if (~fitted.met).any() else ""),
        "",
        _md(fit.predictive),
        "",
        "![predictive check](predictive_check.png)",
        "",
    ]
    (out / "report.md").write_text("\n".join(lines))


def _plot(path: Path, fit: CaseFit) -> None:
    stats = list(fit.predictive.statistic)
    cols = 4
    fig, axes = plt.subplots(math.ceil(len(stats) / cols), cols, figsize=(4 * cols, 2.5 * math.ceil(len(stats) / cols)))
    for ax, r in zip(axes.flat, fit.predictive.itertuples()):
        x = fit.predictive_runs[r.statistic].to_numpy(dtype=float)
        x = x[~np.isnan(x)]
        if len(x):
            ax.hist(x, bins=20, color="tab:blue", alpha=0.7, label="posterior predictive")
        ax.axvline(r.observed, color="tab:red", lw=2, label="export")
        ax.set_title(f"{r.statistic}{' (fitted)' if r.statistic in FITTED else ''}: "
                     f"{'met' if r.met else 'NOT met'}", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(stats):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
