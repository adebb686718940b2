"""Hydra's basic sweeper, with a batch of seeds per job, and without composing every job's config
a second time before launch.

Each Hydra job costs a config composition and set-up (a few tenths of a CPU-second), more than
many runs of the model; so runs that differ only in their seed go to one job, ``seeds_per_job``
at a time (``experiments.sweep.batch_jobs``; ``auto`` sizes the batches to the launcher's
workers). The basic sweeper also composes the config of each job in the launching process to catch
errors early (about 0.15 s a job); ``experiments.sweep.SweepCallback`` already validates each
*distinct* config before the sweep starts, so that check is done once there instead of per job.
"""


from collections.abc import Sequence
from dataclasses import dataclass
from typing import Dict, Optional  # Hydra structured configs need typing generics

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore


@dataclass
class PrevalidatedSweeperConf:
    _target_: str = "hydra_plugins.buurtsim_sweeper.prevalidated_sweeper.PrevalidatedSweeper"
    max_batch_size: Optional[int] = None
    params: Optional[Dict[str, str]] = None


ConfigStore.instance().store(group="hydra/sweeper", name="prevalidated", node=PrevalidatedSweeperConf,
                             provider="buurtsim")


class PrevalidatedSweeper(BasicSweeper):
    """The basic sweeper, seeds batched per job; jobs were validated by the sweep callback."""

    def split_arguments(self, overrides, max_batch_size):  # type: ignore[override]
        from experiments import sweep
        runs = [job for b in BasicSweeper.split_arguments(overrides, None) for job in b]
        return [sweep.batch_jobs(runs, sweep.seeds_per_job(self.config, len(runs)))]

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        return None
