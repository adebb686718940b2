"""``seeds=auto``: the prevalidated sweeper, launching one batch of seeds at a time until every
headline effect is precise enough (the rule is in ``experiments.precision``; conf/seeds/auto.yaml)."""

from dataclasses import dataclass
from typing import Dict, Optional  # Hydra structured configs need typing generics

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore

from hydra_plugins.buurtsim_sweeper.prevalidated_sweeper import PrevalidatedSweeper


@dataclass
class PrecisionSweeperConf:
    _target_: str = "hydra_plugins.buurtsim_sweeper.precision_sweeper.PrecisionSweeper"
    max_batch_size: Optional[int] = None
    params: Optional[Dict[str, str]] = None
    precision: float = 5.0       # widest allowed 95% interval, in pp (shares) or % (counts, rates)
    batch: int = 10              # seeds added per round
    reference: str = "baseline"  # the scenario every effect is measured against


ConfigStore.instance().store(group="hydra/sweeper", name="precision", node=PrecisionSweeperConf,
                             provider="buurtsim")


class PrecisionSweeper(PrevalidatedSweeper):
    """Rounds of ``batch`` seeds (every other choice of the sweep for each, seeds batched per job
    as in the prevalidated sweeper); stops when precise."""

    def __init__(self, precision: float, batch: int, reference: str, max_batch_size: Optional[int] = None,
                 params: Optional[Dict[str, str]] = None) -> None:
        super().__init__(max_batch_size=None, params=params)
        if not precision > 0 or batch < 2:
            raise ValueError(f"seeds=auto needs precision > 0 and batch >= 2 (got {precision}, {batch})")
        self.precision, self.batch, self.reference = float(precision), int(batch), reference
        self.reached = False

    def split_arguments(self, overrides, max_batch_size):  # type: ignore[override]
        from experiments import precision, sweep
        runs = [job for b in BasicSweeper.split_arguments(overrides, None) for job in b]
        self.budget = len(precision.seed_batches(runs, 1))
        rounds = precision.seed_batches(runs, self.batch)
        return [sweep.batch_jobs(r, sweep.seeds_per_job(self.config, len(r))) for r in rounds]

    def is_done(self) -> bool:
        from experiments import precision
        if self.batch_index == 0:
            return False
        self.reached = precision.check(self.config, self.reference, self.precision, self.budget)["reached"]
        return self.reached or self.batch_index >= len(self.overrides)
