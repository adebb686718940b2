"""The chat import (experiments/chat_import, python -m experiments.import_chat) against exports whose truth
is known: written by tests/chat_exports.py from a script, or from a model run."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import whatstk
import yaml
from hydra import compose, initialize_config_dir

import sim
from chat_exports import (FORMATS, FRESH, HELDOUT, INFORMAL, TEXTS, Entry, Script, app_texts, from_model, render,
                          scripted_chat, write_export)
from experiments import import_chat, national, posterior, schema
from experiments.chat_import import calibrate, classify, statistics
from experiments.chat_import.classify import Change, GroupLog, Post
from experiments.chat_import.parse import parse, parse_file
from sim.chat import MESSAGE_KINDS

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_KINDS = ("encryption", "subject", "added", "joined", "left", "removed", "media", "deleted")


def truth_log(script: Script) -> GroupLog:
    """The GroupLog the import should produce, from the script's truth (no parsing, no classification)."""
    names = {}
    pseudo = lambda n: names.setdefault(n, f"m{len(names)}")   # noqa: E731
    posts, changes = [], []
    admins = {pseudo(e.actor) for e in script.entries if e.kind in ("added", "removed") and e.actor}
    admins |= {pseudo(e.author) for e in script.entries if e.kind == "admin_warning"}
    for e in script.entries:
        t = e.time.replace(second=0)
        if e.kind in MESSAGE_KINDS and e.author is not None:
            posts.append(Post(t, pseudo(e.author), e.kind))
        elif e.kind == "removed":
            posts += [Post(t, pseudo(e.actor), "admin_removal") for _ in e.who]
            changes += [Change(t, pseudo(w), "removed") for w in e.who]
        elif e.kind in ("added", "joined", "left"):
            changes += [Change(t, pseudo(w), "left" if e.kind == "left" else "joined") for w in e.who]
    return GroupLog(script.entries[0].time.replace(second=0), script.entries[-1].time.replace(second=0),
                    tuple(posts), tuple(changes), frozenset(admins), script.members_end, Counter())


def minutes(log: GroupLog) -> GroupLog:
    """Times to the minute (Android exports have no seconds)."""
    return replace(log, start=log.start.replace(second=0), end=log.end.replace(second=0),
                   posts=tuple(replace(p, time=p.time.replace(second=0)) for p in log.posts),
                   changes=tuple(replace(c, time=c.time.replace(second=0)) for c in log.changes))


# --- parsing ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("as_zip", [False, True])
def test_every_format_parses_to_the_scripts_lines(fmt, as_zip, tmp_path):
    script = scripted_chat(seed=1, language=FORMATS[fmt].language, days=150)
    export = parse_file(write_export(script, fmt, tmp_path / ("chat.zip" if as_zip else "chat.txt"), as_zip))
    assert len(export.lines) == len(script.entries)
    for line, entry in zip(export.lines, script.entries):
        assert line.time.replace(second=0) == entry.time.replace(second=0), line.number
        if entry.kind in SYSTEM_KINDS:
            assert line.system == entry.kind, line.number
        else:
            assert line.system is None and line.author is not None, line.number
    # one pseudonym per person, and one person per pseudonym
    people = {}
    for line, entry in zip(export.lines, script.entries):
        for name, pseudonym in [(entry.author, line.author), (entry.actor, line.actor),
                                *zip(entry.who, line.who)]:
            if name is not None and pseudonym is not None:
                assert people.setdefault(pseudonym, name) == name
    assert len(set(people.values())) == len(people)
    assert export.platform == FORMATS[fmt].platform


def test_multi_line_messages_and_emoji_survive():
    script = Script([Entry(scripted_chat(0).entries[0].time, "Jan Bakker", "signal", "Let op 👀\nnu bij nr 3")])
    (line,) = parse(render(script, "ios_nl_24")).lines
    assert line.text == "Let op 👀\nnu bij nr 3" and "text" not in repr(line)


