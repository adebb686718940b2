"""Mutation testing of the model's rule modules with mutmut 3 (issue 16). Not in CI: it takes long.

    nice -n 10 python -m benchmarks.mutation                  # every rule module, one after another
    nice -n 10 python -m benchmarks.mutation police chat      # some of them
    nice -n 10 python -m benchmarks.mutation --sample 40      # a random sample of each module's mutants
    nice -n 10 python -m benchmarks.mutation --retest         # after new tests: retest the survivors
    python -m benchmarks.mutation --report police chat        # the scores of the last such run

The modules chosen are mutated in one mutmut session, in a scratch copy of the project
(``results/mutation/<modules>/``), so the tests' statistics are collected once, runs of other
choices never share state, and pyproject.toml needs no mutmut section. ``--sample N`` tests N
mutants per module drawn at random (seed 16) instead of all of them, for a machine too busy for
the full run.

mutmut forks each mutant's test run from a process that has already imported ``sim``, so a mutant
in a function that runs at import time (``IMPORT_TIME``: the factories that build
``sim.outcomes.OUTCOMES``) is never switched on there and survives whatever the tests do. Those
survivors are tested again in a fresh process with the mutant switched on before import
(``fresh_kills.txt``); the ones that fail there count as killed. Per mutant only
the fast tests in ``TESTS`` run (hypothesis with its ``mutation`` profile, tests/conftest.py); a
mutant is killed when one of them fails. The score per module and every surviving mutant (with
its diff) go to ``results/mutation/<modules>/survivors.md``; docs/testing.md records the measured
scores and which survivors are equivalent. Run it from the project root, without PYTHONPATH
pointing at another copy of ``sim/``.
"""

from __future__ import annotations

import argparse
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
RULE_MODULES = ("residents", "chat", "police", "model", "outcomes")
# The fast tests that guard the rules (seconds, not minutes).
TESTS = ("tests/test_invariants.py",
         "tests/test_model.py::test_same_seed_same_results_different_seed_different",
         "tests/test_model.py::test_police_learn_only_from_112_without_officer_or_liaison",
         "tests/test_model.py::test_deterrence_prevents_offences_on_watched_streets_only",
         "tests/test_model.py::test_the_world_of_a_day_does_not_depend_on_the_length_of_the_run")
# Functions that run when sim is imported (so mutmut's forked runs never switch their mutants on).
IMPORT_TIME = ("sim.outcomes.x__ratio_", "sim.outcomes.x__mean_of_", "sim.outcomes.x__total_",
               "sim.outcomes.x__per_month_")
COPY = ("sim", "tests/conftest.py", "tests/test_invariants.py", "tests/test_model.py", "pyproject.toml")


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
    lines = "\n    ".join
    (work / "setup.cfg").write_text(
        "[mutmut]\nsource_paths = sim\n"
        f"only_mutate =\n    {lines(f'sim/{m}.py' for m in modules)}\n"
        f"pytest_add_cli_args_test_selection =\n    {lines(TESTS)}\n"
        "pytest_add_cli_args =\n    -p\n    no:cacheprovider\n")
    return work


