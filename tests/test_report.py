"""The decision maker's report: its numbers, its multiplicity control, seeds=auto, and the page in Chromium."""

from __future__ import annotations

import gc
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import stdtrit

import sim
from experiments import compare, precision, report, store
from experiments_fixtures import NOISE_SD
from test_experiments import cli, sweep_dirs

SCORED = tuple(c.outcome for c in report.present(sim.OUTCOME_NAMES))
SHOTS = Path(__file__).resolve().parent.parent / "results" / "screenshots"


def synthetic_runs(rng, scenarios=tuple(sim.SCENARIOS), seeds=30, effects=None, names=sim.OUTCOME_NAMES):
    """Runs of a made-up sweep: each outcome independent normal noise per scenario and seed around a
    level (shares 0.5, others 100), plus ``effects[(scenario, outcome)]`` in the outcome's units."""
    effects = effects or {}
    rows = []
    for scenario in scenarios:
        for seed in range(seeds):
            values = {n: (0.5 + NOISE_SD * rng.standard_normal()) if n.endswith("_share")
                      else 100 + 2 * rng.standard_normal() for n in names}
            values = {n: v + effects.get((scenario, n), 0.0) for n, v in values.items()}
            rows.append({"case": "generic", "calibration": "calibrated", "days": 365, "scenario": scenario,
                         "seed": seed, "status": "ok", **values})
    return pd.DataFrame(rows)


def card_of(runs, reference="baseline"):
    return report.scorecard(compare.scenario_means(runs), compare.paired_differences(runs, reference))


# --- what holds -----------------------------------------------------------------------------
def test_columns_are_declared_once_with_words_in_both_languages():
    assert len({c.outcome for c in report.COLUMNS}) == len(report.COLUMNS)
    assert {"reports_per_month", "follow_up_share", "feels_unsafe_share", "police_workload"} <= set(SCORED)
    for c in report.COLUMNS:
        assert c.unit in ("pp", "%") and all(c.name) and all(c.subject)
        assert c.events is None or c.events in sim.outcomes.COUNTS or c.outcome not in SCORED
    assert report.present(["reports_per_month", "not_an_outcome"]) == [
        c for c in report.COLUMNS if c.outcome == "reports_per_month"]


def test_effects_in_plain_units_and_marked_only_where_they_hold():
    rng = np.random.default_rng(1)
    runs = synthetic_runs(rng, ("baseline", "officer_in_group", "no_admin"),
                          effects={("officer_in_group", "reports_per_month"): 13.0,
                                   ("officer_in_group", "follow_up_share"): -0.05})
    card = card_of(runs).set_index(["scenario", "outcome"])
    up = card.loc[("officer_in_group", "reports_per_month")]
    assert up["holds"] and up["unit"] == "%" and up["effect"] == pytest.approx(13, abs=2.5)
    assert up["effect"] == pytest.approx(100 * up["difference"] / up["reference_mean"])
    down = card.loc[("officer_in_group", "follow_up_share")]
    assert down["holds"] and down["unit"] == "pp" and down["effect"] == pytest.approx(-5, abs=1.5)
    assert not card.drop([("officer_in_group", "reports_per_month"),
                          ("officer_in_group", "follow_up_share")])["holds"].any()
    nl = " ".join(report.sentences(card_of(runs).query("scenario == 'officer_in_group'"), "nl"))
    en = " ".join(report.sentences(card_of(runs).query("scenario == 'officer_in_group'"), "en"))
    others = len(SCORED) - 2  # every scorecard column but the two effects
    assert "Het aantal meldingen bij de politie stijgt met 1" in nl and f"De andere {others} uitkomsten" in nl
    assert "The number of reports to the police rises by 1" in en and "do not change detectably" in en
    assert f"follow up falls by {report.number(down['effect'], 'en')} pp [" in en


