"""Mutation testing of the model's rule modules with mutmut 3 (issue 16). Not in CI: it takes long.

    nice -n 10 python -m benchmarks.mutation                  # every rule module, one after another
    nice -n 10 python -m benchmarks.mutation police chat      # some of them
    nice -n 10 python -m benchmarks.mutation --sample 40      # a random sample of each module's mutants
    nice -n 10 python -m benchmarks.mutation --minutes 55     # as many as fit in 55 min, a random sample
    nice -n 10 python -m benchmarks.mutation --minutes 55 --resume   # 55 min more of the same run
    nice -n 10 python -m benchmarks.mutation --retest         # run each survivor's killer with it switched on
    python -m benchmarks.mutation --report police chat        # the scores of the last such run

The modules chosen are mutated in one mutmut session, in a scratch copy of the project
(``results/mutation/<modules>/``), so the tests' statistics are collected once, runs of other
choices never share state, and pyproject.toml needs no mutmut section. ``--sample N`` tests N
mutants per module drawn at random (seed 16) instead of all of them, for a machine too busy for
the full run; ``--minutes M`` tests all mutants in a random order (seed 16), 200 a mutmut call,
starting no call after M minutes, so those tested are a random sample of each module;
``--resume`` goes on with the untested mutants of the last such run in the same order (a full run
spread over several sittings), provided ``sim/`` is still the code it mutated.

mutmut forks each mutant's test run from a process that has already imported ``sim``, so a mutant
in a function that runs at import time (``IMPORT_TIME``: the factories that build
``sim.outcomes.OUTCOMES``) is never switched on there and survives whatever the tests do. Those
survivors are tested again in a fresh process with the mutant switched on before import
(``fresh_kills.txt``); the ones that fail there count as killed. ``--retest`` does the same for
each survivor with the test listed against it in ``mutant_killers.txt`` (the current tests), and
the survivors listed in ``equivalent_mutants.txt`` count as equivalent. Per mutant only
the fast tests in ``TESTS`` run (hypothesis with its ``mutation`` profile, tests/conftest.py); a
mutant is killed when one of them fails. The score per module and every surviving mutant (with
its diff) go to ``results/mutation/<modules>/survivors.md``; docs/testing.md records the measured
scores and which survivors are equivalent. Run it from the project root, without PYTHONPATH
pointing at another copy of ``sim/``.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "results" / "mutation"
RULE_MODULES = ("residents", "chat", "police", "model", "outcomes", "membership", "world")
# The fast tests that guard the rules (seconds, not minutes).
TESTS = ("tests/test_invariants.py", "tests/test_mutants.py", "tests/test_evidence.py", "tests/test_review.py",
         "tests/test_model.py::test_same_seed_same_results_different_seed_different",
         "tests/test_model.py::test_police_learn_only_from_112_without_officer_or_liaison",
         "tests/test_model.py::test_deterrence_prevents_offences_on_watched_streets_only",
         "tests/test_model.py::test_the_world_of_a_day_does_not_depend_on_the_length_of_the_run",
         "tests/test_model.py::test_mesa_agents_are_views_of_the_households",
         "tests/test_streams.py::test_the_model_names_a_substream_for_every_draw",
         "tests/test_speed.py::test_running_days_straight_through_is_stepping_day_by_day",
         # the oracles of the compiled passes (the rules in sim/kernels.py, which mutmut cannot mutate)
         "tests/test_speed.py::test_noticing_and_suspecting_are_the_numpy_formulas_bit_for_bit",
         "tests/test_speed.py::test_responding_is_the_numpy_formula_bit_for_bit",
         "tests/test_speed.py::test_witnessing_in_one_pass_is_notice_appraise_alarm_and_respond_in_turn",
         "tests/test_speed.py::test_ties_merged_in_as_they_form_are_the_ties_sorted_afresh",
         "tests/test_speed.py::test_delivery_and_invitations_are_the_numpy_formulas")
# Functions that run when sim is imported (so mutmut's forked runs never switch their mutants on).
CHUNK = 200   # mutants per mutmut call in a timed run (each call first reruns the clean tests)
IMPORT_TIME = ("sim.outcomes.x__ratio_", "sim.outcomes.x__mean_of_", "sim.outcomes.x__total_",
               "sim.outcomes.x__per_month_", "sim.outcomes.x__per_1000_households_a_year_",
               "sim.outcomes.x__per_1000_households_per_year_")
COPY = ("sim", "conf", "experiments", "tests/conftest.py", "tests/test_invariants.py", "tests/test_mutants.py",
        "tests/test_streams.py", "tests/test_speed.py",
        "tests/test_evidence.py", "tests/test_review.py", "tests/test_model.py", "pyproject.toml")
# Surviving mutants no test can tell from the original, one name a line, each group under its reason
# (docs/testing.md explains them); they count as equivalent, not as survivors, and are not retested.
EQUIVALENT = ROOT / "benchmarks" / "equivalent_mutants.txt"
# Surviving mutants and the test that kills each (mostly tests/test_mutants.py, written against
# them), checked by --retest with the mutant switched on.
KILLERS = ROOT / "benchmarks" / "mutant_killers.txt"


def prepare(modules: list[str]) -> Path:
    """A scratch copy of the project whose mutmut configuration mutates the given modules only."""
    work = WORK / "+".join(modules)
    shutil.rmtree(work, ignore_errors=True)
    (work / "tests").mkdir(parents=True)
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, work / name)
    (work / "commit.txt").write_text(commit())
    (work / "sim_digest.txt").write_text(sim_digest(ROOT))
    configure(work, modules)
    return work


def sim_digest(root: Path) -> str:
    """A digest of the model's source (``sim/*.py``): what a resumed run must still be mutating."""
    digest = hashlib.sha256()
    for path in sorted((root / "sim").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def resumable(modules: list[str]) -> Path:
    """The scratch copy of the last timed run of these modules, if sim/ is still what it mutated."""
    work = WORK / "+".join(modules)
    if not (work / "sim_digest.txt").exists() or not (work / "mutants").is_dir():
        sys.exit(f"--resume: no timed run of {'+'.join(modules)} to resume in {work} (run with --minutes first)")
    if (work / "sim_digest.txt").read_text() != sim_digest(ROOT):
        sys.exit(f"--resume: sim/ has changed since the run in {work} "
                 f"({(work / 'commit.txt').read_text().split(',')[0]}); start a new run without --resume")
    return work


def configure(work: Path, modules: list[str]) -> None:
    """mutmut's configuration: the modules to mutate, the tests to run, what else the tests need."""
    lines = "\n    ".join
    (work / "setup.cfg").write_text(
        "[mutmut]\nsource_paths = sim\n"
        f"only_mutate =\n    {lines(f'sim/{m}.py' for m in modules)}\n"
        f"also_copy =\n    conf\n    experiments\n"
        f"pytest_add_cli_args_test_selection =\n    {lines(TESTS)}\n"
        # a mutant's tests are stopped after 2 x 3 x their clean CPU time (mutmut's default 2 x 15
        # let a mutant that made every rate about 900 times larger run for half an hour)
        "timeout_multiplier = 3.0\n"
        "pytest_add_cli_args =\n    -p\n    no:cacheprovider\n")


def commit() -> str:
    """The commit measured, marked dirty if sim/ or the tests differ from it."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", *COPY], capture_output=True, text=True).stdout
    return head + (" (with uncommitted changes)" if dirty.strip() else "")


def run(modules: list[str], max_children: int, sample: int | None = None, minutes: float | None = None,
        resume: bool = False) -> None:
    """Mutate the modules and run the tests against every mutant, or a random sample per module, or
    (``minutes``) as many as fit in that time: all mutants in a random order (seed 16), in chunks, no
    chunk started after the time is up, so the mutants tested are a random sample of each module.
    ``resume``: go on with the last timed run's untested mutants, in the same order."""
    work = resumable(modules) if resume else prepare(modules)
    env = _env()
    start = time.monotonic()
    mutmut = [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children)]
    with open(work / "mutmut.log", "a" if resume else "w") as log:
        if not sample and not minutes:
            subprocess.run(mutmut, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
        else:  # generate the mutants and the test statistics, run none; then draw the sample
            if not resume:
                subprocess.run([*mutmut, "no-such-mutant"], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
            status = statuses(work)
            every = sorted(status)
            tried = [n for n, s in status.items() if s != "not checked"] if resume else []
            if sample:
                own = [[n for n in every if n.startswith(f"sim.{module}.")] for module in modules]
                chunks = [sorted(n for names in own for n in random.Random(16).sample(names, min(sample, len(names))))]
            else:
                random.Random(16).shuffle(every)
                done = set(tried)
                every = [n for n in every if n not in done]
                chunks = [every[i:i + CHUNK] for i in range(0, len(every), CHUNK)]
            for chunk in chunks:
                if minutes and time.monotonic() - start > 60 * minutes:
                    break
                subprocess.run([*mutmut, *chunk], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                               check=False)
                tried += chunk
                (work / "sample.txt").write_text(f"{len(tried)} of {len(status)} mutants\n" + "\n".join(tried) + "\n")
                print(f"{len(tried)} mutants tested in {(time.monotonic() - start) / 60:.1f} min", flush=True)
    fresh_retest(work, max_children)
    report(work, minutes=(time.monotonic() - start) / 60)


def fresh_retest(work: Path, max_children: int) -> None:
    """Test each import-time survivor in a new process that imports sim with the mutant switched on."""
    survivors = [n for n, s in statuses(work).items() if s == "survived" and n.startswith(IMPORT_TIME)]
    record_fresh_kills(work, [(n, TESTS) for n in survivors], max_children)


def record_fresh_kills(work: Path, trials: list[tuple[str, tuple[str, ...]]], max_children: int) -> list[str]:
    """Run each (mutant, tests) in a new process with the mutant switched on; the mutants whose
    tests fail count as killed from now on (fresh_kills.txt). Returns those."""
    def killed(trial: tuple[str, tuple[str, ...]]) -> bool:
        name, tests = trial
        env = _env() | {"MUTANT_UNDER_TEST": name}
        done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                              cwd=work / "mutants", env=env, capture_output=True, timeout=600)
        return done.returncode != 0
    with ThreadPoolExecutor(max_children) as pool:
        kills = [name for (name, _), k in zip(trials, pool.map(killed, trials)) if k]
    fresh = work / "fresh_kills.txt"
    before = fresh.read_text().split() if fresh.exists() else []
    fresh.write_text("".join(f"{n}\n" for n in sorted({*before, *kills})))
    return kills


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return env | {"HYPOTHESIS_PROFILE": "mutation"}


def retest(modules: list[str], max_children: int) -> None:
    """Put each survivor of the last run that has a killer listed (``KILLERS``) back in, with the
    current tests, and run its killer: the mutant counts as killed if that test fails."""
    work = WORK / "+".join(modules)
    shutil.rmtree(work / "mutants" / "tests")
    shutil.copytree(ROOT / "tests", work / "mutants" / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("conf", "experiments"):   # what the tests in TESTS read besides sim
        if not (work / "mutants" / name).exists():
            shutil.copytree(ROOT / name, work / "mutants" / name, ignore=shutil.ignore_patterns("__pycache__"))
    status = statuses(work)
    # "suspicious": the tests passed, but slowly (mutmut's name): not killed either
    trials = [(name, (test,)) for name, test in killers().items()
              if status.get(name) in ("survived", "no tests", "suspicious")]
    measured = (work / "commit.txt").read_text().strip().split(", survivors retested")[0]
    (work / "commit.txt").write_text(f"{measured}, survivors retested with the tests of {commit()}")
    start = time.monotonic()
    kills = record_fresh_kills(work, trials, max_children)
    for name, (test,) in trials:
        if name not in kills:
            print(f"not killed by {test}: {name}")
    report(work, minutes=(time.monotonic() - start) / 60)


def killers() -> dict[str, str]:
    """Mutant -> the test that kills it (``KILLERS``: one pair a line; ``#`` starts a comment)."""
    pairs = (line.split("#")[0].split() for line in KILLERS.read_text().splitlines()) if KILLERS.exists() else ()
    return {pair[0]: pair[1] for pair in pairs if pair}


def equivalent() -> dict[str, str]:
    """Mutant -> its mutated line as it was judged equivalent (``EQUIVALENT``: a name, a space, the
    line; lines starting with ``#`` are comments). mutmut numbers a function's mutants in order, so
    a number names another mutant once the function changes: the line pins the verdict to the diff."""
    if not EQUIVALENT.exists():
        return {}
    entries = (line.strip().partition(" ") for line in EQUIVALENT.read_text().splitlines()
               if line.strip() and not line.startswith("#"))
    return {name: mutated.strip() for name, _, mutated in entries}


@functools.cache
def mutated_line(work: Path, name: str) -> str:
    """The first line the mutant changes, as it reads in the mutant (stripped)."""
    diff = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=work,
                          capture_output=True, text=True).stdout
    return next((line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")),
                "")


def statuses(work: Path) -> dict[str, str]:
    """Mutant name -> status (killed, survived, timeout, no tests, ...) of the last run; survivors
    killed in a fresh process (fresh_kills.txt) count as killed, survivors listed as equivalent
    with their mutated line count as equivalent (if the line differs, the verdict is stale: the
    mutant stays a survivor and is named)."""
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=work,
                         capture_output=True, text=True, check=True).stdout
    status = dict(re.findall(r"^\s+(\S+): (.+)$", out, flags=re.M))
    fresh = work / "fresh_kills.txt"
    for name in fresh.read_text().split() if fresh.exists() else ():
        status[name] = "killed"
    for name, judged in equivalent().items():
        if status.get(name) == "survived":
            now = mutated_line(work, name)
            if now == judged:
                status[name] = "equivalent"
            else:
                print(f"stale verdict in {EQUIVALENT.name}: {name} was judged as `{judged}`, is now `{now}`",
                      flush=True)
    return status


def report(work: Path, minutes: float | None = None) -> None:
    """Score per module (killed / tested, tested without the equivalent mutants; a timeout, or a test
    process that died of a signal (``segfault``: a crash, or stopped by hand because it would not end),
    counts as killed) and the survivors' diffs."""
    status = statuses(work)
    measured = (work / "commit.txt").read_text()
    took = f" in {minutes:.1f} min" if minutes is not None else ""
    lines = [f"Measured on {measured}{took}."]
    for module in sorted({name.split(".")[1] for name in status}):
        own = {n: s for n, s in status.items() if n.startswith(f"sim.{module}.")}
        counts = Counter(own.values())
        killed = counts["killed"] + counts["timeout"] + counts["segfault"]
        tested = len(own) - counts["skipped"] - counts["not checked"] - counts["equivalent"]  # not checked: not sampled
        score = 100 * killed / tested if tested else float("nan")
        low, high = interval(killed, tested)
        lines.append(f"sim/{module}.py: {killed}/{tested} killed ({score:.0f}%, 90% interval {low:.0f}-{high:.0f}%) "
                     f"of {len(own)} mutants; {dict(counts)}")
    print("\n".join(lines), flush=True)
    survivors = [name for name, s in status.items()
                 if s not in ("killed", "timeout", "segfault", "not checked", "equivalent")]
    with open(work / "survivors.md", "w") as f:
        f.write("# " + "\n# ".join(lines) + "\n\n")
        for name in survivors:
            diff = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=work,
                                  capture_output=True, text=True).stdout
            f.write(f"```diff\n{diff.strip()}\n```\n\n")


