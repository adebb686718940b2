"""The structured config: a mistyped key or a value of the wrong type is an error at composition.

The ``params`` node is generated from ``sim.params.FIELDS``, so the model's parameter list stays
the one source of truth. Ranges are not checked here but by ``sim.Params`` itself, before any run
(see ``experiments.sweep``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, List, Optional  # Hydra structured configs need typing generics

import hydra.utils
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

import sim
from experiments import posterior, store  # noqa: F401  (posterior: registers ${posterior:...})
from sim.params import FIELDS

_TYPES = {"int": int, "float": float, "bool": bool, "str": str}

ParamsConf = dataclasses.make_dataclass(
    "ParamsConf",
    [(name, _TYPES.get(f.type, f.type), field(default=f.default)) for name, f in FIELDS.items()],
)
ParamsConf.__doc__ = "Every sim.Params field, typed, with the model's defaults."


@dataclass
class ExperimentConf:
    """What one run needs besides the case and scenario choices (see conf/config.yaml)."""

    params: ParamsConf = field(default_factory=ParamsConf)  # type: ignore[valid-type]
    seed: int = 0
    days: int = 365
    results_dir: str = "results"
    compare: bool = True
    runner: str = "sim.run"
    seeds_per_job: Any = "auto"          # a sweep runs a batch of seeds per Hydra job (experiments.sweep)
    job_seeds: Optional[List[int]] = None  # set by the sweeper: the seeds of this job (None: seed)


ConfigStore.instance().store(name="buurtsim_schema", node=ExperimentConf)
# calibration=calibrated is the package's own calibration (sim/calibrated.yaml), so the API and the
# command line share one set of defaults; conf/calibration/ holds the others (none: uncalibrated).
ConfigStore.instance().store(group="calibration", name="calibrated", package="params",
                             node=sim.params.calibration_values("calibrated"))

# Unique per invocation (cached, so every job of a sweep resolves the same sweep directory).
OmegaConf.register_new_resolver("unique", store.unique_suffix, use_cache=True, replace=True)


def to_params(cfg: DictConfig) -> sim.Params:
    """The composed ``params`` node as validated model parameters (ValueError names the culprit)."""
    return sim.Params.from_dict(OmegaConf.to_container(cfg.params, resolve=True))


def check_run(cfg: DictConfig, params: sim.Params | None = None) -> sim.Params:
    """Validate everything a run takes from the config; return its parameters (``params``, if
    already resolved from this config)."""
    for name in ("seed", "days"):
        value, low = cfg[name], 0 if name == "seed" else 1
        if value < low:
            raise ValueError(f"{name} = {value} must be at least {low}")
    try:
        hydra.utils.get_method(cfg.runner)
    except Exception:  # noqa: BLE001 - Hydra's message says only "error locating target"
        raise ValueError(f"runner = {cfg.runner!r} is not a function that can be imported") from None
    return params if params is not None else to_params(cfg)


class SeedParams:
    """The parameters of one composition at each of its seeds (:func:`check_run` for each):
    resolved once if the ``params`` node holds no interpolation, so that no seed can change them
    (about 0.7 ms saved a run), else at every seed (``calibration=posterior`` draws them
    by ``${seed}``)."""

    def __init__(self) -> None:
        self.fixed: sim.Params | None = None
        self.interpolated: bool | None = None

    def __call__(self, cfg: DictConfig) -> sim.Params:
        params = check_run(cfg, self.fixed)
        if self.interpolated is None:
            self.interpolated = any(OmegaConf.is_interpolation(cfg.params, k) for k in cfg.params)
        if not self.interpolated:
            self.fixed = params
        return params
