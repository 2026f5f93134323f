"""Start the API under test, find its worker processes, sample their memory, and stop it.

A server runs in a session of its own, so that stopping it (SIGTERM, then SIGKILL) reaches the
Hypercorn parent and every worker it spawned, and nothing else.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

STARTUP_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
HOST = "127.0.0.1"  # loopback only

#: How the API is served: the product, or the rejected alternative kept as a benchmark fixture.
PRODUCT = "product"
THREADPOOL = "threadpool"


@dataclass(frozen=True, slots=True)
class ServeSpec:
    """One way of serving the API: the entry point, Hypercorn's workers and worker class."""

    entry: str = PRODUCT
    workers: int = 1
    worker_class: str = "asyncio"

    def command(self, port: int) -> list[str]:
        """The command line that serves the API on ``port``."""
        if self.entry == PRODUCT:
            return [sys.executable, "-m", "service"]  # migrates (a no-op here), then serves
        # Hypercorn's own command line: it sees a WSGI app and runs it in its thread pool.
        return [
            sys.executable,
            "-m",
            "hypercorn",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "integration_tests.load.threadpool_app:app",
        ]


def free_port() -> int:
    """A loopback TCP port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class RunningServer:
    """A started API: its base URL, its process group, and where its output goes."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def worker_pids(self) -> list[int]:
        """The Hypercorn worker processes (spawned children), or the parent if it has none."""
        workers = [
            pid
            for pid in _descendants(self.process.pid)
            if "spawn_main" in _cmdline(pid) and "resource_tracker" not in _cmdline(pid)
        ]
        return workers or [self.process.pid]


@contextmanager
def serve(
    spec: ServeSpec, database_url: str, log_path: Path, env: Mapping[str, str] | None = None
) -> Iterator[RunningServer]:
    """Serve the API on a free loopback port until the block ends; always stops it."""
    port = free_port()
    environment = {
        **os.environ,
        **(env or {}),
        "DATABASE_URL": database_url,
        "HOST": HOST,
        "PORT": str(port),
        "WEB_CONCURRENCY": str(spec.workers),
        "WORKER_CLASS": spec.worker_class,
    }
    root = Path(__file__).resolve().parents[2]  # so that integration_tests is importable
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(root), environment.get("PYTHONPATH")])
    )
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            spec.command(port),
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = RunningServer(f"http://{HOST}:{port}", process, log_path)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, SIGKILL it if it lingers."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            pass
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # workers left behind by a dead parent
    process.wait()


def _wait_until_ready(server: RunningServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"the API exited with {server.process.returncode}; its output:\n"
                + server.log_path.read_text(errors="replace")[-4000:]
            )
        try:
            with urllib.request.urlopen(f"{server.url}/health/ready", timeout=2) as response:  # noqa: S310 - our own loopback URL
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the API was not ready within {STARTUP_TIMEOUT_SECONDS:.0f} s")


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time ``pid`` has used, all threads (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # Fields 14 and 15 of proc(5), utime and stime, in clock ticks; fields[0] is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    """The resident set size of ``pid`` in KiB (0 once it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class RssSampler:
    """Samples the RSS of the server's workers in a thread; keeps each worker's peak.

    Also measures the CPU time the workers used meanwhile: CPU per request is a cost that a
    busy neighbour on the machine barely changes, unlike requests per second.
    """

    server: RunningServer
    interval: float = 0.2
    peaks_kib: dict[int, int] = field(default_factory=dict)
    #: Each worker's first and latest sample: growth over a long run shows a leak.
    first_kib: dict[int, int] = field(default_factory=dict)
    last_kib: dict[int, int] = field(default_factory=dict)
    cpu_used_seconds: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        self._pids = self.server.worker_pids()
        self._cpu_before = sum(cpu_seconds(pid) for pid in self._pids)
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cpu_used_seconds = sum(cpu_seconds(pid) for pid in self._pids) - self._cpu_before
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while True:
            for pid in self._pids:
                rss = rss_kib(pid)
                self.first_kib.setdefault(pid, rss)
                self.last_kib[pid] = rss
                self.peaks_kib[pid] = max(self.peaks_kib.get(pid, 0), rss)
            if self._stop.wait(self.interval):
                return

    def growth_percent(self) -> float:
        """The largest growth of one worker's RSS from its first sample to its last."""
        return max(
            (
                (self.last_kib[pid] - first) * 100 / first
                for pid, first in self.first_kib.items()
                if first
            ),
            default=0.0,
        )

    def peak_mib(self) -> float:
        """The highest RSS any one worker reached while sampled, in MiB."""
        return max(self.peaks_kib.values(), default=0) / 1024