def test_too_few_events_instead_of_noise(tmp_path):
    rng = np.random.default_rng(2)
    runs = synthetic_runs(rng, ("baseline", "officer_in_group"), seeds=10)
    events = pd.DataFrame({"wrongful_confrontations": [3, 4], "police_reports": [500, 520]},
                          index=pd.MultiIndex.from_tuples(
                              [("generic", "calibrated", 365, s) for s in ("baseline", "officer_in_group")],
                              names=[*compare.SETTING, "scenario"]))
    card = report.scorecard(compare.scenario_means(runs), compare.paired_differences(runs), events)
    card = card.set_index("outcome")
    assert card.loc["wrongful_confrontations", "too_few"] and not card.loc["wrongful_confrontations", "holds"]
    assert not card.loc["reports_per_month", "too_few"]
    assert report.cell_text(card.loc[["wrongful_confrontations"]].reset_index().iloc[0], "nl") == "te weinig"
    assert "too few events" in " ".join(report.sentences(card.reset_index(), "en"))


def null_tables(rng, sweeps: int, scenarios=tuple(sim.SCENARIOS), seeds=30, names=SCORED):
    """``sweeps`` made-up sweeps with no effect anywhere (independent normal noise per sweep, scenario,
    outcome and seed), as the tables ``compare`` makes of them: one setting (``days``) per sweep.
    Returns (means, differences, the runs of the first sweep)."""
    sd = np.array([NOISE_SD if n.endswith("_share") else 2.0 for n in names])
    level = np.array([0.5 if n.endswith("_share") else 100.0 for n in names])
    x = level[:, None] + sd[:, None] * rng.standard_normal((sweeps, len(scenarios), len(names), seeds))
    t = stdtrit(seeds - 1, 0.975)

    def table(values, what):
        mean, spread = values.mean(-1), values.std(-1, ddof=1) * t / np.sqrt(seeds)
        idx = pd.MultiIndex.from_product([range(1, sweeps + 1), scenarios, names], names=["days", "scenario", "outcome"])
        return pd.DataFrame({what: mean.ravel(), "lo": (mean - spread).ravel(), "hi": (mean + spread).ravel()},
                            index=idx).reset_index().assign(case="generic", calibration="calibrated")

    means = table(x, "mean").assign(n=seeds)
    diffs = table(x - x[:, :1], "difference").assign(n_pairs=seeds, reference=scenarios[0])
    first = pd.DataFrame([{"case": "generic", "calibration": "calibrated", "days": 1, "scenario": s, "seed": k,
                           "status": "ok", **{n: x[0, i, j, k] for j, n in enumerate(names)}}
                          for i, s in enumerate(scenarios) for k in range(seeds)])
    return means, diffs, first


def test_with_no_effect_fewer_than_5_percent_of_sweeps_mark_any_cell(monkeypatch):
    """The issue's multiplicity test, on 10,000 sweeps of every scenario x 30 seeds with no effect
    anywhere; the real scorecard takes every sweep as one family (every scenario but the reference x
    every scorecard column: 10 x 11 = 110 cells today). Holm keeps the family-wise error at most 5%;
    with 110 cells it is close to that bound (475 of these 10,000 sweeps, 4.75%), so fewer sweeps
    could not tell it from 5%. Without the correction nearly every sweep would mark a cell."""
    monkeypatch.setattr(sim, "OUTCOME_NAMES", SCORED)  # compare only what the scorecard reads
    means, diffs, first = null_tables(np.random.default_rng(20261201), sweeps=10_000)
    # the tables are those compare makes of the same runs
    mine = diffs[diffs["days"] == 1].set_index(["scenario", "outcome"]).sort_index()
    theirs = compare.paired_differences(first).set_index(["scenario", "outcome"]).sort_index()
    assert np.allclose(mine[["difference", "lo", "hi"]], theirs[["difference", "lo", "hi"]])
    # statsmodels' Holm calls gc.collect() once per family; keep that cheap by freezing every object
    # there is, statsmodels' own included (the scorecard imports it lazily: import it first)
    import statsmodels.stats.multitest  # noqa: F401
    gc.freeze()
    try:
        card = report.scorecard(means, diffs)
    finally:
        gc.unfreeze()
    assert len(card) == 10_000 * (len(sim.SCENARIOS) - 1) * len(SCORED) and not card["too_few"].any()
    per_sweep = card.groupby("days").agg(marked=("holds", "any"), uncorrected=("p", lambda p: (p < 0.05).any()))
    assert per_sweep["marked"].mean() < 0.05, f"{per_sweep['marked'].sum()} of 10,000 null sweeps marked a cell"
    assert per_sweep["uncorrected"].mean() > 0.5  # the test can tell: uncorrected, most sweeps would


