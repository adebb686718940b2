"""The workshop app without a browser: the drawing functions, the Workshop model and the page widgets."""

import math
from types import SimpleNamespace

import ipyvuetify as v
import numpy as np
import pytest
import solara

import pandas as pd
import yaml
from hydra import compose, initialize_config_dir

import workshop.app as app
from experiments import report, schema
from sim.outcomes import summarise
from sim.params import FIELDS
from test_experiments import run_cli, sweep_dirs
from workshop import render as r
from sim.chat import MESSAGE_KINDS
from sim.outcomes import HEADLINE, OUTCOME_NAMES
from sim.params import SCENARIOS


def message(**fields):
    """A chat message as the model contract describes it (sim.chat.Message duck type)."""
    defaults = dict(id=0, day=0, minute=600.0, author=12, role="resident", kind="signal", situation=None,
                    node=17, stigmatising=False, removed=False)
    return SimpleNamespace(**{**defaults, **fields})


# -- words and drawings --------------------------------------------------------------------
def test_every_headline_outcome_and_scenario_has_dutch_and_english_words():
    assert set(r.PLOTTED) == set(HEADLINE)
    for headline, names in r.PLOTTED.items():
        assert set(names) <= set(HEADLINE[headline]), "plots draw only that headline's own outcomes"
    for names in HEADLINE.values():
        for name in names:
            assert name in r.OUTCOME_WORDS, f"translate outcome {name!r} in workshop/render.py"
    assert set(r.OUTCOME_WORDS) <= set(OUTCOME_NAMES)
    assert set(SCENARIOS) <= set(r.SCENARIO_NAMES)


@pytest.mark.parametrize("lang", r.LANGUAGES)
@pytest.mark.parametrize("kind", MESSAGE_KINDS)
def test_every_message_kind_reads_as_chat_text(kind, lang):
    msg = message(id=3, kind=kind)
    text = r.message_text(msg, lang)
    assert text and "{" not in text and "?" not in text.split("nr.")[-1][:3]


def test_chat_marks_removed_and_stigmatising_messages():
    log = [message(id=0, minute=61.0, author=5, node=3, stigmatising=True, removed=True),
           message(id=1, minute=75.0, author=9, role="admin", kind="admin_warning", node=5),
           message(id=2, day=1, minute=80.0, author=-1, role="officer", kind="police_feedback", node=3)]
    markup = r.chat_html(log, "nl")
    assert markup.count('class="bs-msg') == 3
    assert "bs-is-removed" in markup and "verwijderd door beheerder" in markup
    assert "bs-is-stig" in markup and "stigmatiserend" in markup
    assert "dag 1" in markup and "dag 2" in markup and "01:01" in markup
    assert "Beheerder" in markup and "Wijkagent" in markup
    assert "removed by the admin" in r.chat_html(log, "en")
    assert "bs-empty" in r.chat_html([], "en")


def test_pseudonyms_are_stable_and_distinguish_households():
    names = {r.pseudonym(i, "resident", "nl") for i in range(200)}
    assert len(names) == 200
    assert r.pseudonym(7, "resident", "nl") == r.pseudonym(7, "admin", "en")