def test_whatstk_alone_drops_system_lines_and_refuses_a_zip_with_media(tmp_path):
    """The two measured cases where whatstk's own reader fails, and the reason for parse.py's own loop."""
    script = scripted_chat(seed=1, language="nl", days=150)
    path = write_export(script, "android_nl_24", tmp_path / "chat.txt")
    df = whatstk.df_from_whatsapp(str(path))
    joins = sum(e.kind in ("added", "joined", "left") for e in script.entries)
    assert joins > 0 and not df.message.str.contains("toegevoegd|vertrokken|uitnodigingslink").any()
    assert len(df) < len(script.entries) - joins + 1
    with pytest.raises(ValueError, match="Only one is expected"):
        whatstk.df_from_whatsapp(str(write_export(script, "ios_nl_24", tmp_path / "chat.zip", as_zip=True)))


# --- classification ---------------------------------------------------------------------------------------
def classification_table(texts: dict, seeds=range(3)) -> dict[str, dict[str, float]]:
    """Recall and precision per kind over every format (Dutch and English) and a few scripts."""
    predicted, truth = [], []
    for fmt in FORMATS:
        for seed in seeds:
            script = scripted_chat(seed=seed, language=FORMATS[fmt].language, days=240, texts=texts)
            log = classify.group_log(parse(render(script, fmt)))
            predicted += [p.kind for p in log.posts if p.kind != "admin_removal"]
            truth += [e.kind for e in script.messages]
    assert len(predicted) == len(truth)
    table = classify.truth_accuracy(predicted, truth)
    table["all"] = {"n": len(truth), "recall": float(np.mean(np.array(predicted) == np.array(truth))),
                    "precision": float("nan")}
    return table


# The rules were written on TEXTS and revised on HELDOUT, FRESH and INFORMAL (scripts of seeds 0-2): tuning
# sets, a regression guard only. The test set is the app's chat texts (app_texts: another author, never used
# to revise the rules) in scripts of other seeds (100-102): the honest measure (docs/chat_import.md). The
# bounds are the measured values, rounded down.
@pytest.mark.parametrize("texts, seeds, overall, per_kind", [
    (TEXTS, range(3), 0.99, 0.95), (HELDOUT, range(3), 0.99, 0.95), (FRESH, range(3), 0.99, 0.95),
    (INFORMAL, range(3), 0.99, 0.95), (app_texts(), range(100, 103), 0.88, 0.6)],
    ids=["written", "revised-heldout", "revised-fresh", "revised-informal", "test-app"])
def test_classification_accuracy_per_kind_on_dutch_and_english_exports(texts, seeds, overall, per_kind):
    table = classification_table(texts, seeds)
    for kind, row in table.items():
        print(f"{kind:16s} n={row['n']:5d} recall={row['recall']:.3f} precision={row['precision']:.3f}")
    assert table["all"]["recall"] > overall
    for kind in MESSAGE_KINDS:
        if kind not in ("admin_removal", "relay"):  # relay (issue 10): not in the export scripts yet
            assert table[kind]["recall"] > per_kind, kind


def test_emoji_only_and_thanks_are_replies_but_a_signal_with_emoji_is_not():
    assert [classify.classify_text(t) for t in ("👍", "🙏🙏", "👍🏻", "Dank je wel!", "Thanks all 👍", "thnx",
                                                "Top dat je oplet")] == ["reply"] * 7
    assert classify.classify_text("Verdachte man bij de schuur 👀") == "signal"
    assert classify.classify_text("Heb 112 gebeld 🚨") == "saar"
    # a thank-you about something else is chatter; a description of a person doing something is a signal
    assert classify.classify_text("Leuk buurtfeest gisteren, bedankt organisatie!") == "offtopic"
    assert classify.classify_text("Twee mannen rijden heel vaak door de straat") == "signal"
    assert classify.classify_text("Weet iemand een goede oppas?") == "offtopic"


def test_a_description_soon_after_another_members_signal_adds_to_it():
    t0 = scripted_chat(0).entries[0].time
    script = Script([Entry(t0, "Jan Bakker", "signal", "Let op: verdachte man bij de garages"),
                     Entry(t0 + timedelta(minutes=10), "Sanne Bos", "sighting", "Een man loopt bij de garages"),
                     Entry(t0 + timedelta(hours=5), "Sanne Bos", "signal", "Een man loopt bij de garages")])
    kinds = [p.kind for p in classify.group_log(parse(render(script, "android_nl_24"))).posts]
    assert kinds == ["signal", "sighting", "signal"]


