"""The decision maker's report of a sweep: ``report.html``, one self-contained page, Dutch and English.

From the top: a **scorecard** (scenarios × headline outcomes, each cell the effect against the
reference scenario in plain units, coloured and marked only where it holds after Holm's correction
for every comparison in the table), then per scenario a few **sentences** generated from the same
numbers and the **assumptions** that drive them (the sensitivity ranking, or the posterior when the
calibration is ``posterior``), then the full tables and figures for analysts.

Numbers come from ``experiments.compare`` (the paired differences of ``differences.csv``); this
module only decides what holds, words it and lays it out. The workshop app uses the same words
(:func:`scorecard_cells`, :func:`sentences`).

The scorecard's columns are data (:data:`COLUMNS`): an outcome that a sweep's runs do not have is
left out, so adding one is one line.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import yaml
from scipy.special import stdtr, stdtrit

from experiments.compare import GROUPS, SETTING, cell, scenario_order, setting_label
from sim.params import FIELDS
from workshop.render import scenario_name

LANGUAGES = ("nl", "en")
ALPHA = 0.05      # family-wise error rate of the scorecard (Holm)
MIN_EVENTS = 20   # fewer events than this in reference + scenario together: "too few events"
SIZES = (5, 20)   # |effect| in pp or % above which a cell is coloured medium / strong
RANKING = Path(__file__).resolve().parent.parent / "conf" / "sensitivity" / "top_parameters.yaml"


@dataclass(frozen=True)
class Column:
    """One scorecard column: an outcome, its question, unit and words.

    ``unit`` "pp": a share, its change in percentage points; "%": a count or rate, its change in
    percent of the reference level. ``events``: the per-day count (``sim.outcomes.COUNTS``) whose
    total decides whether there are enough events to say anything.
    """

    outcome: str
    question: str                  # a headline of sim.HEADLINE, or crime / cohesion / workload
    unit: str
    short: str                     # the text scorecard's column header
    name: tuple[str, str]          # (nl, en) column header
    subject: tuple[str, str]       # (nl, en) singular subject of a sentence
    events: str | None = None
    per: tuple[str, str] = ("", "")  # (nl, en) unit of a level, for a count or rate


COLUMNS: tuple[Column, ...] = (
    Column("offences_signalled_share", "alertness", "pp", "signalled", ("misdrijven gemeld", "offences signalled"),
           ("het aandeel misdrijven dat gezien en gemeld wordt", "the share of offences seen and signalled"),
           "offences"),
    Column("feels_unsafe_share", "fear", "pp", "unsafe", ("voelt zich onveilig", "feels unsafe"),
           ("het aandeel bewoners dat zich onveilig voelt", "the share of residents who feel unsafe")),
    Column("reports_per_month", "follow-up", "%", "reports", ("meldingen bij politie", "reports to police"),
           ("het aantal meldingen bij de politie", "the number of reports to the police"), "police_reports",
           ("per maand", "a month")),
    Column("follow_up_share", "follow-up", "pp", "followed", ("meldingen opgevolgd", "reports followed up"),
           ("het aandeel meldingen dat de politie opvolgt", "the share of reports the police follow up"),
           "police_reports"),
    Column("innocent_signal_share", "stigmatisation", "pp", "innocent",
           ("meldingen over onschuldigen", "signals about innocents"),
           ("het aandeel meldingen over onschuldige mensen", "the share of signals about innocent people"),
           "situations_signalled"),
    Column("wrongful_confrontations", "stigmatisation", "%", "confront",
           ("onschuldigen aangesproken", "innocents confronted"),
           ("het aantal onschuldigen dat door bewoners wordt aangesproken",
            "the number of innocent people confronted by residents"), "wrongful_confrontations"),
    Column("offences_per_1000", "crime", "%", "offences", ("misdrijven per 1000", "offences per 1000"),
           ("het aantal misdrijven", "the number of offences"), "offences",
           ("per 1000 huishoudens", "per 1,000 households")),
    Column("burglaries_per_1000", "crime", "%", "burglary", ("inbraken per 1000", "burglaries per 1000"),
           ("het aantal inbraken", "the number of burglaries"), "burglaries",
           ("per 1000 huishoudens", "per 1,000 households")),
    Column("ties_formed", "cohesion", "%", "ties", ("nieuwe sociale banden", "new social ties"),
           ("het aantal nieuwe banden tussen buren", "the number of new ties between neighbours"), "ties_formed"),
    Column("police_workload", "workload", "%", "workload", ("politie-acties per maand", "police actions/month"),
           ("het werk voor de politie", "the police's workload"), "follow_ups", ("acties per maand", "actions a month")),
    Column("reports_from_group_per_month", "workload", "%", "grp rep",
           ("meldingen uit de groep", "reports from the group"),
           ("het aantal meldingen uit de groep", "the number of reports from the group"), "police_reports",
           ("per maand", "a month")),
)

EVENTS = {c.events for c in COLUMNS if c.events}

WORDS = {
    "title": ("Wat levert elke regeling op?", "What does each arrangement change?"),
    "scenario": ("regeling", "arrangement"),
    "vs": ("vergeleken met", "compared with"),
    "seeds": ("runs per regeling (dezelfde gesimuleerde werelden in elke regeling)",
              "simulated runs per arrangement (the same worlds in every arrangement)"),
    "how": ("Elke cel: het verschil met <b>{ref}</b> en een 95%-interval. pp = procentpunt (bij "
            "aandelen), % = procent van het niveau bij {ref}. <b>Gekleurd en vet met ✱ alleen waar het "
            "effect standhoudt na Holm-correctie</b> voor alle {m} vergelijkingen in deze tabel (kans op "
            "één of meer valse bevindingen samen ≤ 5%); grijs = niet aantoonbaar. Blauw = hoger, oranje = "
            "lager; hoe donkerder, hoe groter. “te weinig” = te weinig gebeurtenissen om iets te zeggen.",
            "Each cell: the difference from <b>{ref}</b> with a 95% interval. pp = percentage points (for "
            "shares), % = percent of the level under {ref}. <b>Coloured, bold and marked ✱ only where the "
            "effect holds after Holm's correction</b> for all {m} comparisons in this table (chance of one "
            "or more false findings together ≤ 5%); grey = not detectable. Blue = higher, orange = lower; "
            "the darker, the larger. “too few” = too few events to say anything."),
    "too_few": ("te weinig", "too few"),
    "per_scenario": ("Per regeling", "Per arrangement"),
    "drivers": ("Dit hangt vooral af van deze aannames", "This depends mostly on these assumptions"),
    "drivers_src_sensitivity": ("volgens de gevoeligheidsanalyse (conf/sensitivity/top_parameters.yaml)",
                                "according to the sensitivity ranking (conf/sensitivity/top_parameters.yaml)"),
    "drivers_src_posterior": ("volgens de posterior van de kalibratie", "according to the calibration's posterior"),
    "analysts": ("Voor analisten: alle uitkomsten (Engelstalig)", "For analysts: every outcome"),
    "nothing": ("verandert niet aantoonbaar", "does not change detectably"),
    "nothing_many": ("veranderen niet aantoonbaar", "do not change detectably"),
    "none": ("Geen van de uitkomsten in de tabel verandert aantoonbaar.",
             "None of the outcomes in the table changes detectably."),
    "none_else": ("De andere {n} uitkomsten in de tabel veranderen niet aantoonbaar.",
                  "The other {n} outcomes in the table do not change detectably."),
    "setting": ("wijk {0}, kalibratie {1}, {2} dagen", "case {0}, calibration {1}, {2} days"),
    "and": ("en", "and"),
    "rises": ("stijgt met", "rises by"),
    "falls": ("daalt met", "falls by"),
    "to": ("tot", "to"),
    "few_events": ("voor {x} zijn er te weinig gebeurtenissen om iets te zeggen",
                   "for {x} there are too few events to tell"),
}


def word(key: str, lang: str) -> str:
    return WORDS[key][LANGUAGES.index(lang)]


def present(outcomes: Sequence[str]) -> list[Column]:
    """The declared columns whose outcome the runs have."""
    have = set(outcomes)
    return [c for c in COLUMNS if c.outcome in have]


# --- what holds ---------------------------------------------------------------------------------
def event_totals(sweep_dir: Path) -> pd.DataFrame | None:
    """Per setting and scenario, the total of every scorecard event count over its runs
    (from the sweep's ``days.parquet``), or None without that table."""
    path = sweep_dir / "days.parquet"
    if not path.exists():
        return None
    columns = [n for n in pq.read_schema(path).names if n in EVENTS]
    return count_events(pd.read_parquet(path, columns=[*SETTING, "scenario", *columns]))


def count_events(days: pd.DataFrame) -> pd.DataFrame:
    """Per setting and scenario, the total of every scorecard event count in a per-day table."""
    columns = [c for c in days.columns if c in EVENTS]
    return days.groupby([*SETTING, "scenario"])[columns].sum()


def p_values(difference, lo, hi, n) -> np.ndarray:
    """Two-sided p of each paired t-test, recovered from its 95% t-interval (compare.interval)."""
    difference, lo, hi, n = (np.asarray(v, dtype=float) for v in (difference, lo, hi, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = np.where(n >= 2, n - 1, np.nan)
        se = (hi - lo) / 2 / stdtrit(dof, 0.975)
        p = 2 * stdtr(dof, -np.abs(difference) / se)
    zero_spread = (hi == lo) & np.isfinite(difference) & (n >= 2)   # the same value in every seed
    return np.where(zero_spread, np.where(difference == 0, 1.0, 0.0), p)


def scorecard(means: pd.DataFrame, diffs: pd.DataFrame, events: pd.DataFrame | None = None,
              alpha: float = ALPHA) -> pd.DataFrame:
    """One row per setting, scenario and present column: the effect in plain units, its interval,
    whether there are enough events, and whether it holds after Holm's correction over the cells
    of its setting (one family per setting: every scenario x column with enough events)."""
    from statsmodels.stats.multitest import multipletests  # slow to import; the app does not need it
    cols = {c.outcome: c for c in present(diffs["outcome"].unique())} if len(diffs) else {}
    d = diffs[diffs["outcome"].isin(cols) & (diffs["scenario"] != diffs["reference"])]
    ref = means.rename(columns={"scenario": "reference", "mean": "reference_mean"})
    d = d.merge(ref[[*SETTING, "reference", "outcome", "reference_mean"]], how="left",
                on=[*SETTING, "reference", "outcome"])
    d = d.join(means.groupby(SETTING)["n"].max().rename("n_seeds"), on=SETTING)
    d["unit"] = d["outcome"].map({o: c.unit for o, c in cols.items()})
    scale = np.where(d["unit"] == "pp", 100.0, 100.0 / d["reference_mean"].where(d["reference_mean"] > 0))
    for src, dst in (("difference", "effect"), ("lo", "effect_lo"), ("hi", "effect_hi")):
        d[dst] = d[src] * scale
    d["events"] = _events(d, events, cols)
    d["too_few"] = ((d["n_pairs"] < 2) | (d["n_pairs"] < 0.5 * d["n_seeds"]) | ~np.isfinite(d["effect"]) |
                    (d["events"] < MIN_EVENTS))
    d["p"] = p_values(d["difference"], d["lo"], d["hi"], d["n_pairs"])
    p_holm, holds = np.full(len(d), np.nan), np.zeros(len(d), dtype=bool)
    testable = (~d["too_few"] & d["p"].notna()).to_numpy()
    for rows in d.groupby(SETTING, sort=False).indices.values():
        rows = rows[testable[rows]]
        if len(rows):
            holds[rows], p_holm[rows], *_ = multipletests(d["p"].to_numpy()[rows], alpha=alpha, method="holm")
    return d.assign(p_holm=p_holm, holds=holds)


def _events(d: pd.DataFrame, events: pd.DataFrame | None, cols: dict[str, Column]) -> np.ndarray:
    """Per scorecard row, the events behind it in scenario and reference together (inf: unknown)."""
    total = np.full(len(d), np.inf)
    if events is None:
        return total
    for i, r in enumerate(d[[*SETTING, "scenario", "reference", "outcome"]].itertuples(index=False)):
        name = cols[r.outcome].events
        if name in events.columns:
            key = tuple(r)[:len(SETTING)]
            total[i] = sum(float(events[name].get((*key, s), 0.0)) for s in (r.scenario, r.reference))
    return total


# --- words --------------------------------------------------------------------------------------
def number(x: float, lang: str) -> str:
    text = f"{abs(x):.0f}" if abs(x) >= 10 else f"{abs(x):.1f}" if abs(x) >= 1 else f"{abs(x):.2f}"
    return text.replace(".", ",") if lang == "nl" else text


def signed(x: float, lang: str) -> str:
    return ("+" if x >= 0 else "−") + number(x, lang)


def cell_parts(row, lang: str) -> tuple[str, str]:
    """A scorecard cell as shown: the effect in plain units (✱ where it holds) and its interval."""
    if row.too_few:
        return word("too_few", lang), ""
    unit = " pp" if row.unit == "pp" else "%"
    return (f"{signed(row.effect, lang)}{unit}{' ✱' if row.holds else ''}",
            f"[{signed(row.effect_lo, lang)}, {signed(row.effect_hi, lang)}]")


def cell_text(row, lang: str) -> str:
    return " ".join(p for p in cell_parts(row, lang) if p)


def change(row, lang: str) -> str:
    """'rises by 13% [5% to 21%]' for an effect that holds."""
    unit = " pp" if row.unit == "pp" else "%"
    verb = word("rises" if row.effect > 0 else "falls", lang)
    near, far = sorted((abs(row.effect_lo), abs(row.effect_hi)))
    return (f"{verb} {number(row.effect, lang)}{unit} [{number(near, lang)}{unit} {word('to', lang)} "
            f"{number(far, lang)}{unit}]")


def _join(items: list[str], lang: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word('and', lang)} {items[-1]}"


def sentences(rows: pd.DataFrame, lang: str) -> list[str]:
    """Plain sentences for one scenario's scorecard rows: what changes, what does not, what is too rare."""
    subject = {c.outcome: c.subject[LANGUAGES.index(lang)] for c in COLUMNS}
    out = [f"{subject[r.outcome][0].upper()}{subject[r.outcome][1:]} {change(r, lang)}."
           for r in rows.itertuples() if r.holds]
    flat = [subject[r.outcome] for r in rows.itertuples() if not r.holds and not r.too_few]
    if len(flat) > 3:
        out.append(word("none_else" if out else "none", lang).format(n=len(flat)))
    elif flat:
        text = _join(flat, lang)
        out.append(f"{text[0].upper()}{text[1:]} {word('nothing' if len(flat) == 1 else 'nothing_many', lang)}.")
    rare = [subject[r.outcome] for r in rows.itertuples() if r.too_few]
    if rare:
        text = word("few_events", lang).format(x=_join(rare, lang))
        out.append(f"{text[0].upper()}{text[1:]}.")
    return out


# --- one pair of runs (the workshop app) ----------------------------------------------------------
def run_effects(reference: dict[str, float], other: dict[str, float], scenario: str = "B") -> pd.DataFrame:
    """Scorecard rows for one world seen under two arrangements (the app's compare mode): each present
    column's change in the scorecard's units. One world has no interval, so nothing is marked as
    holding; whether it does, a sweep over many seeds tells."""
    rows = []
    for c in present([o for o in reference if o in other]):
        a, b = reference[c.outcome], other[c.outcome]
        scale = 100.0 if c.unit == "pp" else (100.0 / a if a and a > 0 else np.nan)
        effect = (b - a) * scale
        rows.append({"scenario": scenario, "outcome": c.outcome, "unit": c.unit, "difference": b - a,
                     "lo": np.nan, "hi": np.nan, "effect": effect, "effect_lo": np.nan, "effect_hi": np.nan,
                     "too_few": not np.isfinite(effect), "holds": False})
    return pd.DataFrame(rows, columns=["scenario", "outcome", "unit", "difference", "lo", "hi", "effect",
                                       "effect_lo", "effect_hi", "too_few", "holds"])


def level_sentences(summary: dict[str, float], days: int, lang: str) -> list[str]:
    """What one run shows after ``days`` days, column by column, in the scorecard's words."""
    i = LANGUAGES.index(lang)
    parts = []
    for c in present(summary):
        v = summary[c.outcome]
        if not np.isfinite(v):
            continue
        value = f"{number(100 * v, lang)}%" if c.unit == "pp" else f"{number(v, lang)} {c.per[i]}".strip()
        parts.append(f"{c.subject[i]}: {value}")
    head = {"nl": f"Na {days} dagen", "en": f"After {days} days"}[lang]
    return [f"{head}: " + "; ".join(parts) + "."] if parts else []


def pair_sentences(rows: pd.DataFrame, a: str, b: str, lang: str) -> list[str]:
    """Compare mode in plain words: how B differs from A in this one world."""
    i = LANGUAGES.index(lang)
    subject = {c.outcome: c.subject[i] for c in COLUMNS}
    out = []
    for r in rows.itertuples():
        if r.too_few or float(number(r.effect, "en")) == 0:
            continue
        unit = " pp" if r.unit == "pp" else "%"
        verb = {"nl": ("is", "hoger", "lager", "bij"), "en": ("is", "higher", "lower", "under")}[lang]
        text = (f"{subject[r.outcome]} {verb[0]} {number(r.effect, lang)}{unit} "
                f"{verb[1] if r.effect > 0 else verb[2]} {verb[3]} {b}")
        out.append(text[0].upper() + text[1:] + ".")
    note = {"nl": f"Eén gesimuleerde wereld, {a} als vergelijking: of een verschil standhoudt, zegt pas "
                  f"het rapport over veel seeds.",
            "en": f"One simulated world, compared with {a}: whether a difference holds only the report over "
                  f"many seeds can tell."}[lang]
    return out + [note]


# --- what drives it ------------------------------------------------------------------------------
def drivers(calibration: str, questions: Sequence[str], outcomes: Sequence[str] = (),
            posterior: pd.DataFrame | None = None, top: int = 3) -> tuple[list[str], str]:
    """The parameters that drive the given questions most, and where that ranking comes from.

    With ``calibration=posterior`` the effects over the posterior draws answer
    (``experiments.posterior_effects.effects``: its ``drivers`` column, the parameters whose draws
    correlate most with each outcome's effect); otherwise the sensitivity ranking does: per
    headline, or overall for crime, cohesion and workload.
    """
    if calibration == "posterior" and posterior is not None and len(posterior):
        rows = posterior[posterior["outcome"].isin(outcomes)]
        names = [part.split(" (")[0] for text in rows["drivers"].dropna()
                 for part in str(text).split("; ")[:top] if part]
        return list(dict.fromkeys(n for n in names if n in FIELDS)), "posterior"
    ranking = yaml.safe_load(RANKING.read_text()) if RANKING.exists() else {}
    names = []
    for q in questions:
        entry = (ranking.get("by_headline") or {}).get(q)
        ranked = entry["parameters"] if entry else ranking.get("overall") or []
        names += [p["name"] for p in ranked[:top]]
    return list(dict.fromkeys(n for n in names if n in FIELDS)), "sensitivity"


# --- the page -----------------------------------------------------------------------------------
CARD_CSS = """
table.card{border-collapse:collapse;font-size:13px}.card td,.card th{padding:4px 7px;border:1px solid #ddd;text-align:right}
.card th{background:#f3f4f6;vertical-align:bottom}.card td:first-child,.card th:first-child{text-align:left}
.card td.c{white-space:nowrap;color:#6b7280}.card small{font-weight:400;font-size:11px}
.card td:first-child{min-width:150px}.card td.holds{font-weight:700;color:#111}
.card td.few{color:#9ca3af;font-style:italic;background:#fafafa}
.up1{background:#dbeafe}.up2{background:#93c5fd}.up3{background:#3b82f6;color:#fff!important}
.down1{background:#ffedd5}.down2{background:#fdba74}.down3{background:#f97316;color:#fff!important}
"""  # the scorecard table; the workshop app uses it too
CSS = CARD_CSS + """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:1200px;
  padding:12px 20px;color:#111;line-height:1.4}
h1{font-size:24px;margin:8px 0}h2{font-size:19px;margin-top:26px}h3{font-size:16px;margin:14px 0 4px}
.lang{position:fixed;top:8px;right:16px;background:#fff;border:1px solid #ccc;border-radius:6px;padding:2px}
.lang label{cursor:pointer;padding:2px 8px;font-weight:600}
#lang-nl:checked~.lang label[for=lang-nl],#lang-en:checked~.lang label[for=lang-en]{background:#1d4ed8;color:#fff;border-radius:4px}
input[name=lang]{display:none}
#lang-nl:checked~.en,#lang-en:checked~.nl{display:none}
table{border-collapse:collapse;font-size:13px}td,th{padding:4px 7px;border:1px solid #ddd;text-align:right}
th{background:#f3f4f6;vertical-align:bottom}td:first-child,th:first-child{text-align:left}
.note{font-size:13px;color:#374151;max-width:900px}.drivers{font-size:13px;color:#374151}
.analysts table{font-size:11px}.analysts img{max-width:100%;border:1px solid #eee;margin:6px 0}
"""


def _size_class(row) -> str:
    if row.too_few:
        return "c few"
    if not row.holds:
        return "c"
    size = 1 + sum(abs(row.effect) >= s for s in SIZES)
    return f"c holds {'up' if row.effect > 0 else 'down'}{size}"


def scorecard_table(card: pd.DataFrame, scenarios: Sequence[str], lang: str) -> str:
    cols = [c for c in COLUMNS if c.outcome in set(card["outcome"])]
    i = LANGUAGES.index(lang)
    head = "".join(f"<th>{html.escape(c.name[i])}<br><small>{'pp' if c.unit == 'pp' else '%'}</small></th>"
                   for c in cols)
    rows = [f'<table class="card"><tr><th>{word("scenario", lang)}</th>{head}</tr>']
    at = {(r.scenario, r.outcome): r for r in card.itertuples()}
    for s in scenarios:
        cells = []
        for c in cols:
            row = at.get((s, c.outcome))
            if row is None:
                cells.append("<td></td>")
                continue
            cells.append(f'<td class="{_size_class(row)}" data-scenario="{html.escape(s)}" '
                         f'data-outcome="{c.outcome}" data-difference="{row.difference!r}" '
                         f'data-lo="{row.lo!r}" data-hi="{row.hi!r}" data-holds="{str(row.holds).lower()}">'
                         "{}<br><small>{}</small></td>".format(*map(html.escape, cell_parts(row, lang))))
        rows.append(f"<tr><td>{html.escape(scenario_name(s, lang))}</td>{''.join(cells)}</tr>")
    return "".join(rows) + "</table>"


def _language_block(card: pd.DataFrame, settings: list[tuple], scenarios: dict, reference: str,
                    n_seeds: dict, precision_note: str, lang: str,
                    posterior: pd.DataFrame | None = None) -> str:
    ref = html.escape(scenario_name(reference, lang))
    parts = [f'<div class="{lang}" lang="{lang}"><h1>{word("title", lang)}</h1>']
    if precision_note:
        parts.append(f'<p class="note">{html.escape(precision_note)}</p>')
    for key in settings:
        c = card[(card[SETTING] == pd.Series(key, index=SETTING)).all(axis=1)]
        m = int((~c["too_few"]).sum())
        parts.append(f"<h2>{html.escape(word('setting', lang).format(*key))}: {word('vs', lang)} {ref}, "
                     f"{n_seeds[key]} {word('seeds', lang)}</h2>")
        parts.append(f'<p class="note">{word("how", lang).format(ref=ref, m=m)}</p>')
        parts.append(scorecard_table(c, scenarios[key], lang))
        parts.append(f"<h2>{word('per_scenario', lang)}</h2>")
        for s in scenarios[key]:
            rows = c[c["scenario"] == s]
            holding = [col.question for col in COLUMNS if col.outcome in set(rows[rows["holds"]]["outcome"])]
            outcomes = list(rows[rows["holds"]]["outcome"]) or list(rows["outcome"])
            names, source = drivers(key[1], holding or [col.question for col in present(rows["outcome"])],
                                    outcomes, None if posterior is None else posterior[
                                        (posterior["scenario"] == s) & (posterior["case"] == key[0])])
            names = names[:5]
            driver_list = "; ".join(f"<b>{n}</b>: {html.escape(FIELDS[n].metadata['doc'])} "
                                    f"<i>({html.escape(FIELDS[n].metadata['source'])})</i>" for n in names)
            parts.append(f"<h3>{html.escape(scenario_name(s, lang))}</h3><p>"
                         + " ".join(html.escape(t) for t in sentences(rows, lang)) + "</p>"
                         f'<p class="drivers">{word("drivers", lang)} '
                         f"({word('drivers_src_' + source, lang)}): {driver_list}</p>")
    return "".join(parts) + "</div>"


def _analysts(means: pd.DataFrame, diffs: pd.DataFrame, reference: str, figures: Sequence[Path]) -> str:
    parts = [f'<div class="analysts"><h2>{word("analysts", "nl")} / {word("analysts", "en")}</h2>',
             f"<p class='note'>Paired differences scenario − {reference} over the seeds both ran, with "
             "ordinary 95% t-intervals per cell (not corrected for multiplicity); the reference row gives "
             "levels. Also in comparison/differences.csv and means.csv.</p>"]
    for key, m in means.groupby(SETTING, sort=False):
        d = diffs[(diffs[SETTING] == pd.Series(key, index=SETTING)).all(axis=1)] if len(diffs) else diffs
        parts.append(f"<h3>{html.escape(setting_label(key))}</h3>")
        mi, di = m.set_index(["scenario", "outcome"]), d.set_index(["scenario", "outcome"])
        for group, names in GROUPS.items():
            rows = []
            for s in scenario_order(m["scenario"].unique(), reference):
                if s == reference:
                    vals = [cell(*mi.loc[(s, n), ["mean", "lo", "hi"]]) for n in names]
                    rows.append([f"{s} (mean)", *vals])
                elif (s, names[0]) in di.index:
                    rows.append([f"{s} − {reference}",
                                 *[cell(*di.loc[(s, n), ["difference", "lo", "hi"]], signed=True) for n in names]])
            parts.append(f"<p><b>{html.escape(group)}</b></p>" +
                         pd.DataFrame(rows, columns=["scenario", *names]).to_html(index=False, border=0))
    for fig in figures:
        data = base64.b64encode(fig.read_bytes()).decode()
        parts.append(f'<img alt="{html.escape(fig.stem)}" src="data:image/png;base64,{data}">')
    return "".join(parts) + "</div>"


def render(card: pd.DataFrame, means: pd.DataFrame, diffs: pd.DataFrame, reference: str,
           figures: Sequence[Path] = (), precision_note: tuple[str, str] = ("", ""),
           posterior: pd.DataFrame | None = None) -> str:
    """The whole page: a CSS-only language switch (no script), both languages, the analysts' part."""
    settings = [tuple(k) for k in means[SETTING].drop_duplicates().itertuples(index=False)]
    scenarios, n_seeds = {}, {}
    for key in settings:
        m = means[(means[SETTING] == pd.Series(key, index=SETTING)).all(axis=1)]
        scenarios[key] = [s for s in scenario_order(m["scenario"].unique(), reference) if s != reference]
        n_seeds[key] = int(m["n"].max())
    blocks = "".join(_language_block(card, settings, scenarios, reference, n_seeds, note, lang, posterior)
                     for lang, note in zip(LANGUAGES, precision_note))
    return ("<!DOCTYPE html><html lang='nl'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>buurtsim: {html.escape(reference)}</title><style>{CSS}</style></head><body>"
            "<input type='radio' name='lang' id='lang-nl' checked><input type='radio' name='lang' id='lang-en'>"
            "<div class='lang'><label for='lang-nl'>NL</label><label for='lang-en'>EN</label></div>"
            f"{blocks}{_analysts(means, diffs, reference, figures)}</body></html>")


# --- the text scorecard (end of the main job) ----------------------------------------------------
def text_scorecard(card: pd.DataFrame, means: pd.DataFrame, reference: str) -> str:
    """About a dozen lines per setting: scenarios × columns, ✱ where it holds after Holm."""
    lines = []
    for key, c in card.groupby(SETTING, sort=False):
        cols = [col for col in COLUMNS if col.outcome in set(c["outcome"])]
        n = int(means[(means[SETTING] == pd.Series(key, index=SETTING)).all(axis=1)]["n"].max())
        lines.append(f"Scorecard, {setting_label(key)}, {n} seeds: effect vs {reference} "
                     f"(pp = percentage points, % = of the {reference} level); * = holds after Holm "
                     f"correction over {int((~c['too_few']).sum())} comparisons; 'few' = too few events")
        lines.append(f"{'':20s}" + "".join(f"{col.short:>10s}" for col in cols))
        at = {(r.scenario, r.outcome): r for r in c.itertuples()}
        for s in scenario_order(c["scenario"].unique(), reference):
            cells = []
            for col in cols:
                r = at.get((s, col.outcome))
                text = "" if r is None else "few " if r.too_few else \
                    f"{r.effect:+.1f}{'pp' if r.unit == 'pp' else '%'}{'*' if r.holds else ' '}"
                cells.append(text.rjust(10))
            lines.append(f"{s[:20]:20s}" + "".join(cells))
    return "\n".join(lines)


def report_path(sweep: Path, reference: str) -> Path:
    return sweep / ("report.html" if reference == "baseline" else f"report_vs_{reference}.html")


def precision_note(sweep: Path) -> tuple[str, str]:
    """What ``seeds=auto`` decided, in both languages (empty without it)."""
    from experiments import precision
    return precision.note(sweep)


def write(sweep: Path, out: Path, means: pd.DataFrame, diffs: pd.DataFrame, reference: str,
          posterior: pd.DataFrame | None = None) -> str:
    """Write the sweep's report and ``scorecard.csv``; return the text scorecard and the path.
    ``posterior``: the effects over the posterior draws (``calibration=posterior``), if any."""
    card = scorecard(means, diffs, event_totals(sweep))
    card.to_csv(out / "scorecard.csv", index=False)
    figures = [out / f"{g}.png" for g in ("alertness", "fear", "follow-up", "stigmatisation", "overview")]
    figures = [f for f in figures if f.exists()] or sorted(out.glob("*.png"))
    path = report_path(sweep, reference)
    page = render(card, means, diffs, reference, figures, precision_note(sweep), posterior)
    from experiments.store import atomic_write
    atomic_write(path, lambda p: p.write_text(page, encoding="utf-8"))
    return f"{text_scorecard(card, means, reference)}\nreport: {path}\ntables: {out}"