def test_text_scorecard_is_short_and_marks_what_holds():
    rng = np.random.default_rng(3)
    runs = synthetic_runs(rng, effects={("coverage_high", "police_workload"): 30.0})
    means, diffs = compare.scenario_means(runs), compare.paired_differences(runs)
    text = report.text_scorecard(report.scorecard(means, diffs), means, "baseline")
    lines = text.splitlines()
    # a title, the column headers and one line per scenario but the reference: about a dozen
    assert len(lines) == 2 + len(sim.SCENARIOS) - 1 <= 14 and "Holm" in lines[0]
    assert all(c.short in lines[1] for c in report.present(SCORED))  # every column, none dropped
    assert [ln for ln in lines[2:] if "*" in ln] == [ln for ln in lines if ln.startswith("coverage_high")]


# --- seeds=auto -------------------------------------------------------------------------------
def test_seed_batches_group_jobs_by_seed():
    jobs = [[f"scenario={s}", f"seed={i}"] for s in ("a", "b") for i in range(5)]
    batches = precision.seed_batches(jobs, 2)
    assert [sorted({j[1] for j in b}) for b in batches] == [["seed=0", "seed=1"], ["seed=2", "seed=3"],
                                                            ["seed=4"]]
    assert sum(len(b) for b in batches) == 10


def test_seeds_auto_stops_at_the_requested_precision_and_resumes(tmp_path):
    """noise_runner: every share has sd 0.02, so a paired difference has sd 2.83 pp and its 95%
    interval is about 11.3 / sqrt(n) pp wide: precision 4 needs roughly 10-20 seeds."""
    args = ["-m", "seeds=auto", "scenario=baseline,officer_in_group", "seed=range(60)",
            "hydra.sweeper.precision=4", "hydra.sweeper.batch=4", "runner=experiments_fixtures.noise_runner",
            "hydra/launcher=basic", "days=2", "params.n_households=20", "compare=false"]
    done = cli(*args, results=tmp_path)
    assert done.returncode == 0, done.stderr
    (sweep,) = sweep_dirs(tmp_path)
    status = json.loads((sweep / "precision.json").read_text())
    runs = pd.read_parquet(sweep / "runs.parquet")
    n = runs["seed"].nunique()
    assert status["reached"] and status["seeds"] == n and n % 4 == 0 and 8 <= n < 60
    assert set(runs["seed"]) == set(range(n))
    widths = precision.widths(runs, "baseline")
    assert (widths["width"] < 4).all()
    before = precision.widths(runs[runs["seed"] < n - 4], "baseline")
    assert (before["width"] >= 4).any(), "it ran a batch more than the precision needed"
    nl, en = precision.note(sweep)
    assert f"stopped after {n} seeds per arrangement because every interval is narrower than 4" in en
    assert f"gestopt na {n} seeds" in nl and f"seeds=auto: {n} seeds" in done.stderr

    again = cli(*args, results=tmp_path)
    assert again.returncode == 0, again.stderr
    resumed = pd.read_parquet(sweep_dirs(tmp_path)[-1] / "runs.parquet")
    assert set(resumed["status"]) == {"cached"} and resumed["seed"].nunique() == n


def test_seeds_auto_needs_its_reference_in_the_sweep(tmp_path):
    sweep = ["-m", "seeds=auto", "scenario=officer_in_group,no_admin", "seed=range(8)",
             "runner=experiments_fixtures.noise_runner", "hydra/launcher=basic", "days=2", "params.n_households=20"]
    done = cli(*sweep, results=tmp_path)
    assert done.returncode != 0 and done.stderr.strip().splitlines() == [
        "the reference scenario 'baseline' is not in the sweep (no_admin, officer_in_group): compare=true "
        "compares every scenario with it and seeds=auto measures every effect against it; add scenario "
        "baseline or set hydra.sweeper.reference"]
    # the configured reference is the one checked, also without a comparison; nothing runs
    done = cli(*sweep, "hydra.sweeper.reference=coverage_high", "compare=false", results=tmp_path)
    assert done.returncode != 0 and "the reference scenario 'coverage_high' is not in the sweep" in done.stderr
    assert "seeds=auto measures" in done.stderr and "compare=true" not in done.stderr
    assert not list(tmp_path.rglob("runs.json"))