# --- statistics ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["android_nl_24", "ios_en_12"])
def test_statistics_of_the_import_match_the_script(fmt):
    script = scripted_chat(seed=2, language=FORMATS[fmt].language, days=240)
    got = statistics.describe(minutes(classify.group_log(parse(render(script, fmt)), script.members_end)))
    want = statistics.describe(truth_log(script))
    for key in ("window_days", "messages", "members_start", "members_end", "members_by_month", "removals",
                "removals_per_month", "messages_per_month", "hour_profile", "authors"):
        assert got[key] == want[key], key
    for key in ("signals_per_month", "saar_share", "replies_per_signal", "offtopic_share",
                "admin_response_share", "offtopic_per_member_month"):
        assert got[key] == pytest.approx(want[key], rel=0.15, abs=0.02), key
    assert got["admin_reaction_minutes"] == pytest.approx(want["admin_reaction_minutes"], abs=5)
    assert got["not_messages"]["media"] == sum(e.kind == "media" for e in script.entries)


def test_statistics_of_a_model_run_are_those_of_its_export():
    p = calibrate.start_params(50).replace(offtopic_rate=0.1, reply_prob=0.05)
    model = sim.NeighbourhoodWatch(p, seed=4, with_space=False)
    model.run_days(120)
    direct = statistics.describe(statistics.from_model(model, 120))
    script = from_model(model, 120, language="en")
    imported = statistics.describe(classify.group_log(parse(render(script, "android_en_24")), script.members_end))
    assert imported["messages"] == direct["messages"] and imported["removals"] == direct["removals"]
    assert imported["members_end"] == direct["members_end"]
    a, b = imported["messages_by_kind"], direct["messages_by_kind"]
    assert sum(abs(a[k] - b[k]) for k in a) <= 0.1 * direct["messages"], (a, b)   # misclassified: few


# --- calibration ------------------------------------------------------------------------------------------
TRUTH = {"post_prob": 0.7, "call_112_prob": 0.2, "reply_prob": 0.05, "offtopic_rate": 0.1,
         "admin_availability": 0.5, "admin_delay_minutes": 60.0, "situation_rate_multiplier": 6.0}
TINY = calibrate.FitSettings(population=16, generations=2, max_simulations=200, predictive_runs=8, seed=3)
SMALL = calibrate.FitSettings(population=40, generations=3, max_simulations=600, predictive_runs=8, seed=3)


def test_calibration_to_a_chat_generated_by_the_model_recovers_its_parameters(tmp_path):
    """The chat is generated with the known chat parameters and the rest drawn from the six-case posterior
    (as the fit assumes); the fit must cover every known value."""
    days, start = 150, calibrate.start_params(50)
    truth = calibrate.run_params(start, TRUTH, 11, posterior.SAMPLE_FILE)
    model = sim.NeighbourhoodWatch(truth, seed=11, with_space=False)
    model.run_days(days)
    script = from_model(model, days, language="nl")
    log = classify.group_log(parse(render(script, "ios_nl_24")), script.members_end)
    observed = statistics.describe(log)
    fit = calibrate.fit_case(observed, days, start, tmp_path, SMALL)
    table = fit.table.set_index("parameter")
    print(table.assign(truth=TRUTH)[["truth", "mean", "low95", "high95", "width_ratio"]].to_string())
    for name, value in TRUTH.items():
        assert table.low95[name] <= value <= table.high95[name], (name, table.loc[name].to_dict())
    assert (table.width_ratio < 0.8).sum() >= 3, table.width_ratio   # the chat informs, not just the prior
    assert fit.params().n_households == 200
    assert (tmp_path / "history.db").exists()


