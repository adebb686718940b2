"""``hydra/launcher=forked``: each job of a sweep in a process forked from the launching one.

Hydra's joblib launcher always starts its workers as fresh interpreters (joblib's ``loky``
backend, hard-coded): each imports the model, Mesa, pandas, numba and Hydra again, about 2 CPU-s
a worker, and receives the config and Hydra's state by pickle. A process forked from the one
that already imported all of it starts in milliseconds and shares its memory; each job is then
what it is under joblib: its sweep config composed (or taken from the sweep's own composition,
see ``composer``), ``hydra.job.num`` set, Hydra's ``run_job`` called. Same jobs, same configs,
same results (tests/test_experiments.py holds the launchers to bit-identical results).

Fork copies only the forking thread: a lock another thread holds at that moment stays held in
the child for ever. The launching process's one other thread is the sweep's progress bar
(``experiments.sweep.Progress``), which takes :data:`FORK_LOCK` for each of its ticks; this
launcher forks only while holding it.

Hydra's plugin discovery executes this module again: over the imported module, which replaces
:data:`FORK_LOCK` (so look it up at each use, ``forked_launcher.FORK_LOCK``, never ``from ...
import FORK_LOCK``; and no ``os.register_at_fork`` hook, which would be registered twice), or
outside ``sys.modules``, where a dataclass cannot resolve string annotations (so no ``from
__future__ import annotations``).

POSIX only (``fork``); elsewhere use ``hydra/launcher=joblib``.
"""

import gc
import logging
import os
import signal
import sys
import threading
from collections import deque
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Optional, Sequence

from hydra.core.config_store import ConfigStore
from hydra.core.utils import JobReturn, configure_log, filter_overrides, run_job, setup_globals
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from hydra.utils import get_method
from omegaconf import DictConfig, open_dict

log = logging.getLogger(__name__)
FORK_LOCK = threading.Lock()   # held by a thread of the launching process while it must not be forked


@dataclass
class ForkedLauncherConf:
    _target_: str = "hydra_plugins.buurtsim_launcher.forked_launcher.ForkedLauncher"
    n_jobs: int = -1   # workers at once; -1 = every core, -2 = all but one (as joblib's n_jobs)
    # a function (master config, job overrides) -> the job's config, or None to let Hydra compose
    # it; the sweep's takes the config it composed to validate the job (null: Hydra always)
    composer: Optional[str] = "experiments.sweep.job_config"
    # a function called once before the first fork: what it loads, every job shares
    preload: Optional[str] = "experiments.sweep.load_model"


ConfigStore.instance().store(group="hydra/launcher", name="forked", node=ForkedLauncherConf,
                             provider="buurtsim")


def workers(n_jobs: Optional[int]) -> int:
    """Workers for ``n_jobs``: as joblib counts them (-1 every core of this process, -2 one less)."""
    n = int(n_jobs or -1)
    return max(1, n if n > 0 else len(os.sched_getaffinity(0)) + 1 + n)


_launcher: Optional["ForkedLauncher"] = None   # the launcher whose jobs the forked workers run


def _execute(idx: int, overrides: Sequence[str]) -> JobReturn:
    """One job in a forked worker: its sweep config, then Hydra's ``run_job`` (as joblib's does)."""
    launcher = _launcher
    assert launcher is not None and launcher.config is not None and launcher.hydra_context is not None
    compose = get_method(launcher.composer) if launcher.composer else None
    sweep_config = compose(launcher.config, overrides) if compose else None
    if sweep_config is None:
        sweep_config = launcher.hydra_context.config_loader.load_sweep_config(launcher.config,
                                                                              list(overrides))
    with open_dict(sweep_config):
        sweep_config.hydra.job.id = f"{sweep_config.hydra.job.name}_{idx}"
        sweep_config.hydra.job.num = idx
    # (run_job sets HydraConfig to the job's config itself)
    return run_job(hydra_context=launcher.hydra_context, task_function=launcher.task_function,
                   config=sweep_config, job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")


def _worker(idx: int, overrides: Sequence[str], send: Connection) -> None:
    send.send(_execute(idx, overrides))


class ForkedLauncher(Launcher):
    """Each job in a process of its own, forked when a worker is free (``n_jobs`` at once).

    A job whose process dies (killed, out of memory) does not stop the others: the sweep ends
    once all have ended, then exits naming the dead jobs, without the sweep's tables; the runs
    they finished are in the cache, so the same command resumes."""

    def __init__(self, n_jobs: Optional[int] = -1, composer: Optional[str] = None,
                 preload: Optional[str] = None) -> None:
        self.n_jobs, self.composer, self.preload = n_jobs, composer, preload
        self.config: Optional[DictConfig] = None
        self.task_function: Optional[TaskFunction] = None
        self.hydra_context: Optional[HydraContext] = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        self.config, self.hydra_context, self.task_function = config, hydra_context, task_function

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        global _launcher
        assert self.config is not None
        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        n = workers(self.n_jobs)
        log.info(f"ForkedLauncher({n} workers) is launching {len(job_overrides)} jobs into {sweep_dir}")
        for idx, overrides in enumerate(job_overrides):
            log.info(f"\t#{initial_job_idx + idx} : {' '.join(filter_overrides(overrides))}")
        if self.preload and job_overrides:
            get_method(self.preload)()
        context = get_context("fork")
        pending = deque(enumerate(job_overrides))
        running: dict[Connection, tuple[int, BaseProcess]] = {}
        results: list[Optional[JobReturn]] = [None] * len(job_overrides)
        dead = []

        def job_name(i: int) -> str:
            return f"job {initial_job_idx + i} ({' '.join(job_overrides[i])})"

        _launcher = self
        gc.freeze()  # the parent's objects: never collected in a child, so their pages stay shared
        try:
            while pending or running:
                while pending and len(running) < n:
                    i, overrides = pending.popleft()
                    receive, send = context.Pipe(duplex=False)
                    process = context.Process(target=_worker, args=(initial_job_idx + i, overrides, send))
                    try:
                        with FORK_LOCK:
                            sys.stdout.flush()  # or the child would flush the parent's pending output again
                            sys.stderr.flush()
                            process.start()
                    except OSError as error:  # no memory or processes left: the other jobs go on
                        dead.append(f"{job_name(i)}: could not be started ({error})")
                        receive.close()
                        continue
                    finally:
                        send.close()  # the child's end: closed in the child too when it ends: EOF
                    running[receive] = (i, process)
                for receive in wait(list(running)):
                    i, process = running.pop(receive)
                    why = None
                    try:
                        results[i] = receive.recv()
                    except EOFError:   # ended without sending: killed, or failed outside run_job
                        pass
                    except Exception as error:  # noqa: BLE001 - a result this process cannot read
                        why = f"its result could not be read ({type(error).__name__}: {error})"
                    receive.close()
                    process.join()
                    if results[i] is None:
                        dead.append(f"{job_name(i)}: {why or exit_reason(process.exitcode)}")
        finally:
            _launcher = None
            gc.unfreeze()
            for _, process in running.values():
                process.terminate()
                process.join()
        if dead:
            raise SystemExit(f"{len(dead)} job(s) of the sweep ended without a result: " + "; ".join(dead)
                             + f". The runs they finished are in the cache; run the same command again to "
                             f"compute the rest (sweep directory {sweep_dir})")
        return results  # type: ignore[return-value]  # every job returned


def exit_reason(code: Optional[int]) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"its process was killed by {name} (out of memory, or by hand?)"
    return f"its process exited with status {code}"