def commit() -> str:
    """The commit measured, marked dirty if sim/ or the tests differ from it."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", *COPY], capture_output=True, text=True).stdout
    return head + (" (with uncommitted changes)" if dirty.strip() else "")


def run(modules: list[str], max_children: int, sample: int | None = None) -> None:
    """Mutate the modules and run the tests against every mutant, or a random sample per module."""
    work = prepare(modules)
    env = _env()
    start = time.monotonic()
    mutmut = [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children)]
    with open(work / "mutmut.log", "w") as log:
        names: list[str] = []
        if sample:  # generate the mutants and the test statistics, run none; then draw the sample
            subprocess.run([*mutmut, "no-such-mutant"], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
            every = sorted(statuses(work))
            for module in modules:
                own = [n for n in every if n.startswith(f"sim.{module}.")]
                names += sorted(random.Random(16).sample(own, min(sample, len(own))))
            (work / "sample.txt").write_text(f"{len(names)} of {len(every)} mutants\n" + "\n".join(names) + "\n")
        subprocess.run([*mutmut, *names], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    fresh_retest(work, max_children)
    report(work, minutes=(time.monotonic() - start) / 60)


def fresh_retest(work: Path, max_children: int) -> None:
    """Test each import-time survivor in a new process that imports sim with the mutant switched on."""
    def killed(name: str) -> bool:
        env = _env() | {"MUTANT_UNDER_TEST": name}
        done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *TESTS],
                              cwd=work / "mutants", env=env, capture_output=True, timeout=600)
        return done.returncode != 0
    survivors = [n for n, s in statuses(work).items() if s not in ("killed", "timeout", "not checked")
                 and n.startswith(IMPORT_TIME)]
    with ThreadPoolExecutor(max_children) as pool:
        kills = [n for n, k in zip(survivors, pool.map(killed, survivors)) if k]
    fresh = work / "fresh_kills.txt"
    before = fresh.read_text().split() if fresh.exists() else []
    fresh.write_text("".join(f"{n}\n" for n in sorted({*before, *kills})))


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return env | {"HYPOTHESIS_PROFILE": "mutation"}


def retest(modules: list[str], max_children: int) -> None:
    """Run the current tests against the survivors of the last run (the mutants stay as they were)."""
    work = WORK / "+".join(modules)
    for name in COPY:
        if name.startswith("tests/"):
            shutil.copy2(ROOT / name, work / name)
    survivors = [n for n, s in statuses(work).items() if s not in ("killed", "timeout", "not checked")]
    measured = (work / "commit.txt").read_text().strip()
    (work / "commit.txt").write_text(f"{measured}, survivors retested with the tests of {commit()}")
    start = time.monotonic()
    with open(work / "mutmut.log", "a") as log:
        subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children), *survivors],
                       cwd=work, env=_env(), stdout=log, stderr=subprocess.STDOUT, check=False)
    fresh_retest(work, max_children)
    report(work, minutes=(time.monotonic() - start) / 60)


def statuses(work: Path) -> dict[str, str]:
    """Mutant name -> status (killed, survived, timeout, no tests, ...) of the last run; survivors
    killed in a fresh process (fresh_kills.txt) count as killed."""
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=work,
                         capture_output=True, text=True, check=True).stdout
    status = dict(re.findall(r"^\s+(\S+): (.+)$", out, flags=re.M))
    fresh = work / "fresh_kills.txt"
    for name in fresh.read_text().split() if fresh.exists() else ():
        status[name] = "killed"
    return status


def report(work: Path, minutes: float | None = None) -> None:
    """Score per module (killed / tested; timeouts count as killed) and the survivors' diffs."""
    status = statuses(work)
    measured = (work / "commit.txt").read_text()
    took = f" in {minutes:.1f} min" if minutes is not None else ""
    lines = [f"Measured on {measured}{took}."]
    for module in sorted({name.split(".")[1] for name in status}):
        own = {n: s for n, s in status.items() if n.startswith(f"sim.{module}.")}
        counts = Counter(own.values())
        killed = counts["killed"] + counts["timeout"]
        tested = len(own) - counts["skipped"] - counts["not checked"]   # "not checked": outside the sample
        score = 100 * killed / tested if tested else float("nan")
        lines.append(f"sim/{module}.py: {killed}/{tested} killed ({score:.0f}%) of {len(own)} mutants; "
                     f"{dict(counts)}")
    print("\n".join(lines), flush=True)
    survivors = [name for name, s in status.items() if s not in ("killed", "timeout", "not checked")]
    with open(work / "survivors.md", "w") as f:
        f.write("# " + "\n# ".join(lines) + "\n\n")
        for name in survivors:
            diff = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=work,
                                  capture_output=True, text=True).stdout
            f.write(f"```diff\n{diff.strip()}\n```\n\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help=f"rule modules to mutate (default: all of {RULE_MODULES})")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested in parallel")
    parser.add_argument("--sample", type=int, default=None,
                        help="test only this many mutants per module, drawn at random (seed 16)")
    parser.add_argument("--retest", action="store_true", help="retest the last run's survivors with the "
                        "current tests")
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
        run(modules, args.max_children, args.sample)


if __name__ == "__main__":
    main()