# --- the page -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A sweep directory of synthetic runs with two real effects, compared as a sweep would."""
    sweep = tmp_path_factory.mktemp("sweep")
    rng = np.random.default_rng(4)
    runs = synthetic_runs(rng, ("baseline", "officer_in_group", "no_admin", "coverage_high"), seeds=20,
                          effects={("officer_in_group", "reports_per_month"): 15.0,
                                   ("coverage_high", "feels_unsafe_share"): 0.03})
    runs.to_parquet(sweep / "runs.parquet")
    store.mark_complete(sweep, runs)  # its tables are written, as a finished sweep's are
    text = compare.compare(sweep)
    return sweep, text


@pytest.mark.xdist_group("report_written")  # one worker computes the module's `written` sweep once
def test_compare_ends_with_the_text_scorecard_and_the_report_path(written):
    sweep, text = written
    assert f"report: {sweep / 'report.html'}" in text and len(text.splitlines()) <= 14
    page = (sweep / "report.html").read_text()
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert page.count("data:image/png;base64,") == 5  # four headline figures and the overview


@pytest.mark.xdist_group("report_written")  # one worker computes the module's `written` sweep once
def test_report_renders_offline_in_chromium_with_the_numbers_of_differences_csv(written):
    from playwright import sync_api
    from test_app_browser import CHROMIUM_ARGS

    sweep, _ = written
    diffs = pd.read_csv(sweep / "comparison" / "differences.csv").set_index(["scenario", "outcome"])
    means = pd.read_csv(sweep / "comparison" / "means.csv").set_index(["scenario", "outcome"])
    chromium = shutil.which("chromium")
    assert chromium, "the report test needs Debian's chromium (apt-get install -y chromium)"
    problems = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

        def only_the_file(route):
            if route.request.url.startswith("file://") or route.request.url.startswith("data:"):
                route.continue_()
            else:
                problems.append(f"external request: {route.request.url}")
                route.abort()

        page.route("**/*", only_the_file)
        page.goto((sweep / "report.html").as_uri())
        cells = page.locator(".nl table.card td[data-outcome]")
        assert cells.count() == 3 * len(SCORED)
        for i in range(cells.count()):
            c = cells.nth(i)
            key = (c.get_attribute("data-scenario"), c.get_attribute("data-outcome"))
            d = diffs.loc[key]
            assert [float(c.get_attribute(f"data-{k}")) for k in ("difference", "lo", "hi")] == pytest.approx(
                [d["difference"], d["lo"], d["hi"]], rel=1e-12)
            unit = next(col.unit for col in report.COLUMNS if col.outcome == key[1])
            scale = 100 if unit == "pp" else 100 / means.loc[("baseline", key[1]), "mean"]
            shown = c.inner_text().split("\n")[0].removesuffix(" ✱")
            assert shown == report.signed(d["difference"] * scale, "nl") + (" pp" if unit == "pp" else "%")
        holds = page.locator(".nl td[data-holds=true]")
        assert sorted(holds.nth(i).get_attribute("data-outcome") for i in range(holds.count())) == [
            "feels_unsafe_share", "reports_per_month"]
        assert page.get_by_text("Het aantal meldingen bij de politie stijgt met").is_visible()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / "report_nl.png", full_page=False)
        page.locator("label[for=lang-en]").click()
        assert page.get_by_text("The number of reports to the police rises by").is_visible()
        assert not page.get_by_text("Het aantal meldingen bij de politie stijgt met").is_visible()
        page.screenshot(path=SHOTS / "report_en.png", full_page=True)
        browser.close()
    assert problems == []
