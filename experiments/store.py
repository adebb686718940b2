"""Results on disk: run keys, atomic writes, the run cache and the tables of a sweep.

Layout (results/README.md describes it for users)::

    <results_dir>/cache/<key>.json           summary and inputs of one completed run
    <results_dir>/cache/<key>.days.arrow     its per-day series
    <results_dir>/cache/national/<key>.json, <key>.groups.arrow   one batch of a national run
    <results_dir>/sweeps/<stamp>_<pid>-<rand>/ one directory per sweep (tables, config, provenance,
                                             jobs/<n>/runs.json: the records of job n's runs)
    <results_dir>/single/<stamp>_<pid>-<rand>/ one directory per single run

Every file is first written under a temporary name and then renamed, so an interrupted sweep
leaves only complete files. A cache entry is a table (``<key>.<table>.arrow``: an Arrow IPC file,
lz4-compressed, which ``pd.read_feather`` reads; a quarter of the CPU of parquet to write, a
tenth to read back) and a ``.json`` written after it that checks itself: it holds the sha256 of
the table and of its own content, so an entry that does not parse, lacks a field, belongs to
another key or fails a hash is named on stderr and computed again, never used.
Completed runs are found again by key, which is how a re-run sweep skips them; a per-key lock
(``<key>.lock``) makes a second sweep wait for a run another one is computing instead of
computing it twice. A sweep directory is complete when its ``complete.json`` exists.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import json
import os
import platform
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.ipc

import sim

PACKAGES = ("mesa", "numpy", "networkx", "pandas", "pyarrow", "matplotlib", "scipy", "hydra-core",
            "omegaconf", "hydra-joblib-launcher", "hydra-submitit-launcher", "joblib", "submitit",
            "tqdm")
IDENTITY = ("case", "scenario", "calibration", "seed", "days")
COMPLETE = "complete.json"   # the completion marker of a sweep or single-run directory
RECORDS = "runs.json"        # what one job did: the record (status, key, error) of each of its runs
SIM_DIR = Path(sim.__file__).parent
STORE_FORMAT = 2             # of cache entries, in every run key: an older layout is just a miss


def unique_suffix() -> str:
    """Process id and a random suffix: two commands started in the same second never collide."""
    return f"{os.getpid()}-{uuid.uuid4().hex[:6]}"


def new_results_dir(root: Path, kind: str) -> Path:
    """A fresh ``<root>/<kind>-<timestamp>_<unique>/`` for one command's outputs."""
    path = root / f"{kind}-{dt.datetime.now():%Y-%m-%d_%H-%M-%S}_{unique_suffix()}"
    path.mkdir(parents=True)
    return path


