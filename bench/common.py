"""What every benchmark shares: a fresh migrated database, a staff token, percentiles, memory.

The benchmarks run the real server (uvicorn with the app factory, as `scripts/run` does) on
127.0.0.1 against a database made for the run and dropped after it.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@dataclass(frozen=True)
class Workspace:
    """A fresh database with the schema at head, and the environment a server needs for it."""

    folder: Path
    database_url: str
    env: dict[str, str]

    def run(self, *command: str) -> str:
        """`python -m <command>` in the repository with this workspace's environment."""
        done = subprocess.run(
            [sys.executable, "-m", *command],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    def token(self, role: str = "doctor", name: str = "bench") -> str:
        made = self.run("service", "tokens", "create", name, "--role", role)
        return made.strip().splitlines()[-1]


def _psql(database_url: str, sql: str) -> None:
    subprocess.run(["psql", database_url, "-qc", sql], check=True, capture_output=True)


@contextmanager
def workspace(database: str = "sqlite", **settings: str) -> Iterator[Workspace]:
    """A temporary folder and a migrated database (`sqlite` or `postgresql`), dropped after."""
    with tempfile.TemporaryDirectory(prefix="bench-") as name:
        folder = Path(name)
        if database == "sqlite":
            url = f"sqlite:///{folder}/bench.sqlite3"
        else:
            base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
            database_name = f"bench_{os.getpid()}"
            _psql(POSTGRES_ADMIN_URL, f"DROP DATABASE IF EXISTS {database_name}")
            _psql(POSTGRES_ADMIN_URL, f"CREATE DATABASE {database_name}")
            url = f"{base}/{database_name}"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "VAR_DIR": str(folder),
            "INTAKE_RATE_LIMIT_PER_MINUTE": "0",
            "LOG_LEVEL": "WARNING",
            **settings,
        }
        space = Workspace(folder, url, env)
        space.run("alembic", "upgrade", "head")
        try:
            yield space
        finally:
            if database != "sqlite":
                _psql(POSTGRES_ADMIN_URL, f"DROP DATABASE IF EXISTS {database_name} WITH (FORCE)")


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` 0.5 for the median, 0.99 for p99); 0 when empty."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0


def rss_mib(pid: int) -> float:
    """Resident memory of one process, in MiB (0 once it has gone)."""
    return _proc_kib(pid, "status", "VmRSS:") / 1024


def pss_mib(pid: int) -> float:
    """Proportional set size of one process, in MiB: its pages shared with others (the render
    workers forked from it, say) count once across them (0 once it has gone)."""
    return _proc_kib(pid, "smaps_rollup", "Pss:") / 1024


def _proc_kib(pid: int, file: str, field: str) -> int:
    """The kiB figure of `field` in /proc/<pid>/<file> (0 once the process has gone)."""
    try:
        lines = Path(f"/proc/{pid}/{file}").read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith(field):
            return int(line.split()[1])
    return 0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) one process has used so far, in seconds (0 once it has gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The fields after the command name, which is in parentheses and may hold spaces.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (the server's render workers, say)."""
    pending, found = [pid], []
    while pending:
        parent = pending.pop()
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            pending += children
    return found


def service_command(port: int) -> list[str]:
    """The service as it runs in production (README): its own server, limits and WORKERS."""
    return [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(port)]


def server_command(factory: str, port: int) -> list[str]:
    """The one plain uvicorn command line the bare baselines run with."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]


@dataclass(frozen=True)
class Server:
    """A running server: its process id (for memory) and where it answers."""

    pid: int
    base_url: str
    command: list[str]
    log_path: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    """Whether anything answers HTTP at `url` (uvicorn listens only once startup is done)."""
    try:
        with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (our own 127.0.0.1 URL)
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@contextmanager
def serve(space: Workspace, factory: str | None = None) -> Iterator[Server]:
    """On a free port with the workspace's environment: `factory` served by `server_command`,
    or the service by `service_command` when no factory is given."""
    port = free_port()
    command = service_command(port) if factory is None else server_command(factory, port)
    log_path = space.folder / f"server-{port}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=space.env, stdout=log, stderr=subprocess.STDOUT
        )
    server = Server(process.pid, f"http://127.0.0.1:{port}", command, log_path)
    try:
        deadline = time.monotonic() + 60
        while not _answers(f"{server.base_url}/"):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{shlex.join(command)} did not start:\n{tail}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