def test_the_case_fit_is_the_six_case_machinery_and_draws_the_rest_from_the_posterior(tmp_path, monkeypatch):
    """The fit runs experiments.calibrate.abc_smc itself, and each run's parameters other than the fitted
    ones are a draw of the six-case posterior sample (read through experiments.posterior)."""
    import experiments.calibrate as six_case

    calls, seen = [], []
    real_abc, real_run = six_case.abc_smc, calibrate.simulate_statistics
    monkeypatch.setattr(six_case, "abc_smc", lambda *a, **k: calls.append(a) or real_abc(*a, **k))
    monkeypatch.setattr(calibrate, "simulate_statistics", lambda p, d, s: seen.append((p, s)) or real_run(p, d, s))
    sample = tmp_path / "posterior.csv"
    table = pd.DataFrame({"observe_prob": [0.11, 0.52], "fear_baseline": [0.07, 0.41], "post_prob": [0.3, 0.3],
                          "weight": [1.0, 1.0]})
    sample.write_text("# test sample on 2026-01-01; two particles\n" + table.to_csv(index=False))
    observed = statistics.describe(statistics.from_model(sim.NeighbourhoodWatch(
        calibrate.start_params(20), seed=1, with_space=False), 30))
    tiny = calibrate.FitSettings(population=4, generations=1, max_simulations=8, predictive_runs=3, seed=1)
    fit = calibrate.fit_case(observed, 30, calibrate.start_params(20), tmp_path, tiny, sample=sample)
    assert len(calls) == 1 and calls[0][2].acceptor == "distance"
    assert {(p.observe_prob, p.fear_baseline) for p, _ in seen} <= {(0.11, 0.07), (0.52, 0.41)}
    assert len({(p.observe_prob, p.fear_baseline) for p, _ in seen}) == 2      # both rows are drawn
    for p, seed in seen:
        assert (p.observe_prob, p.fear_baseline) == tuple(posterior.draw(seed, sample)[k]
                                                          for k in ("observe_prob", "fear_baseline"))
    assert len({p.post_prob for p, _ in seen}) > 2     # the fitted post_prob overrides the sample's 0.3
    assert set(fit.table.columns) >= {"mean", "low95", "high95", "width_ratio", "verdict"}


# --- the command line: privacy, bad input, the new case at work --------------------------------------------
def planted(script: Script) -> set[str]:
    """Every name, number, street and plate of the export: none may reach an output."""
    text = render(script, "android_nl_24")
    found = {e.author for e in script.entries if e.author} | {e.actor for e in script.entries if e.actor}
    found |= {w for e in script.entries for w in e.who} | {script.group}
    found |= set(re.findall(r"\d{2}-[A-Z]{3}-\d", text)) | set(re.findall(r"06-\d{8}", text))
    found |= set(re.findall(r"(?:Lindenlaan|Beukenstraat|Kastanjehof|Eikenweg|Wilgenpad|Dorpsstraat) \d+", text))
    found |= {re.sub(r"\D", "", n) for n in found if n.startswith("+31")}
    return {s for s in found if len(s) >= 5}