@functools.cache
def model_fingerprint() -> str:
    """Hash of the model's source, so results of an edited model are never reused.

    Computed once per process: it identifies the model this process imported."""
    digest = hashlib.sha256()
    for path in sorted(SIM_DIR.rglob("*.py")):
        digest.update(path.relative_to(SIM_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def run_key(identity: dict[str, Any], params: dict[str, Any], runner: str) -> str:
    """Key of a run: case, scenario, calibration, seed, days, every parameter, runner and model."""
    payload = {**{k: identity[k] for k in IDENTITY}, "params": params, "runner": runner,
               "model": model_fingerprint(), "store": STORE_FORMAT}
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


class DamagedEntry(Exception):
    """A cache entry that cannot be used; the message names the file and what is wrong."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_hash(entry: dict[str, Any]) -> str:
    """sha256 of an entry's canonical JSON, without its own ``sha256`` field."""
    body = {k: v for k, v in entry.items() if k != "sha256"}
    return sha256(json.dumps(body, sort_keys=True).encode())


def load_entry(cache: Path, key: str, table: str = "days", fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """The verified entry ``<key>.json`` and its ``<key>.<table>.arrow``; FileNotFoundError if
    there is none, DamagedEntry if it cannot be trusted. ``fields`` must be JSON objects in it."""
    path, data_path = cache / f"{key}.json", table_path(cache, key, table)
    data = path.read_bytes()
    try:
        entry = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DamagedEntry(f"{path} is {'empty' if not data.strip() else f'not JSON ({error})'}") from None
    if not isinstance(entry, dict):
        raise DamagedEntry(f"{path} is not a JSON object")
    missing = [f for f in ("key", *fields, f"{table}_sha256", "sha256") if f not in entry]
    if missing:
        raise DamagedEntry(f"{path} lacks the field(s) {missing}")
    if entry["sha256"] != content_hash(entry):
        raise DamagedEntry(f"{path} fails its content hash (edited or damaged)")
    if entry["key"] != key or not all(isinstance(entry[f], dict) for f in fields):
        raise DamagedEntry(f"{path} is the entry of another run ({entry['key']})")
    if not data_path.exists():
        raise DamagedEntry(f"{data_path} is missing")
    if sha256(data_path.read_bytes()) != entry[f"{table}_sha256"]:
        raise DamagedEntry(f"{data_path} fails its hash (damaged, or another run's series)")
    return entry


def load_run(cache: Path, key: str) -> dict[str, Any]:
    """The verified cache entry of run ``key`` (see :func:`load_entry`)."""
    return load_entry(cache, key, "days", fields=("summary",))


def cached(cache: Path, key: str, report: bool = True, table: str = "days",
           fields: tuple[str, ...] = ("summary",)) -> bool:
    """Whether ``key`` has a sound cache entry (a run's, unless ``table`` and ``fields`` say
    otherwise); a damaged one is named on stderr (``report``)."""
    try:
        load_entry(cache, key, table, fields)
    except FileNotFoundError:
        return False
    except DamagedEntry as damage:
        if report:
            print(f"cache: {damage}; recomputing", file=sys.stderr)
        return False
    return True


@contextlib.contextmanager
def lock(cache: Path, key: str) -> Iterator[None]:
    """Hold ``<key>.lock`` (an OS lock, released if the process dies) while an entry is computed."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"{key}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save_entry(cache: Path, key: str, record: dict[str, Any], table: pd.DataFrame,
               name: str = "days") -> None:
    """Store a completed computation: its table ``<key>.<name>.arrow`` first, then the
    self-checking ``<key>.json`` that marks it complete (``record``, the table's sha256 and the
    entry's own content hash)."""
    data = table_bytes(table)
    atomic_write(table_path(cache, key, name), lambda p: p.write_bytes(data))
    entry = json.loads(json.dumps({**record, "key": key, f"{name}_sha256": sha256(data)},
                                  default=str))  # as read back
    write_json(cache / f"{key}.json", {**entry, "sha256": content_hash(entry)})


def table_path(cache: Path, key: str, name: str) -> Path:
    return cache / f"{key}.{name}.arrow"


def table_bytes(table: pd.DataFrame) -> bytes:
    """``table`` (its columns, not its index) as an lz4-compressed Arrow IPC file, from its numpy
    columns (a run's day table: 1 ms and 38 KB, against parquet's 4 ms and 45 KB);
    ``pd.read_feather`` reads back the same frame."""
    arrays = {}
    for dtype in table.dtypes.unique():  # a block of columns at a time: half the cost of one by one
        part = table.loc[:, table.dtypes == dtype]
        arrays.update(zip(part.columns, part.to_numpy().T))
    columns = pa.table({str(c): arrays[c] for c in table.columns})
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression="lz4", use_threads=False)  # threads: 3x the CPU
    with pa.ipc.new_file(sink, columns.schema, options=options) as writer:
        writer.write_table(columns)
    return sink.getvalue().to_pybytes()


def read_table(cache: Path, key: str, name: str) -> pa.Table:
    """The table of entry ``key`` (load the entry first: this does not verify it)."""
    with pa.ipc.open_file(table_path(cache, key, name),
                          options=pa.ipc.IpcReadOptions(use_threads=False)) as reader:
        return reader.read_all()


def save_run(cache: Path, key: str, record: dict[str, Any], result: sim.RunResult) -> None:
    """Store a completed run: its summary in the entry, its per-day series as the table."""
    days = result.days.reset_index(drop=result.days.index.name is None)
    save_entry(cache, key, {**record, "summary": result.summary}, days, "days")


# --- sweep tables ---------------------------------------------------------------------------
def job_records(out_dir: Path) -> list[dict[str, Any]]:
    """The record of every run of a sweep, in job order (``jobs/<n>/runs.json``: the runs of job
    n, one or a batch of seeds)."""
    paths = sorted(out_dir.glob(f"jobs/*/{RECORDS}"), key=lambda p: int(p.parent.name))
    return [record for p in paths for record in read_json(p)]


def runs_table(records: Iterable[dict[str, Any]], cache: Path) -> pd.DataFrame:
    """One row per run: identity, status, every summary outcome, every parameter (``param_*``)."""
    rows = []
    for rec in records:
        row = {k: rec.get(k) for k in (*IDENTITY, "status", "error", "seconds", "key")}
        done = rec["status"] in ("ok", "cached")
        summary = load_run(cache, rec["key"])["summary"] if done else {}
        row.update({name: summary.get(name, float("nan")) for name in sim.OUTCOME_NAMES})
        row.update({f"param_{k}": v for k, v in (rec.get("params") or {}).items()})
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else [*IDENTITY, "status"])


def days_table(runs: pd.DataFrame, cache: Path) -> pd.DataFrame:
    """The per-day series of every completed run, with the run's identity in front (the Arrow
    tables joined before converting once to pandas)."""
    done = runs[runs["status"].isin(["ok", "cached"])]
    front = [*IDENTITY, "key"]
    if not len(done):
        return pd.DataFrame(columns=front)
    tables = [read_table(cache, key, "days") for key in done["key"]]
    series = pa.concat_tables(tables, promote_options="permissive").to_pandas()
    identity = pd.DataFrame({c: done[c].to_numpy().repeat([t.num_rows for t in tables]) for c in front})
    return pd.concat([identity, series.drop(columns=[c for c in front if c in series])], axis=1)


def write_tables(out_dir: Path, records: list[dict[str, Any]], cache: Path) -> pd.DataFrame:
    """runs.parquet/.csv, days.parquet, (if any) failures.csv, then the completion marker."""
    runs = runs_table(records, cache)
    atomic_write(out_dir / "runs.parquet", lambda p: runs.to_parquet(p, index=False))
    atomic_write(out_dir / "runs.csv", lambda p: runs.to_csv(p, index=False))
    days = days_table(runs, cache)
    atomic_write(out_dir / "days.parquet", lambda p: days.to_parquet(p, index=False))
    failed = runs[runs["status"] == "failed"]
    if len(failed):
        failures = pd.DataFrame([r for r in records if r["status"] == "failed"])
        atomic_write(out_dir / "failures.csv", lambda p: failures.to_csv(p, index=False))
    mark_complete(out_dir, runs)
    return runs


def mark_complete(out_dir: Path, runs: pd.DataFrame) -> None:
    """Write the completion marker, last, once ``out_dir`` has all its tables (of ``runs``)."""
    write_json(out_dir / COMPLETE, {"finished": dt.datetime.now().isoformat(timespec="seconds"),
                                    "runs": len(runs), "status": runs["status"].value_counts().to_dict()})


def missing_runs(out_dir: Path) -> list[str] | None:
    """None if the sweep (or single run) in ``out_dir`` is complete; else every planned run that
    left no record, by the overrides that tell it from the others (empty if all runs left one but
    the tables were not written)."""
    if (out_dir / COMPLETE).exists():
        return None
    try:
        jobs = read_json(out_dir / "provenance.json")["jobs"]
        shared = set.intersection(*(set(job) for job in jobs))
    except (OSError, ValueError, KeyError, TypeError):
        jobs, shared = [], set()
    done = {tuple(r.get("overrides") or ()) for r in job_records(out_dir)}
    return [" ".join(o for o in job if o not in shared) or "the only run" for job in jobs
            if tuple(job) not in done]


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
