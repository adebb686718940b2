"""The workshop app: watch a neighbourhood and its WhatsApp group, or compare two arrangements.

Start it with ``solara run workshop/app.py`` (see docs/app.md). Mesa's SolaraViz provides the sidebar
(play / step / reset, speed, the inputs below); the main area is drawn here from ``workshop.render``.

Parameters are composed by Hydra from ``conf/`` exactly as a sweep composes them (calibration →
case → scenario → the sliders you moved, as ``params.<name>=`` overrides), so the app and a sweep with
the same choices simulate the same parameters. The sliders are the parameters that matter most
according to the sensitivity ranking (conf/sensitivity/top_parameters.yaml), over the ranges that
analysis varied. Compare mode runs a second arrangement on the same seed, so the same situations
happen in both neighbourhoods, and shows the report's scorecard of B against A so far.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import mesa
import solara
import solara.server.settings
import yaml
from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from mesa.visualization import Slider, SolaraViz
from mesa.visualization.utils import force_update, update_counter
from omegaconf.errors import OmegaConfBaseException

from experiments import report, schema, sensitivity
from sim.model import NeighbourhoodWatch
from sim.outcomes import OUTCOMES, summarise
from sim.params import FIELDS, SCENARIOS, Params
from workshop import render as r

logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs a line per step otherwise
solara.server.settings.telemetry.mixpanel_enable = False  # workshops are often offline

CONF = Path(__file__).resolve().parent.parent / "conf"
NO_COMPARE = "—"
WINDOW_DAYS = 30    # the live plots show the last month; the score table the whole run
YEAR = 365          # the facilitator's "one year" button
INCIDENT_SEARCH_DAYS = 90  # "next incident" gives up after this many quiet days
N_SLIDERS = 6
COMPUTE = {o.name: o.compute for o in OUTCOMES}
PLOTTED = sorted({name for names in r.PLOTTED.values() for name in names})

language = solara.reactive("nl")
colour_by = solara.reactive("fear")


def cases() -> list[str]:
    names = sorted(p.stem for p in (CONF / "case").glob("*.yaml"))
    return ["generic"] + [n for n in names if n != "generic"]


def parse_seed(text) -> int:
    """Mesa's seed input gives a string; accept a non-negative whole number only."""
    try:
        seed = int(str(text).strip())
    except ValueError:
        raise ValueError(f"seed {text!r} is not a whole number") from None
    if seed < 0:
        raise ValueError(f"seed {seed} must be 0 or more")
    return seed


def _override(name: str, value) -> str:
    return f"params.{name}={int(round(value)) if FIELDS[name].type in ('int', int) else float(value)}"


def build_params(arrangement: str, case: str, moved: dict | None = None) -> Params:
    """The parameters a sweep would run with ``case=<case> scenario=<arrangement>
    params.<name>=<value>...``: the same Hydra composition of conf/ and the same validation."""
    if case not in cases():
        raise ValueError(f"no case named {case!r} in conf/case/")
    if arrangement not in SCENARIOS:
        raise ValueError(f"no scenario named {arrangement!r} in conf/scenario/")
    overrides = [f"case={case}", f"scenario={arrangement}",
                 *(_override(k, v) for k, v in (moved or {}).items())]
    try:
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            cfg = compose("config", overrides=overrides)
    except (HydraException, OmegaConfBaseException) as e:
        raise ValueError(str(e).splitlines()[0]) from None
    return schema.to_params(cfg)


def slider_names(n: int = N_SLIDERS) -> list[str]:
    """The ``n`` parameters the sensitivity ranking puts first overall, leaving out those an
    arrangement sets (they are what compare mode compares)."""
    ranking = yaml.safe_load((CONF / "sensitivity" / "top_parameters.yaml").read_text())
    arranged = {k for values in SCENARIOS.values() for k in values}
    return [p["name"] for p in ranking["overall"] if p["name"] not in arranged][:n]


SLIDERS = slider_names()
START = build_params("baseline", "generic")     # the slider positions: the calibrated generic case
BOUNDS = dict(zip(SLIDERS, sensitivity.problem(START, SLIDERS)["bounds"]))


def moved_sliders(values: dict) -> dict:
    """The sliders moved from their start; an unmoved slider keeps the case's or calibration's value."""
    return {k: v for k, v in values.items() if abs(v - getattr(START, k)) > 1e-12}


