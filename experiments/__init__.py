"""Experiments: Hydra configs in, scenario sweeps and comparison tables out.

The simulation (``sim``) knows nothing of Hydra or files. This package reads a composed config
once, turns it into ``sim.Params`` at the edge, runs ``sim.run`` and records what came out:

- ``experiments.schema``: the structured (typed) config, generated from ``sim.params.FIELDS``;
- ``experiments.store``: run keys, atomic writes, the run cache and the sweep tables;
- ``experiments.sweep``: the Hydra app (one run per job) and the sweep callback
  (checks before any run, progress bar, resume, tables at the end);
- ``experiments.run``: the command line entry point, ``python -m experiments.run``;
- ``experiments.compare``: scenario means, paired differences to baseline, tables and figures.
"""
