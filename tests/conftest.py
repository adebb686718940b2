"""Hypothesis profiles (issue 16): derandomised and fixed in CI, larger for local exploration.

- ``ci`` (the default, and what ``./run.sh tests`` and CI use): derandomised, so two runs test the
  same examples; enough examples that the random-parameter invariants meet removals, arrests and
  crowds (tests/test_invariants.py also checks those in fixed busy worlds).
- ``dev``: ten times the examples, random each run: ``HYPOTHESIS_PROFILE=dev pytest ...``.
- ``mutation``: few fixed examples, for the per-mutant runs of benchmarks/mutation.py.
"""

import os

from hypothesis import HealthCheck, settings

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("ci", derandomize=True, database=None, max_examples=40, **_common)
settings.register_profile("dev", max_examples=400, **_common)
settings.register_profile("mutation", derandomize=True, database=None, max_examples=5, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
