"""Command line: ``python -m experiments.run [-m] [overrides]``.

One run::

    python -m experiments.run case=lastage scenario=officer_in_group seed=3

A sweep (all scenarios x 30 seeds is the default sweep, so ``-m`` alone runs it)::

    python -m experiments.run -m scenario='glob(*)' seed='range(30)'
"""

from experiments.sweep import main

if __name__ == "__main__":
    main()
