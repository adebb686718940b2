"""The posterior sample, and ``calibration=posterior``: every seed runs under its own parameter draw.

``conf/calibration/posterior.csv`` holds the weighted particles of the adopted calibration (natural
units, one column per model parameter, a ``weight`` column, a provenance header of ``#`` lines),
plus the carried-forward parameters drawn from their prior per row. ``conf/calibration/posterior.yaml``
(the Hydra option, written by :func:`write_conf`) sets each of those parameters to
``${posterior:posterior.csv,<name>,${seed}}``. The resolver draws one row per seed, weighted, from a
stream that depends only on the seed: every scenario and case at that seed gets the same parameter
set (pairs share world and parameters), different seeds get independent draws. Case, scenario and
command-line values are composed after the calibration, so they still win, and the drawn values are
part of the resolved parameters, hence of every run's key.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sim.params import FIELDS, check_value

CALIBRATION_DIR = Path(__file__).resolve().parent.parent / "conf" / "calibration"
SAMPLE_FILE = CALIBRATION_DIR / "posterior.csv"
CONF_FILE = CALIBRATION_DIR / "posterior.yaml"
DRAW_STREAM = 12   # separates the posterior draw from every other use of the seed


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> tuple[pd.DataFrame, np.ndarray]:
    del mtime   # part of the cache key only: an adopted new sample is read again
    try:
        table = pd.read_csv(path, comment="#")
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise ValueError(f"posterior sample {path}: cannot be read ({error})") from None
    if "weight" not in table or len(table) == 0:
        raise ValueError(f"posterior sample {path}: needs rows and a 'weight' column")
    unknown = sorted(set(table.columns) - set(FIELDS) - {"weight"})
    if unknown:
        raise ValueError(f"posterior sample {path}: unknown parameter column(s) {unknown}")
    w = table.pop("weight").to_numpy(dtype=float)
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"posterior sample {path}: weights must be finite, >= 0 and not all 0")
    for name in table.columns:
        column = table[name].to_numpy(dtype=float)
        if not np.all(np.isfinite(column)):
            raise ValueError(f"posterior sample {path}: parameter {name!r} has a missing or infinite value")
        check_value(name, float(column.min()))
        check_value(name, float(column.max()))
    return table, w / w.sum()


def load_sample(path: Path = SAMPLE_FILE) -> tuple[pd.DataFrame, np.ndarray]:
    """The validated sample: parameter table (one row per particle) and normalised weights."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"posterior sample {path} does not exist; adopt a calibration "
                         "(python -m experiments.calibrate --adopt)")
    return _load(str(path), path.stat().st_mtime)


def draw(seed: int, path: Path = SAMPLE_FILE) -> dict[str, float]:
    """The parameter set of ``seed``: one weighted draw, the same for every scenario and case."""
    table, w = load_sample(path)
    row = np.random.default_rng([DRAW_STREAM, int(seed)]).choice(len(w), p=w)
    return {k: float(v) for k, v in table.iloc[row].items()}


def _resolve(file: str, name: str, seed) -> float:
    return draw(int(seed), CALIBRATION_DIR / file)[name]


OmegaConf.register_new_resolver("posterior", _resolve, replace=True)


def write_sample(path: Path, prior, theta: np.ndarray, w: np.ndarray, carried, rng: np.random.Generator,
                 header: list[str]) -> None:
    """Write the posterior sample: model parameters of ``theta`` (study hyperparameters dropped),
    each row with its own draw of the ``carried`` parameters from their prior."""
    table = pd.DataFrame(theta, columns=prior.names)
    table = table[[n for n in prior.names if n in FIELDS]]
    if carried.names:
        table = table.join(pd.DataFrame(carried.sample(rng, len(table)), columns=carried.names))
    table["weight"] = w
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(header) + "\n" + table.to_csv(index=False, float_format="%.6g"))
    load_sample(path)


def write_conf(sample: Path = SAMPLE_FILE, conf: Path = CONF_FILE) -> None:
    """The Hydra option ``calibration=posterior`` for ``sample`` (one line per parameter)."""
    table, _ = load_sample(sample)
    rel = sample.name if sample.resolve().parent == CALIBRATION_DIR else sample.resolve()
    lines = ["# @package params",
             f"# Every seed draws its parameter set from the weighted posterior sample {rel}",
             "# (experiments/posterior.py; written by experiments.posterior.write_conf, do not edit).",
             "# Case, scenario and command-line values still win, as with every calibration."]
    lines += [f"{name}: ${{posterior:{rel},{name},${{seed}}}}" for name in table.columns]
    conf.write_text("\n".join(lines) + "\n")
