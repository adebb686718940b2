"""The workshop app: watch a neighbourhood and its WhatsApp group, or compare two arrangements.

Start it with ``solara run sim/app.py`` (see docs/app.md). Mesa's SolaraViz provides the sidebar
(play / step / reset, speed, the inputs below); the main area is drawn here from ``sim.app_render``.

Parameter values compose as in the experiments (conf/config.yaml): calibration → case → the
sliders you moved → scenario. Compare mode runs a second arrangement on the same seed, so the same
situations happen in both neighbourhoods.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import mesa
import solara
import solara.server.settings
import yaml
from mesa.visualization import Slider, SolaraViz
from mesa.visualization.utils import update_counter

from sim import app_render as r
from sim.model import NeighbourhoodWatch
from sim.outcomes import summarise
from sim.params import FIELDS, SCENARIOS, Params

logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs a line per step otherwise
solara.server.settings.telemetry.mixpanel_enable = False  # workshops are often offline

CONF = Path(__file__).resolve().parent.parent / "conf"
NO_COMPARE = "—"
WINDOW_DAYS = 30  # the live plots show the last month; the score table the whole run
# The parameters a facilitator can change (behaviour, not the arrangement); a slider left at its
# default leaves the calibrated or case value in place.
KEY_PARAMS = ("bias_mean", "ambiguous_suspicion_prob", "call_112_prob", "post_prob",
              "admin_availability", "deterrence")

language = solara.reactive("nl")
colour_by = solara.reactive("fear")


def conf_values(group: str, name: str) -> dict:
    """Parameter values in conf/<group>/<name>.yaml (a plain mapping; empty file = none)."""
    values = yaml.safe_load((CONF / group / f"{name}.yaml").read_text()) or {}
    if not isinstance(values, dict):
        raise ValueError(f"conf/{group}/{name}.yaml is not a mapping of parameter names to values")
    return values


def cases() -> list[str]:
    names = sorted(p.stem for p in (CONF / "case").glob("*.yaml"))
    return ["generic"] + [n for n in names if n != "generic"]


def calibration() -> str:
    """The calibration the experiments use by default (conf/config.yaml), or none."""
    try:
        defaults = yaml.safe_load((CONF / "config.yaml").read_text()).get("defaults", [])
    except FileNotFoundError:
        return "none"
    return next((d["calibration"] for d in defaults if isinstance(d, dict) and "calibration" in d), "none")


def parse_seed(text) -> int:
    """Mesa's seed input gives a string; accept a non-negative whole number only."""
    try:
        seed = int(str(text).strip())
    except ValueError:
        raise ValueError(f"seed {text!r} is not a whole number") from None
    if seed < 0:
        raise ValueError(f"seed {seed} must be 0 or more")
    return seed


def build_params(arrangement: str, case: str, overrides: dict) -> Params:
    values = {}
    for group, name in (("calibration", calibration()), ("case", case)):
        if (CONF / group / f"{name}.yaml").exists():
            values.update(conf_values(group, name))
        elif name not in ("none", "generic"):
            raise ValueError(f"no {group} named {name!r} in conf/{group}/")
    moved = {k: v for k, v in overrides.items() if v != FIELDS[k].default}
    return Params.preset(arrangement, **{**values, **moved})


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

    def step(self) -> None:
        self.model.step()
        days = self.model.day_table()
        self.recent.append(summarise(days.tail(WINDOW_DAYS)))
        self.total = summarise(days)


class Workshop(mesa.Model):
    """What the app runs: one arrangement, or two on the same seed side by side (compare mode).

    Invalid input does not raise: it leaves no arms and an ``error`` the page shows.
    """

    def __init__(self, arrangement: str = "baseline", compare: str = NO_COMPARE, case: str = "generic",
                 seed="42", bias_mean: float = FIELDS["bias_mean"].default,
                 ambiguous_suspicion_prob: float = FIELDS["ambiguous_suspicion_prob"].default,
                 call_112_prob: float = FIELDS["call_112_prob"].default,
                 post_prob: float = FIELDS["post_prob"].default,
                 admin_availability: float = FIELDS["admin_availability"].default,
                 deterrence: float = FIELDS["deterrence"].default):
        super().__init__()
        overrides = dict(bias_mean=bias_mean, ambiguous_suspicion_prob=ambiguous_suspicion_prob,
                         call_112_prob=call_112_prob, post_prob=post_prob,
                         admin_availability=admin_availability, deterrence=deterrence)
        self.case, self.arms, self.error = case, [], None
        try:
            self.seed = parse_seed(seed)
            names = [arrangement] + ([compare] if compare != NO_COMPARE else [])
            self.arms = [Arm(n, NeighbourhoodWatch(build_params(n, case, overrides), seed=self.seed))
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


def _slider(name: str, label: str) -> Slider:
    lo, hi = FIELDS[name].metadata["range"]
    return Slider(label, FIELDS[name].default, lo, hi, 0.01)


MODEL_PARAMS = {
    "arrangement": {"type": "Select", "value": "baseline", "values": list(SCENARIOS),
                    "label": "Regeling A / Arrangement A"},
    "compare": {"type": "Select", "value": NO_COMPARE, "values": [NO_COMPARE, *SCENARIOS],
                "label": "Vergelijk met B / Compare with B"},
    "case": {"type": "Select", "value": "generic", "values": cases(), "label": "Wijk / Case"},
    "seed": {"type": "InputText", "value": "42", "label": "Seed"},
    "bias_mean": _slider("bias_mean", "Vooroordeel / Bias"),
    "ambiguous_suspicion_prob": _slider("ambiguous_suspicion_prob", "Argwaan / Suspicion of innocents"),
    "call_112_prob": _slider("call_112_prob", "Belt 112 / Calls 112"),
    "post_prob": _slider("post_prob", "Post in app / Posts in app"),
    "admin_availability": _slider("admin_availability", "Beheerder beschikbaar / Admin available"),
    "deterrence": _slider("deterrence", "Afschrikking / Deterrence"),
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
    with solara.Card(classes=["bs-pane"], style={"border-top": f"5px solid {r.ARM_COLOURS[index]}"}):
        solara.Text(f"{'AB'[index]}: {r.scenario_name(arm.arrangement, lang)}",
                    style={"font-size": "18px", "font-weight": "700", "color": r.ARM_COLOURS[index]})
        solara.Text(f" {r.word('day', lang)} {day} · {r.word('case', lang)}: {case} · "
                    f"{len(res.member)} {r.word('households', lang)} · {int(res.member.sum())} "
                    f"{r.word('members', lang)}")
        with solara.Columns([3, 2]) if side_by_side else solara.Column():
            with solara.Column(gap="4px"):
                with solara.Div(style={"position": "relative", "height": "420px" if side_by_side else "340px"}):
                    _html(arm.background())
                    _html(r.map_svg(arm.xy, res.member, getattr(res, colour_by.value), arm.model.admin_nodes,
                                    colour_by.value, arm.model.today, p.officer_in_group))
                _html(r.map_legend(colour_by.value, p.officer_in_group, lang))
            with solara.Column(gap="4px"):
                solara.Text(r.word("chat", lang), style={"font-weight": "700"})
                _html(r.chat_html(arm.model.chat.log, lang), style="height:460px" if side_by_side else
                      "height:300px", classes=["bs-chat-box"])


@solara.component
def Main(model: solara.Reactive):
    update_counter.get()  # redraw after every step (Mesa's ModelController bumps it)
    lang, workshop = language.value, model.value
    solara.Style(r.CHAT_CSS)
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