def interval(killed: int, tested: int, level: float = 0.9) -> tuple[float, float]:
    """Clopper-Pearson interval (percent) of the kill rate of all the module's mutants, from a sample."""
    from scipy.stats import beta
    if not tested:
        return float("nan"), float("nan")
    tail = (1 - level) / 2
    low = beta.ppf(tail, killed, tested - killed + 1) if killed else 0.0
    high = beta.ppf(1 - tail, killed + 1, tested - killed) if killed < tested else 1.0
    return 100 * low, 100 * high


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help=f"rule modules to mutate (default: all of {RULE_MODULES})")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested in parallel")
    parser.add_argument("--sample", type=int, default=None,
                        help="test only this many mutants per module, drawn at random (seed 16)")
    parser.add_argument("--minutes", type=float, default=None,
                        help="test mutants in a random order until this many minutes have passed")
    parser.add_argument("--resume", action="store_true", help="with --minutes: go on with the last timed "
                        "run's untested mutants (sim/ unchanged)")
    parser.add_argument("--retest", action="store_true", help="run the killer of each of the last run's "
                        f"survivors listed in {KILLERS.name} with the mutant switched on")
    parser.add_argument("--report", action="store_true", help="only report the last runs")
    args = parser.parse_args(argv)
    unknown = set(args.modules) - set(RULE_MODULES)
    if unknown:
        parser.error(f"not a rule module: {sorted(unknown)}; choose from {RULE_MODULES}")
    modules = args.modules or list(RULE_MODULES)
    if args.report:
        report(WORK / "+".join(modules))
    elif args.retest:
        retest(modules, args.max_children)
    else:
        if args.resume and not args.minutes:
            parser.error("--resume goes with --minutes")
        run(modules, args.max_children, args.sample, args.minutes, args.resume)


if __name__ == "__main__":
    main()
