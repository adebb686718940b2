"""The group's own statistics, computed the same way from an export and from a model run.

Both sources are first turned into a text-free ``GroupLog`` (posts with author and kind, membership
changes, the window): ``classify.group_log`` for an export, ``from_model`` for a simulation. Then
``describe`` computes every statistic from the log alone, so the calibration compares like with like.

A *signal* is a first report (kinds ``signal`` and ``saar``); *chatter* is ``reply`` and ``offtopic``
(as in ``sim.chat.CHATTER_KINDS``). The admin *responds* to chatter when a warning or removal follows a
non-admin's chatter within a day; the reaction time is the time from that chatter to the response.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import numpy as np

from experiments.chat_import.classify import Change, GroupLog, Post
from sim.chat import CHATTER_KINDS, MESSAGE_KINDS
from sim.outcomes import DAYS_PER_MONTH

RESPONSE_WINDOW = timedelta(days=1)
NO_REACTION = -1.0      # reaction time when the admin never responded (keeps the distance defined)

# Statistics the case is fitted to, each with the chat parameter(s) it mainly informs.
FITTED = {
    "signals_per_month": ("post_prob", "situation_rate_multiplier"),
    "saar_share": ("call_112_prob",),
    "replies_per_signal": ("reply_prob",),
    "offtopic_per_member_month": ("offtopic_rate",),
    "admin_response_share": ("admin_availability",),
    "admin_reaction_minutes": ("admin_delay_minutes",),
}
MODEL_START = datetime(2000, 1, 3)   # a Monday: model time 0 as a calendar date


def describe(log: GroupLog) -> dict:
    """Every statistic of the group (numbers and small tables only; no text, no pseudonyms)."""
    days = max((log.end - log.start).total_seconds() / 86400, 1e-9)
    months = days / DAYS_PER_MONTH
    kinds = Counter(p.kind for p in log.posts)
    messages = sum(n for k, n in kinds.items() if k != "admin_removal")
    signals = kinds["signal"] + kinds["saar"]
    members = _members_over_time(log)
    member_months = float(np.mean(list(members.values()))) * months if members else 0.0
    reactions = _admin_reactions(log)
    chatter = [p for p in log.posts if p.kind in CHATTER_KINDS and p.author not in log.admins]
    hours = Counter(p.time.hour for p in log.posts if p.kind != "admin_removal")
    return {
        "window_days": round(days, 2),
        "start_month": log.start.strftime("%Y-%m"),
        "end_month": log.end.strftime("%Y-%m"),
        "messages": messages,
        "messages_by_kind": {k: int(kinds[k]) for k in MESSAGE_KINDS},
        "not_messages": dict(sorted(log.skipped.items())),
        "authors": len({p.author for p in log.posts if p.kind != "admin_removal"}),
        "admins": len(log.admins),
        "members_start": _members_start(log),
        "members_end": log.members_end,
        "members_by_month": members,
        "messages_per_month": messages / months,
        "offtopic_share": kinds["offtopic"] / messages if messages else float("nan"),
        "signals_per_month": signals / months,
        "saar_share": kinds["saar"] / signals if signals else float("nan"),
        "sightings_per_signal": kinds["sighting"] / signals if signals else float("nan"),
        "replies_per_signal": kinds["reply"] / signals if signals else float("nan"),
        "offtopic_per_member_month": kinds["offtopic"] / member_months if member_months else float("nan"),
        "admin_response_share": len(reactions) / len(chatter) if chatter else float("nan"),
        "admin_reaction_minutes": float(np.median(reactions)) if reactions else NO_REACTION,
        "removals": kinds["admin_removal"],
        "removals_per_month": kinds["admin_removal"] / months,
        "closings_per_signal": kinds["closing"] / signals if signals else float("nan"),
        "feedback_per_signal": kinds["police_feedback"] / signals if signals else float("nan"),
        "hour_profile": [hours[h] / messages if messages else 0.0 for h in range(24)],
    }


def fitted_vector(stats: dict) -> dict[str, float]:
    """The statistics the case is fitted to (NaN as 0: no signals, no chatter)."""
    return {k: float(np.nan_to_num(stats[k])) for k in FITTED}


DELTA = {"joined": 1, "left": -1, "removed": -1}


def _members_start(log: GroupLog) -> int:
    """Members at the start: those at the end, less who joined, plus who left or was removed."""
    return log.members_end - sum(DELTA[c.change] for c in log.changes)


def _members_over_time(log: GroupLog) -> dict[str, int]:
    """Members at the end of each calendar month, counted back from the members at the end."""
    changes = sorted(log.changes, key=lambda c: c.time)
    n = _members_start(log)
    out, i = {}, 0
    month = datetime(log.start.year, log.start.month, 1)
    while month <= log.end:
        nxt = datetime(month.year + month.month // 12, month.month % 12 + 1, 1)
        while i < len(changes) and changes[i].time < nxt:
            n += DELTA[changes[i].change]
            i += 1
        out[month.strftime("%Y-%m")] = n
        month = nxt
    return out


def _admin_reactions(log: GroupLog) -> list[float]:
    """Minutes from a non-admin's chatter to the admin warning or removal that answers it."""
    out, pending = [], []
    for p in sorted(log.posts, key=lambda p: p.time):
        if p.kind in CHATTER_KINDS and p.author not in log.admins:
            pending.append(p.time)
        elif p.kind in ("admin_warning", "admin_removal") and pending:
            t0 = pending.pop()      # the latest unanswered chatter
            if p.time - t0 <= RESPONSE_WINDOW:
                out.append((p.time - t0).total_seconds() / 60)
            pending = [t for t in pending if p.time - t <= RESPONSE_WINDOW]
    return out


def from_model(model, days: int) -> GroupLog:
    """A model run's chat as a ``GroupLog`` (model time 0 = ``MODEL_START``)."""
    def when(minutes: float) -> datetime:
        return MODEL_START + timedelta(minutes=float(minutes))

    def who(node: int) -> str:
        return "police" if node < 0 else f"household_{node}"

    posts, changes = [], []
    for m in sorted(model.chat.log, key=lambda m: m.time):
        if m.time >= days * 1440:
            continue
        posts.append(Post(when(m.time), who(m.author), m.kind))
        if m.kind == "admin_removal":
            changes.append(Change(when(m.time), who(m.node), "removed"))
    admins = frozenset(who(a) for a in model.admin_nodes)
    return GroupLog(MODEL_START, when(days * 1440), tuple(posts), tuple(changes), admins,
                    int(model.residents.member.sum()), Counter())
