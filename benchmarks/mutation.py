"""Mutation testing of the model's rule modules with mutmut 3 (issue 16). Not in CI: it takes long.

    nice -n 10 python -m benchmarks.mutation                  # every rule module, one after another
    nice -n 10 python -m benchmarks.mutation police chat      # some of them
    nice -n 10 python -m benchmarks.mutation --sample 40      # a random sample of each module's mutants
    python -m benchmarks.mutation --report                    # the scores of the last runs, no new run

Each module is mutated in its own scratch copy of the project (``results/mutation/<module>/``),
so runs never share mutmut's state and pyproject.toml needs no mutmut section. Per mutant only
the fast tests in ``TESTS`` run (hypothesis with its ``mutation`` profile, tests/conftest.py); a
mutant is killed when one of them fails. The score per module and every surviving mutant (with
its diff) go to ``results/mutation/<module>/survivors.md``; docs/testing.md records the measured
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
COPY = ("sim", "tests/conftest.py", "tests/test_invariants.py", "tests/test_model.py", "pyproject.toml")


def prepare(module: str) -> Path:
    """A scratch copy of the project whose mutmut configuration mutates ``sim/<module>.py`` only."""
    work = WORK / module
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
        f"only_mutate = sim/{module}.py\n"
        f"pytest_add_cli_args_test_selection =\n    {lines(TESTS)}\n"
        "pytest_add_cli_args =\n    -p\n    no:cacheprovider\n")
    return work


def commit() -> str:
    """The commit measured, marked dirty if sim/ or the tests differ from it."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", *COPY], capture_output=True, text=True).stdout
    return head + (" (with uncommitted changes)" if dirty.strip() else "")


def run(module: str, max_children: int, sample: int | None = None) -> None:
    """Mutate the module and run the tests against every mutant, or against a random sample."""
    work = prepare(module)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["HYPOTHESIS_PROFILE"] = "mutation"
    start = time.monotonic()
    mutmut = [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children)]
    with open(work / "mutmut.log", "w") as log:
        names: list[str] = []
        if sample:  # generate the mutants and the test statistics, run none; then draw the sample
            subprocess.run([*mutmut, "no-such-mutant"], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
            every = sorted(statuses(module))
            names = sorted(random.Random(16).sample(every, min(sample, len(every))))
            (work / "sample.txt").write_text(f"{len(names)} of {len(every)} mutants\n" + "\n".join(names) + "\n")
        subprocess.run([*mutmut, *names], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    report(module, minutes=(time.monotonic() - start) / 60)


def statuses(module: str) -> dict[str, str]:
    """Mutant name -> status (killed, survived, timeout, no tests, ...) of the last run."""
    work = WORK / module
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=work,
                         capture_output=True, text=True, check=True).stdout
    return dict(re.findall(r"^\s+(\S+): (.+)$", out, flags=re.M))


def report(module: str, minutes: float | None = None) -> dict[str, int]:
    status = statuses(module)
    counts = Counter(status.values())
    killed = counts["killed"] + counts["timeout"]
    tested = len(status) - counts["skipped"] - counts["not checked"]   # "not checked": outside the sample
    score = 100 * killed / tested if tested else float("nan")
    took = f", {minutes:.1f} min" if minutes is not None else ""
    measured = (WORK / module / "commit.txt").read_text()
    line = (f"sim/{module}.py at {measured}: {killed}/{tested} mutants killed ({score:.1f}%){took}; "
            f"{dict(counts)}")
    print(line, flush=True)
    survivors = [name for name, s in status.items() if s not in ("killed", "timeout", "not checked")]
    work = WORK / module
    with open(work / "survivors.md", "w") as f:
        f.write(f"# {line}\n\n")
        for name in survivors:
            diff = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=work,
                                  capture_output=True, text=True).stdout
            f.write(f"```diff\n{diff.strip()}\n```\n\n")
    return {"killed": killed, "tested": tested, "survived": len(survivors)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help=f"rule modules to mutate (default: all of {RULE_MODULES})")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested in parallel")
    parser.add_argument("--sample", type=int, default=None,
                        help="test only this many mutants per module, drawn at random (seed 16)")
    parser.add_argument("--report", action="store_true", help="only report the last runs")
    args = parser.parse_args(argv)
    unknown = set(args.modules) - set(RULE_MODULES)
    if unknown:
        parser.error(f"not a rule module: {sorted(unknown)}; choose from {RULE_MODULES}")
    for module in args.modules or RULE_MODULES:
        if args.report:
            report(module)
        else:
            run(module, args.max_children, args.sample)


if __name__ == "__main__":
    main()