@dataclass
class Arm:
    """One arrangement being watched: its model, cached drawing and outcome history."""

    arrangement: str
    model: NeighbourhoodWatch
    recent: list[dict] = field(default_factory=list)  # per day: outcomes over the last WINDOW_DAYS
    total: dict = field(default_factory=dict)          # outcomes over the whole run so far

    def __post_init__(self):
        self.xy = r.frame(self.model.positions)
        self.streets = r.edge_path(self.xy, self.model.graph, "sight")
        self._background = (-1, "")

    def background(self) -> str:
        """Streets and social ties; redrawn only when a tie has formed."""
        edges = self.model.graph.number_of_edges()
        if self._background[0] != edges:
            ties = r.edge_path(self.xy, self.model.graph, "social")
            self._background = (edges, r.map_background(self.xy, self.streets, ties))
        return self._background[1]

    def step(self, days: int = 1) -> None:
        """Run ``days`` days; the plots get each day's last-month values, the table the whole run."""
        for _ in range(days):
            self.model.step()
        table = self.model.day_table()
        for end in range(len(table) - days + 1, len(table) + 1):
            window = table.iloc[max(0, end - WINDOW_DAYS):end]
            self.recent.append({name: COMPUTE[name](window) for name in PLOTTED})
        self.total = summarise(table)

    def signalled_today(self) -> bool:
        return any(s.signalled for s in self.model.today)


class Workshop(mesa.Model):
    """What the app runs: one arrangement, or two on the same seed side by side (compare mode).

    Invalid input does not raise: it leaves no arms and an ``error`` the page shows.
    """

    def __init__(self, arrangement: str = "baseline", compare: str = NO_COMPARE, case: str = "generic",
                 seed="42", scenario=None, **sliders: float):
        super().__init__(scenario=scenario)  # Mesa's own scenario object, which SolaraViz passes back
        self.case, self.arms, self.error = case, [], None
        try:
            unknown = set(sliders) - set(SLIDERS)
            if unknown:
                raise ValueError(f"no slider for {', '.join(sorted(unknown))}")
            self.seed = parse_seed(seed)
            names = [arrangement] + ([compare] if compare != NO_COMPARE else [])
            moved = moved_sliders(sliders)
            self.arms = [Arm(n, NeighbourhoodWatch(build_params(n, case, moved), seed=self.seed))
                         for n in names]
        except (ValueError, OSError, yaml.YAMLError) as e:
            self.error = str(e)
        self.running = self.error is None

    @property
    def day(self) -> int:
        return self.arms[0].model.day if self.arms else 0

    def step(self) -> None:
        for arm in self.arms:
            arm.step()

    def next_incident(self, limit: int = INCIDENT_SEARCH_DAYS) -> int:
        """Run on to the next day on which something is signalled in any arm; return the days run."""
        for n in range(1, limit + 1):
            self.step()
            if any(arm.signalled_today() for arm in self.arms):
                return n
        return limit

    def run_year(self) -> None:
        """Run on to the end of the first year (365 days), quickly (the plots are filled in at once)."""
        days = YEAR - self.day
        if days > 0:
            for arm in self.arms:
                arm.step(days)

    def summary(self, lang: str) -> list[str]:
        """The run so far in the report's words: levels, and in compare mode B against A."""
        if not self.arms:
            return []
        a = self.arms[0]
        lines = report.level_sentences(a.total, self.day, lang)
        if len(self.arms) > 1:
            b = self.arms[1]
            lines += report.pair_sentences(report.run_effects(a.total, b.total),
                                           r.scenario_name(a.arrangement, lang), r.scenario_name(b.arrangement, lang),
                                           lang)
        return lines

    def scorecard(self, lang: str) -> str:
        """Compare mode: the report's scorecard row of B against A over the run so far."""
        if len(self.arms) < 2:
            return ""
        a, b = self.arms
        return report.scorecard_table(report.run_effects(a.total, b.total, b.arrangement), [b.arrangement], lang)


def _slider(name: str) -> Slider:
    lo, hi = BOUNDS[name]
    integer = FIELDS[name].type in ("int", int)
    step = 1 if integer else round((hi - lo) / 100, 4) or 0.0001
    return Slider(r.parameter_label(name), getattr(START, name), lo, hi, step, dtype=int if integer else float)


MODEL_PARAMS = {
    "arrangement": {"type": "Select", "value": "baseline", "values": list(SCENARIOS),
                    "label": "Regeling A / Arrangement A"},
    "compare": {"type": "Select", "value": NO_COMPARE, "values": [NO_COMPARE, *SCENARIOS],
                "label": "Vergelijk met B / Compare with B"},
    "case": {"type": "Select", "value": "generic", "values": cases(), "label": "Wijk / Case"},
    "seed": {"type": "InputText", "value": "42", "label": "Seed"},
    **{name: _slider(name) for name in SLIDERS},
}


# -- the page ---------------------------------------------------------------------------------
@solara.component
def Switches():
    lang = language.value
    with solara.Row(style={"align-items": "center"}):
        with solara.ToggleButtonsSingle(value=colour_by):
            solara.Button(r.word("colour_fear", lang), value="fear", text=True)
            solara.Button(r.word("colour_alertness", lang), value="alertness", text=True)
        with solara.ToggleButtonsSingle(value=language):
            for lang_code in r.LANGUAGES:
                solara.Button(lang_code.upper(), value=lang_code, text=True)


