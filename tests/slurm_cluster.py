"""A real single-node Slurm cluster on this machine, from Debian's packages, for the launcher tests.

Daemons: munged (authentication), a private MariaDB server and slurmdbd (accounting: submitit asks
``sacct`` whether a job has ended, so a cancelled job is seen as cancelled), slurmctld and slurmd,
all on 127.0.0.1, with every file under one state directory. Needs root (slurmd runs jobs as their
user) and the packages ``slurm-wlm slurmdbd munge mariadb-server`` (``./run.sh tests`` installs
them). ``start()`` raises ``ClusterError`` with the reason when the cluster cannot be brought up;
nothing here skips.

    python -m tests.slurm_cluster          # start one by hand; prints the SLURM_CONF to export
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "mariadbd", "mariadb-install-db", "slurmdbd", "slurmctld", "slurmd", "sbatch",
           "sacct", "sacctmgr", "squeue", "scancel", "sinfo")
PACKAGES = "slurm-wlm slurmdbd munge mariadb-server"


class ClusterError(RuntimeError):
    pass


def _which(name: str) -> str:
    for folder in ("", "/usr/sbin/", "/usr/bin/", "/sbin/"):
        path = shutil.which(name) if not folder else (folder + name if os.access(folder + name, os.X_OK) else None)
        if path:
            return path
    raise ClusterError(f"{name} not found: install the Debian packages {PACKAGES} (as root; "
                       "./run.sh tests does it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, ready, seconds: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.5)
    tail = ""
    if log is not None and log.exists():
        tail = "; last log lines:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
    raise ClusterError(f"{what} did not come up within {seconds:.0f} s{tail}")


class SlurmCluster:
    """Start with ``start()``, stop with ``stop()``; ``env`` is the environment clients need."""

    def __init__(self, state_dir: Path, cpus: int = 2, memory_mb: int = 4000):
        self.dir = Path(state_dir)
        self.cpus, self.memory_mb = cpus, memory_mb
        self.node = socket.gethostname().split(".")[0]
        self.conf = self.dir / "slurm.conf"
        self.processes: list[subprocess.Popen] = []
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}

    # -- the pieces ------------------------------------------------------------------------------
    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        with open(self.dir / f"{name}.out", "ab") as log:  # the daemon keeps its own copy
            proc = subprocess.Popen([_which(name), *args], stdout=log, stderr=subprocess.STDOUT,
                                    env=self.env, start_new_session=True)
        self.processes.append(proc)
        return proc

    def _run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([_which(cmd[0]), *cmd[1:]], capture_output=True, text=True,
                              env=self.env, timeout=60)
        if check and done.returncode:
            raise ClusterError(f"{' '.join(cmd)} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done

    def _munge(self) -> None:
        socket_dir = Path("/run/munge")
        if (socket_dir / "munge.socket.2").exists() and subprocess.run(
                ["pgrep", "-x", "munged"], capture_output=True).returncode == 0:
            return
        socket_dir.mkdir(parents=True, exist_ok=True)
        shutil.chown(socket_dir, "munge", "munge")
        done = subprocess.run(["runuser", "-u", "munge", "--", _which("munged")], capture_output=True,
                              text=True)
        if done.returncode:
            raise ClusterError(f"munged did not start: {done.stderr.strip()}")

    def _database(self) -> None:
        data, sock = self.dir / "mysql", self.dir / "mysql.sock"
        self.db_port = _free_port()
        if not data.exists():
            self._run("mariadb-install-db", f"--datadir={data}", "--user=root",
                      "--auth-root-authentication-method=socket", "--skip-test-db")
        self._spawn("mariadbd", "--no-defaults", f"--datadir={data}", f"--socket={sock}",
                    "--bind-address=127.0.0.1", f"--port={self.db_port}", "--user=root",
                    f"--pid-file={self.dir / 'mysql.pid'}", "--skip-log-bin")
        _wait("MariaDB", sock.exists, 60, self.dir / "mariadbd.out")
        sql = ("CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'buurtsim';"
               "GRANT ALL ON *.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;")
        _wait("MariaDB accepting logins", lambda: subprocess.run(
            ["mariadb", f"--socket={sock}", "-u", "root", "-e", sql], capture_output=True).returncode == 0,
            30, self.dir / "mariadbd.out")

    def _write_configs(self) -> None:
        d = self.dir
        for sub in ("ctld", "d"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        dbd = d / "slurmdbd.conf"
        dbd.write_text(f"""AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort={self.dbd_port}
SlurmUser=root
LogFile={d}/slurmdbd.log
PidFile={d}/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={self.db_port}
StorageUser=slurm
StoragePass=buurtsim
StorageLoc=slurm_acct_db
""")
        dbd.chmod(0o600)
        self.conf.write_text(f"""ClusterName=buurtsim
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={self.ctld_port}
SlurmdPort={self.slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation={d}/ctld
SlurmdSpoolDir={d}/d
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort={self.dbd_port}
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
KillWait=2
MinJobAge=300
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={self.memory_mb} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""")

    # -- the cluster -----------------------------------------------------------------------------
    def start(self) -> "SlurmCluster":
        if os.geteuid() != 0:
            raise ClusterError("a Slurm cluster needs root here (slurmd runs jobs as their user)")
        for name in DAEMONS:
            _which(name)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ctld_port, self.slurmd_port, self.dbd_port = _free_port(), _free_port(), _free_port()
        self._munge()
        self._database()
        self._write_configs()
        self._spawn("slurmdbd", "-D")  # reads slurmdbd.conf beside $SLURM_CONF
        _wait("slurmdbd", lambda: self._run("sacctmgr", "-n", "show", "cluster", check=False)
              .returncode == 0, 60, self.dir / "slurmdbd.log")
        if "buurtsim" not in self._run("sacctmgr", "-n", "-P", "show", "cluster", "format=cluster").stdout:
            self._run("sacctmgr", "-i", "add", "cluster", "buurtsim")
        self._spawn("slurmctld", "-D", "-f", str(self.conf))
        _wait("slurmctld", lambda: self._run("squeue", check=False).returncode == 0, 60,
              self.dir / "slurmctld.log")
        self._spawn("slurmd", "-D", "-f", str(self.conf), "-N", self.node)
        _wait("slurmd (node idle)", lambda: "idle" in self._run(
            "sinfo", "-h", "-o", "%T", check=False).stdout, 60, self.dir / "slurmd.log")
        return self

    def stop(self) -> None:
        self._run("scancel", "--full", "-u", "root", check=False) if self.processes else None
        for proc in reversed(self.processes):
            proc.terminate()
        for proc in reversed(self.processes):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.processes.clear()

    def jobs(self, states: str = "all") -> list[tuple[str, str, str]]:
        """(job id, state, name) of the cluster's jobs, from squeue."""
        out = self._run("squeue", "-h", "-t", states, "-o", "%i|%T|%j").stdout
        return [tuple(line.split("|")) for line in out.splitlines() if line]


if __name__ == "__main__":
    cluster = SlurmCluster(Path("/tmp/buurtsim-slurm")).start()
    print(f"cluster up; export SLURM_CONF={cluster.conf}; Ctrl-C stops it")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        cluster.stop()
