"""Results on disk: run keys, atomic writes, the run cache and the tables of a sweep.

Layout (results/README.md describes it for users)::

    <results_dir>/cache/<key>.json           summary and inputs of one completed run
    <results_dir>/cache/<key>.days.parquet   its per-day series
    <results_dir>/sweeps/<stamp>_<pid>-<rand>/ one directory per sweep (tables, config, provenance)
    <results_dir>/single/<stamp>_<pid>-<rand>/ one directory per single run

A run is complete when its ``.json`` exists; that file is written last, and every file is first
written under a temporary name and then renamed, so an interrupted sweep leaves only complete
files. Completed runs are found again by key, which is how a re-run sweep skips them.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import platform
import subprocess
import uuid
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

import sim

PACKAGES = ("mesa", "numpy", "networkx", "pandas", "pyarrow", "matplotlib", "scipy", "hydra-core",
            "omegaconf", "hydra-joblib-launcher", "hydra-submitit-launcher", "joblib", "submitit",
            "tqdm")
IDENTITY = ("case", "scenario", "calibration", "seed", "days")
SIM_DIR = Path(sim.__file__).parent


@functools.cache

def unique_suffix() -> str:
    """Process id and a random suffix: two commands started in the same second never collide."""
    return f"{os.getpid()}-{uuid.uuid4().hex[:6]}"


def new_results_dir(root: Path, kind: str) -> Path:
    """A fresh ``<root>/<kind>-<timestamp>_<unique>/`` for one command's outputs."""
    path = root / f"{kind}-{dt.datetime.now():%Y-%m-%d_%H-%M-%S}_{unique_suffix()}"
    path.mkdir(parents=True)
    return path

def model_fingerprint() -> str:
    """Hash of the model's source, so results of an edited model are never reused."""
    digest = hashlib.sha256()
    for path in sorted(SIM_DIR.rglob("*.py")):
        digest.update(path.relative_to(SIM_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def run_key(identity: dict[str, Any], params: dict[str, Any], runner: str) -> str:
    """Key of a run: case, scenario, calibration, seed, days, every parameter, runner and model."""
    payload = {**{k: identity[k] for k in IDENTITY}, "params": params, "runner": runner,
               "model": model_fingerprint()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


def atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """Write via ``write(temporary_path)``, then rename: readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, data: Any) -> None:
    atomic_write(path, lambda p: p.write_text(json.dumps(data, indent=1, default=str) + "\n"))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


# --- the run cache --------------------------------------------------------------------------
def cache_dir(results_dir: str | Path) -> Path:
    return Path(results_dir) / "cache"


def cached(cache: Path, key: str) -> bool:
    return (cache / f"{key}.json").exists()


def save_run(cache: Path, key: str, record: dict[str, Any], result: sim.RunResult) -> None:
    """Store a completed run: per-day series first, then the record that marks it complete."""
    days = result.days.reset_index(drop=result.days.index.name is None)
    atomic_write(cache / f"{key}.days.parquet", lambda p: days.to_parquet(p, index=False))
    write_json(cache / f"{key}.json", {**record, "summary": result.summary})


# --- sweep tables ---------------------------------------------------------------------------
def job_records(out_dir: Path) -> list[dict[str, Any]]:
    """The record each job of a sweep left (``jobs/<n>/run.json``), in job order."""
    paths = sorted(out_dir.glob("jobs/*/run.json"), key=lambda p: int(p.parent.name))
    return [read_json(p) for p in paths]


def runs_table(records: Iterable[dict[str, Any]], cache: Path) -> pd.DataFrame:
    """One row per run: identity, status, every summary outcome, every parameter (``param_*``)."""
    rows = []
    for rec in records:
        row = {k: rec.get(k) for k in (*IDENTITY, "status", "error", "seconds", "key")}
        done = rec["status"] in ("ok", "cached")
        summary = read_json(cache / f"{rec['key']}.json")["summary"] if done else {}
        row.update({name: summary.get(name, float("nan")) for name in sim.OUTCOME_NAMES})
        row.update({f"param_{k}": v for k, v in (rec.get("params") or {}).items()})
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else [*IDENTITY, "status"])


def days_table(runs: pd.DataFrame, cache: Path) -> pd.DataFrame:
    """The per-day series of every completed run, with the run's identity in front."""
    done = runs[runs["status"].isin(["ok", "cached"])]
    frames = [pd.read_parquet(cache / f"{r.key}.days.parquet").assign(
        **{k: getattr(r, k) for k in (*IDENTITY, "key")}) for r in done.itertuples()]
    if not frames:
        return pd.DataFrame(columns=[*IDENTITY, "key"])
    table = pd.concat(frames, ignore_index=True)
    front = [*IDENTITY, "key"]
    return table[front + [c for c in table.columns if c not in front]]


def write_tables(out_dir: Path, records: list[dict[str, Any]], cache: Path) -> pd.DataFrame:
    """runs.parquet/.csv, days.parquet and (if any) failures.csv of a sweep or single run."""
    runs = runs_table(records, cache)
    atomic_write(out_dir / "runs.parquet", lambda p: runs.to_parquet(p, index=False))
    atomic_write(out_dir / "runs.csv", lambda p: runs.to_csv(p, index=False))
    days = days_table(runs, cache)
    atomic_write(out_dir / "days.parquet", lambda p: days.to_parquet(p, index=False))
    failed = runs[runs["status"] == "failed"]
    if len(failed):
        failures = pd.DataFrame([r for r in records if r["status"] == "failed"])
        atomic_write(out_dir / "failures.csv", lambda p: failures.to_csv(p, index=False))
    return runs


# --- provenance -----------------------------------------------------------------------------
def versions() -> dict[str, Any]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return {"python": platform.python_version(), "platform": platform.platform(),
            "packages": found, "model_fingerprint": model_fingerprint()}


def git_state(repo: Path = SIM_DIR.parent) -> dict[str, Any]:
    """The commit and whether the work tree had uncommitted changes (None outside git)."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                                  timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(status) if status is not None else None}