def _html(markup: str, style: str = "", classes: list[str] | None = None):
    return solara.HTML(tag="div", unsafe_innerHTML=markup, style=style, classes=classes or [])


@solara.component
def ArmPane(arm: Arm, index: int, day: int, case: str, side_by_side: bool):
    """One arrangement: its street map and, beside or below it, its group chat."""
    lang, res, p = language.value, arm.model.residents, arm.model.params
    groups = arm.model.groups
    chosen, set_chosen = solara.use_state(0)   # whose chat to read: the first group by default
    chosen = min(chosen, len(groups) - 1)
    with solara.Card(classes=["bs-pane"], style={"border-top": f"5px solid {r.ARM_COLOURS[index]}"}):
        solara.Text(f"{'AB'[index]}: {r.scenario_name(arm.arrangement, lang)}",
                    style={"font-size": "18px", "font-weight": "700", "color": r.ARM_COLOURS[index]})
        solara.Text(f" {r.word('day', lang)} {day} · {r.word('case', lang)}: {case} · "
                    f"{len(res.member)} {r.word('households', lang)} · {int(res.member.sum())} "
                    f"{r.word('members', lang)} · {len(groups)} {r.word('groups', lang)}")
        with solara.Columns([3, 2]) if side_by_side else solara.Column():
            with solara.Column(gap="4px"):
                with solara.Div(style={"position": "relative", "height": "420px" if side_by_side else "340px"}):
                    _html(arm.background())
                    _html(r.map_svg(arm.xy, res.member, getattr(res, colour_by.value), arm.model.admin_nodes,
                                    colour_by.value, arm.model.today, p.officer_in_group,
                                    arm.model.hood.home_group, chosen))
                _html(r.map_legend(colour_by.value, p.officer_in_group, lang))
            with solara.Column(gap="4px"):
                with solara.Row(style={"align-items": "center"}):
                    solara.Text(r.word("chat", lang), style={"font-weight": "700"})
                    if len(groups) > 1:
                        with solara.ToggleButtonsSingle(value=chosen, on_value=set_chosen,
                                                        classes=["bs-group-picker"]):
                            for g in groups:
                                solara.Button(f"{r.word('group', lang)} {g.index + 1} ({len(g.members)})",
                                              value=g.index, text=True)
                _html(r.chat_html(groups[chosen].log, lang), style="height:460px" if side_by_side else
                      "height:300px", classes=["bs-chat-box"])


@solara.component
def Main(model: solara.Reactive):
    update_counter.get()  # redraw after every step (Mesa's ModelController bumps it)
    lang, workshop = language.value, model.value
    solara.Style(r.CHAT_CSS + report.CARD_CSS)
    if workshop.error:
        solara.Error(f"{r.word('invalid', lang)}: {workshop.error}. {r.word('press_reset', lang)}",
                     classes=["bs-error"])
        return
    arms = workshop.arms
    with solara.Columns([1] * len(arms)):
        for i, arm in enumerate(arms):
            ArmPane(arm, i, arm.model.day, workshop.case, side_by_side=len(arms) == 1)  # its own day
    if len(arms) > 1:
        solara.Text(r.word("same_seed", lang), style={"font-style": "italic"})
    with solara.Row():
        solara.Button(r.word("next_incident", lang), on_click=lambda: (workshop.next_incident(), force_update()),
                      classes=["bs-next-incident"])
        solara.Button(r.word("one_year", lang), on_click=lambda: (workshop.run_year(), force_update()),
                      classes=["bs-one-year"], disabled=workshop.day >= YEAR)
    with solara.Card(r.word("summary", lang)):
        _html("".join(f"<p>{r.html.escape(t)}</p>" for t in workshop.summary(lang)), classes=["bs-summary"])
    if len(arms) > 1:
        with solara.Card(r.word("scorecard", lang)):
            _html(workshop.scorecard(lang), classes=["bs-scorecard"])
    series = [(a.arrangement, a.recent) for a in arms]
    with solara.Card(r.word("last_30", lang)):
        with solara.Columns([1, 1, 1, 1]):
            for headline in r.PLOTTED:
                _html(r.plot_svg(headline, series, lang))
    with solara.Card(r.word("so_far", lang)):
        _html(r.score_table([f"{'AB'[i]}: {r.scenario_name(a.arrangement, lang)}" for i, a in enumerate(arms)],
                            [a.total for a in arms], lang))


@solara.component
def Page():
    model = solara.use_reactive(solara.use_memo(Workshop, []))
    with solara.AppBar():
        Switches()
    SolaraViz(model, components=[], model_params=MODEL_PARAMS, name=r.word("title", language.value),
              play_interval=300)
    Main(model)