def test_no_name_number_address_or_plate_reaches_any_file_or_output(tmp_path, monkeypatch, capfd, caplog):
    script = scripted_chat(seed=5, language="nl", days=150, members=30)
    secrets = planted(script)
    assert len(secrets) > 30
    (tmp_path / "in").mkdir()
    export = write_export(script, "android_nl_24", tmp_path / "in" / "WhatsApp-chat.txt")
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    monkeypatch.setattr(calibrate, "QUICK", TINY)
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.DEBUG)
    code = import_chat.main([str(export), "--name", "lindenhof", "--quick", "--members", "25",
                             "--case-dir", str(tmp_path / "case"), "--results-dir", str(tmp_path / "results")])
    out, err = capfd.readouterr()
    assert code == 0, err
    written = [p for p in tmp_path.rglob("*") if p.is_file() and "in" not in p.relative_to(tmp_path).parts[:1]]
    assert {p.parent.name for p in written} >= {"case"} and len(written) >= 5
    assert not list(private_tmp.iterdir())
    outputs = {str(p): p.read_bytes().decode("utf-8", "replace") for p in written}
    outputs |= {"stdout": out, "stderr": err, "log": caplog.text}
    for where, content in outputs.items():
        leaked = [s for s in secrets if s in content]
        assert not leaked, (where, leaked[:3])


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    return subprocess.run([sys.executable, "-m", "experiments.import_chat", *args, "--case-dir", "case",
                           "--results-dir", "results"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def bad_exports(tmp: Path) -> dict[str, tuple[Path, str]]:
    good = render(scripted_chat(seed=1, language="nl", days=150), "android_nl_24").splitlines()
    one = scripted_chat(seed=1, days=150)
    poster = next(e.author for e in one.entries if e.author)
    solo = Script([e for e in one.entries if e.author in (None, poster)
                   and e.kind not in ("added", "removed", "left", "joined", "subject")])
    short = Script([e for e in one.entries if e.time < one.entries[0].time.replace(day=28)])
    cases = {
        "not an export": ("Boodschappenlijst:\nmelk\nbrood\n", "not a WhatsApp export"),
        "empty": ("", "empty"),
        "one person": (render(solo, "android_nl_24"), "one-person chat"),
        "unknown date format": ("\n".join(good[:40] + ["2024.03.12 21:15 - Jan: hallo"] + good[40:]),
                                "line 41: unknown date format"),
        "no such date": ("\n".join(good[:9] + [good[9].replace(good[9][:2], "45", 1)] + good[10:]),
                         "line 10: unknown date format"),
        "too short": (render(short, "android_nl_24"), "needs at least 90 days"),
    }
    out = {}
    for label, (text, expect) in cases.items():
        path = tmp / f"{label.replace(' ', '_')}.txt"
        path.write_text(text, encoding="utf-8")
        out[label] = (path, expect)
    broken = tmp / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not a zip")
    out["broken zip"] = (broken, "not a readable .zip")
    two = tmp / "two.zip"
    with zipfile.ZipFile(two, "w") as z:
        z.writestr("a.txt", "x")
        z.writestr("b.txt", "y")
    out["two chats"] = (two, "holds 2")
    return out


def never_fit(*args, **kwargs):
    raise AssertionError("bad input reached the fit")


def test_bad_input_gets_a_one_line_error_and_nothing_is_written(tmp_path, capfd, monkeypatch):
    monkeypatch.setattr(calibrate, "fit_case", never_fit)
    for label, (path, expect) in bad_exports(tmp_path).items():
        code = import_chat.main([str(path), "--name", "bad", "--case-dir", str(tmp_path / "case"),
                                 "--results-dir", str(tmp_path / "results")])
        out, err = capfd.readouterr()
        assert code == 2, (label, err)
        assert expect in err and err.count("\n") == 1 and not out, (label, err)
        assert not (tmp_path / "case").exists() and not (tmp_path / "results").exists(), label
        assert "Jan" not in err and "hallo" not in err, label
    broken = tmp_path / "posterior.csv"
    broken.write_text("observe_prob\n0.3\n")
    good = write_export(scripted_chat(seed=1, days=150), "android_nl_24", tmp_path / "good.txt")
    code = import_chat.main([str(good), "--name", "bad", "--posterior", str(broken), "--case-dir",
                             str(tmp_path / "case"), "--results-dir", str(tmp_path / "results")])
    out, err = capfd.readouterr()
    assert code == 2 and "the six-case posterior" in err and "'weight'" in err and err.count("\n") == 1, err
    assert not (tmp_path / "case").exists() and not (tmp_path / "results").exists()
    done = cli(str(tmp_path / "empty.txt"), "--name", "bad", cwd=tmp_path)   # as a user runs it
    assert done.returncode == 2 and done.stderr == "error: the export is empty\n"


def test_a_bad_name_or_an_existing_case_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(calibrate, "fit_case", never_fit)
    export = write_export(scripted_chat(seed=1, days=150), "android_nl_24", tmp_path / "chat.txt")
    args = ["--case-dir", str(tmp_path / "case"), "--results-dir", str(tmp_path / "results")]
    assert import_chat.main([str(export), "--name", "Buurt Lindenhof", *args]) == 2
    (tmp_path / "case").mkdir()
    (tmp_path / "case" / "mine.yaml").write_text("# @package params\n")
    assert import_chat.main([str(export), "--name", "mine", *args]) == 2
    assert (tmp_path / "case" / "mine.yaml").read_text() == "# @package params\n"


@pytest.fixture(scope="module")
def imported_case(tmp_path_factory):
    """A case imported from an iOS English .zip export, written into conf/case/ (the sweeps, the national
    run and the app read conf/ only) under a name of this process, and removed after the module."""
    tmp = tmp_path_factory.mktemp("imported_case")
    script = scripted_chat(seed=6, language="en", days=150, members=30)
    export = write_export(script, "ios_en_12", tmp / "chat.zip", as_zip=True)
    name = f"test_chat_{os.getpid()}"
    case_file = ROOT / "conf" / "case" / f"{name}.yaml"
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(calibrate, "QUICK", TINY)
            assert import_chat.main([str(export), "--name", name, "--results-dir", str(tmp / "results"),
                                     "--quick"]) == 0
        assert case_file.read_text().startswith("# @package params\n# Case fitted to one WhatsApp group")
        values = {k: v for k, v in yaml.safe_load(case_file.read_text()).items()}
        yield name, values, tmp
    finally:
        case_file.unlink(missing_ok=True)


def run_module(module: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300)


@pytest.mark.xdist_group("conf_case")  # writes a case into conf/case/ that other tests would see
def test_the_new_case_runs_and_sweeps_like_any_case(imported_case, tmp_path):
    name, values, _ = imported_case
    common = [f"case={name}", "days=5", f"results_dir={tmp_path}"]
    single = run_module("experiments.run", *common, "seed=1")
    assert single.returncode == 0, single.stderr
    assert f"{name} / baseline / seed 1" in single.stdout
    sweep = run_module("experiments.run", "-m", *common, "seed=0", "scenario=baseline,no_admin", "compare=false",
                       "hydra/launcher=basic")
    assert sweep.returncode == 0, sweep.stderr
    assert len(list((tmp_path / "sweeps").glob("*"))) == 1
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        for calibration in ("calibrated", "posterior"):   # the case's values win over either calibration
            p = schema.to_params(compose("config", overrides=[f"case={name}", f"calibration={calibration}"]))
            assert all(getattr(p, k) == pytest.approx(v) for k, v in values.items()), calibration


@pytest.mark.xdist_group("conf_case")  # writes a case into conf/case/ that other tests would see
def test_the_new_case_enters_the_national_run(imported_case, tmp_path):
    """The national run composes the case like a sweep; the population then sets each group's size and
    scales its rates, the case's fitted chat parameters stay."""
    name, values, _ = imported_case
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("national", overrides=[f"case={name}", "population.groups=3"])
    base = schema.check_run(cfg)
    group = next(national.draw_population(cfg.population).itertuples())
    p = national.group_params(base, group)
    for k in ("post_prob", "reply_prob", "offtopic_rate", "admin_availability", "admin_delay_minutes",
              "call_112_prob"):
        assert getattr(p, k) == pytest.approx(values[k]), k
    assert p.ambiguous_rate == pytest.approx(values["ambiguous_rate"] * group.rate_multiplier)
    done = run_module("experiments.national", f"case={name}", "population.groups=4", "batches=2", "days=5",
                      "hydra/launcher=basic", f"results_dir={tmp_path}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("national: 4 groups in ")


APP_CHECK = """
import sys
from workshop import app
name = sys.argv[1]
assert name in app.MODEL_PARAMS["case"]["values"], app.MODEL_PARAMS["case"]["values"]
w = app.Workshop(case=name, seed="3")
assert w.error is None, w.error
w.step()
p = w.arms[0].model.params
print(p.post_prob, p.n_households)
"""


@pytest.mark.xdist_group("conf_case")  # writes a case into conf/case/ that other tests would see
def test_the_new_case_is_selectable_in_the_app(imported_case):
    """A fresh app process (as a facilitator starts it after the import) lists the case and runs it."""
    name, values, _ = imported_case
    done = subprocess.run([sys.executable, "-c", APP_CHECK, name], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT),
                                            "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"})
    assert done.returncode == 0, done.stderr
    post_prob, households = done.stdout.split()
    assert float(post_prob) == pytest.approx(values["post_prob"]) and int(households) == values["n_households"]