def test_map_draws_every_household_admins_officer_and_todays_situations():
    positions = {i: (i % 10, i // 10 * 3) for i in range(40)}
    member = np.arange(40) < 10
    today = [SimpleNamespace(node=4, offence=True, signalled=True, confronted=True, crowd=True),
             SimpleNamespace(node=30, offence=False, signalled=False, confronted=False, crowd=False)]
    xy = r.frame(positions)
    assert xy.min() == 0 and np.ptp(xy[:, 0]) >= np.ptp(xy[:, 1])  # landscape
    svg = r.map_svg(xy, member, np.linspace(0, 1, 40), [2], "fear", today, True)
    households = svg.split('<g class="bs-households">')[1].split("</g>")[0]
    assert households.count("<circle") == 39 and households.count("<rect") == 1  # the admin: a diamond
    assert svg.count("bs-admin-node") == 1 and svg.count("bs-situation") == 2
    assert "bs-confronted" in svg and 'fill="#1d4ed8"' in svg  # officer in the group: blue badge
    assert 'fill="#1d4ed8"' not in r.map_svg(xy, member, np.zeros(40), [], "alertness", [], False)


def test_plot_breaks_lines_where_a_share_is_undefined():
    series = [{"follow_up_share": v, "signals_without_follow_up_share": 0.5}
              for v in (0.2, math.nan, 0.4, 0.6)]
    svg = r.plot_svg("follow-up", [("baseline", series), ("officer_in_group", series)], "en")
    assert svg.count("<polyline") == 2 * (2 + 1)  # two arms x (one broken line in two + one whole)
    assert r.format_value(math.nan) == "–" and r.format_value(3.0) == "3"


# -- the Workshop model ----------------------------------------------------------------------
@pytest.mark.parametrize("text, seed", [("7", 7), (" 12 ", 12), (3, 3)])
def test_seed_text_becomes_an_integer(text, seed):
    assert app.parse_seed(text) == seed


@pytest.mark.parametrize("text", ["abc", "", "1.5", "-1", None])
def test_invalid_seed_is_a_message_not_a_crash(text):
    with pytest.raises(ValueError, match="seed"):
        app.parse_seed(text)
    w = app.Workshop(seed=text)
    assert w.error and "seed" in w.error and w.arms == [] and not w.running
    w.step()  # harmless


def test_invalid_case_and_parameter_are_messages():
    assert "no case named" in app.Workshop(case="atlantis").error
    assert "ambiguous_suspicion_prob" in app.Workshop(ambiguous_suspicion_prob=2.0).error
    assert "no slider for deterrence" in app.Workshop(deterrence=0.5).error


def test_compare_mode_runs_two_arrangements_on_the_same_situations():
    w = app.Workshop(arrangement="baseline", compare="officer_in_group", seed="5")
    assert [a.arrangement for a in w.arms] == ["baseline", "officer_in_group"]
    for _ in range(10):
        w.step()
    a, b = (arm.model for arm in w.arms)
    assert a.day == b.day == w.day == 10
    assert not a.params.officer_in_group and b.params.officer_in_group
    cols = ["day", "minute", "kind", "node", "minority"]
    assert a.situation_table()[cols].equals(b.situation_table()[cols])
    assert len(w.arms[0].recent) == 10 and set(w.arms[1].total) == set(OUTCOME_NAMES)


@pytest.mark.xdist_group("conf_case")  # reads conf/case/ while test_chat_import may add a case
def test_app_and_sweep_simulate_the_same_parameters_for_every_case_and_scenario(tmp_path):
    """A real sweep over every case x scenario (a runner that simulates nothing), against the app."""
    proc = run_cli("-m", "case=glob(*)", "scenario=glob(*)", "seed=0", "days=1", "compare=false",
                   "runner=experiments_fixtures.noise_runner", "hydra/launcher=basic", results=tmp_path)
    try:  # 50 Hydra jobs: about a minute, several on a machine that is busy
        _, err = proc.communicate(timeout=900)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, err
    runs = pd.read_parquet(sweep_dirs(tmp_path)[0] / "runs.parquet")
    assert len(runs) == len(app.cases()) * len(SCENARIOS) and set(runs["status"]) == {"ok"}
    for row in runs.itertuples():
        swept = {name: getattr(row, f"param_{name}") for name in FIELDS}
        assert app.build_params(row.scenario, row.case).to_dict() == swept, (row.case, row.scenario)


def test_a_moved_slider_is_a_command_line_override_and_an_unmoved_one_changes_nothing():
    moved = {"observe_prob": 0.33, "alertness_memory_days": 20.0}
    p = app.build_params("coverage_high", "lastage", app.moved_sliders({**moved, "fear_baseline": app.START.fear_baseline}))
    with initialize_config_dir(config_dir=str(app.CONF), version_base="1.3"):
        cfg = compose("config", overrides=["case=lastage", "scenario=coverage_high", "params.observe_prob=0.33",
                                           "params.alertness_memory_days=20.0"])
    assert p == schema.to_params(cfg) and p.observe_prob == 0.33 and p.coverage == SCENARIOS["coverage_high"]["coverage"]
    assert set(app.cases()) >= {"generic", "lastage"} and app.cases()[0] == "generic"


def test_sliders_are_the_sensitivity_rankings_first_parameters_over_its_ranges():
    ranking = yaml.safe_load((app.CONF / "sensitivity" / "top_parameters.yaml").read_text())["overall"]
    arranged = {k for v in SCENARIOS.values() for k in v}
    assert app.SLIDERS == [p["name"] for p in ranking if p["name"] not in arranged][:app.N_SLIDERS]
    for name in app.SLIDERS:
        slider = app.MODEL_PARAMS[name]
        assert (slider.min, slider.max) == tuple(app.BOUNDS[name]) and slider.value == getattr(app.START, name)
        assert slider.min <= slider.value <= slider.max


def test_next_incident_runs_on_to_a_day_with_a_signal():
    w = app.Workshop(seed="3")
    days = w.next_incident()
    assert w.day == days and w.arms[0].signalled_today()
    assert w.arms[0].model.day_table()["situations_signalled"].iloc[:-1].sum() == 0  # the first one
    assert len(w.arms[0].recent) == days


def test_one_year_and_its_summary_in_the_reports_words():
    w = app.Workshop(arrangement="baseline", compare="officer_in_group", seed="4")
    w.step()
    w.run_year()
    a, b = w.arms
    assert w.day == app.YEAR and len(a.recent) == app.YEAR and a.total == summarise(a.model.day_table())
    assert a.recent[-1]["follow_up_share"] == summarise(a.model.day_table().tail(30))["follow_up_share"]
    nl, en = w.summary("nl"), w.summary("en")
    assert nl[0].startswith("Na 365 dagen: het aandeel misdrijven dat gezien en gemeld wordt:")
    assert "per maand" in nl[0] and "a month" in en[0]
    assert en[-1].startswith("One simulated world") and any("under Officer in the group" in t for t in en)
    card = w.scorecard("en")
    effects = report.run_effects(a.total, b.total, "officer_in_group").set_index("outcome")
    for outcome in effects.index:
        assert f'data-outcome="{outcome}"' in card
    assert "✱" not in card  # one world: nothing is marked as holding
    assert app.Workshop().scorecard("nl") == ""


# -- the page, rendered without a browser ---------------------------------------------------------
@pytest.fixture
def page():
    app.language.set("nl")
    box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    yield rc
    rc.close()


def _texts(rc) -> str:
    return " ".join(str(w.children) for w in rc.find(v.Html).widgets)


def _markup(rc) -> str:
    return " ".join(w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets)


def _select(rc, label, value):
    rc.find(v.Select, label=label).widget.v_model = value


def test_next_incident_and_one_year_buttons(page):
    page.find(v.Btn, children=["Volgend incident"]).widget.click()
    assert "dag 0 ·" not in _texts(page) and "Na " in _markup(page)
    page.find(v.Btn, children=["Eén jaar"]).widget.click()
    assert "dag 365 ·" in _texts(page) and "Na 365 dagen" in _markup(page)


def test_step_advances_the_day_and_redraws(page):
    assert "dag 0" in _texts(page)
    step = page.find(v.Btn, children=["Step"]).widget
    for _ in range(3):
        step.click()
    assert "dag 3" in _texts(page)
    assert "bs-map" in _markup(page) and "bs-plot" in _markup(page)


def test_scenario_change_and_reset_change_the_model(page):
    _select(page, "Regeling A / Arrangement A", "officer_in_group")
    page.find(v.Btn, children=["Reset"]).widget.click()
    assert "Wijkagent in de groep" in _texts(page)
    _select(page, "Vergelijk met B / Compare with B", "no_admin")
    page.find(v.Btn, children=["Reset"]).widget.click()
    assert _texts(page).count("dag 0 ·") == 2 and "B: Geen beheerder" in _texts(page)
    assert 'table class="card"' in _markup(page) and "Scorecard tot nu toe" in _texts(page)


def test_invalid_seed_in_the_page_shows_a_message(page):
    seed = page.find(v.TextField, label="Seed").widget
    seed.v_model = "twelve"
    seed.fire_event("focusout", None)
    page.find(v.Btn, children=["Reset"]).widget.click()
    assert "Ongeldige invoer" in str([w.children for w in page.find(v.Alert).widgets])
    seed.v_model = "12"
    seed.fire_event("focusout", None)
    page.find(v.Btn, children=["Reset"]).widget.click()
    assert not page.find(v.Alert).widgets and "dag 0" in _texts(page)


def test_language_switch(page):
    app.language.set("en")
    assert "Baseline (officer outside the group)" in _texts(page) and "Group chat" in _texts(page)


def test_every_group_on_the_map_and_the_chat_of_the_group_picked(page):
    """Issue 10: the generic neighbourhood's groups are all drawn; the chat shown is the first
    group's until another is picked."""
    page.find(v.Btn, children=["Eén jaar"]).widget.click()
    markup = _markup(page)
    n_groups = 4   # 1,000 households at 25% coverage, groups of ~68
    assert all(f"bs-group-{g}" in markup for g in range(n_groups)) and "bs-group-4" not in markup
    assert "4 groepen" in _texts(page)
    picker = [b for b in page.find(v.Btn).widgets if str(b.children[0]).startswith("groep ")]
    assert len(picker) == n_groups   # one arrangement shown, its group picker

    def chat_box() -> str:
        return next(w.unsafe_innerHTML for w in page.find(solara.widgets.HTML).widgets
                    if w.unsafe_innerHTML.startswith('<div class="bs-chat"'))

    first = chat_box()
    toggle = next(t for t in page.find(v.BtnToggle).widgets if picker[0] in t.children)
    toggle.v_model = 2   # the third group
    assert chat_box() != first
    assert 'stroke="#334155"' in _markup(page)   # the picked group outlined on the map
