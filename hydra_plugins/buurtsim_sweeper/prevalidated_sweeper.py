"""Hydra's basic sweeper, without composing every job's config a second time before launch.

The basic sweeper composes the config of each job in the launching process to catch errors early
(about 0.15 s a job: 45 s of serial work for a 300-run sweep). ``experiments.sweep.SweepCallback``
already validates each *distinct* config before the sweep starts (jobs that differ only in their
seed share one), so that check is done once here instead of once per job.
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
    """The basic sweeper; jobs were validated by the sweep callback before the sweep started."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        return None
