"""Hypothesis profiles (issue 16): derandomised and fixed in CI, larger for local exploration.

- ``ci`` (the default, and what ``./run.sh tests`` and CI use): derandomised, so two runs test the
  same examples; enough examples that the random-parameter invariants meet removals, arrests and
  crowds (tests/test_invariants.py also checks those in fixed busy worlds).
- ``dev``: ten times the examples, random each run: ``HYPOTHESIS_PROFILE=dev pytest ...``.
- ``mutation``: few fixed examples, for the per-mutant runs of benchmarks/mutation.py.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("ci", derandomize=True, database=None, max_examples=40, **_common)
settings.register_profile("dev", max_examples=400, **_common)
settings.register_profile("mutation", derandomize=True, database=None, max_examples=5, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


_UNGROUPED = pytest.StashKey[str]()


@pytest.hookimpl(trylast=True)   # after pytest-xdist has added each group's name to its tests' ids
def pytest_collection_modifyitems(config, items):
    """Tests marked ``xdist_group`` share a file, a fixture or a cluster and must run on one worker.
    pytest-xdist does that by suffixing their node ids with ``@<group>``; if a pytest or xdist
    version stops doing so (pytest 9.2 with xdist 3.8 did, silently), those tests fail, not race."""
    if getattr(config.option, "loadgroup", False):
        for item in items:
            if item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
                item.stash[_UNGROUPED] = ("--dist loadgroup did not group this xdist_group test: this pytest / "
                                          "pytest-xdist pair is incompatible (see pyproject.toml)")


def pytest_runtest_setup(item):
    if _UNGROUPED in item.stash:
        pytest.fail(item.stash[_UNGROUPED], pytrace=False)
