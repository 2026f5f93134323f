"""What the served workers cost while a scenario runs: CPU time and resident memory, from /proc."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from integration_tests.server import RunningServer


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
