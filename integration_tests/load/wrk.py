"""Drive the API with wrk: one generated Lua script per scenario, results read back as JSON.

wrk (the Debian package ``wrk``) keeps 32 connections busy for a fixed time; the script's
``done`` hook prints the totals and latency percentiles as one JSON line, so nothing is parsed
from wrk's human-readable report.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

RESULT_MARKER = "BENCH_RESULT "

INSTALL_HINT = (
    "wrk is not installed. It is the load generator of this benchmark (Debian package 'wrk'): "
    "sudo apt-get install -y wrk"
)

_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,'
    .. '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""

# Each wrk thread gets its own number, so that POST values are unique across threads.
_THREAD_IDS = r"""
local next_thread = 0
setup = function(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end
"""


class WrkMissing(RuntimeError):
    """wrk is not on PATH."""


def require_wrk() -> str:
    """The path of wrk, or :class:`WrkMissing` saying how to install it."""
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing(INSTALL_HINT)
    return path


def lua_string(text: str) -> str:
    """``text`` as a Lua string literal."""
    return json.dumps(text)  # JSON escapes are valid Lua escapes for this ASCII text


def script(request_lua: str, headers: dict[str, str]) -> str:
    """A whole wrk script: headers, thread ids, the scenario's ``request`` and the JSON report."""
    lines = [f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()]
    return "\n".join([*lines, _THREAD_IDS, request_lua, _DONE])


@dataclass(frozen=True, slots=True)
class WrkResult:
    """What one wrk run measured."""

    requests: int
    seconds: float
    socket_errors: int
    status_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def requests_per_second(self) -> float:
        """Completed requests (any status) per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        """Responses other than 2xx/3xx, plus connect, read, write and timeout errors."""
        return self.socket_errors + self.status_errors


def run(
    url: str,
    lua: str,
    workdir: Path,
    *,
    connections: int,
    duration: float,
    threads: int,
    timeout_seconds: float = 5.0,
) -> WrkResult:
    """Run wrk against ``url`` for ``duration`` seconds with the script text ``lua``."""
    path = workdir / "scenario.lua"
    path.write_text(lua)
    command = [
        require_wrk(),
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(duration))}s",
        f"--timeout={timeout_seconds:g}s",
        f"--script={path}",
        url,
    ]
    process = subprocess.Popen(  # noqa: S603 - our own command line, no shell
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        stdout, stderr = process.communicate(timeout=duration + 60)
    finally:
        if process.poll() is None:  # interrupted or hung: never leave wrk running
            process.kill()
            process.wait()
    for line in stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            raw = json.loads(line[len(RESULT_MARKER) :])
            return WrkResult(
                requests=raw["requests"],
                seconds=raw["duration_us"] / 1e6,
                socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
                status_errors=raw["status"],
                p50_ms=raw["p50_us"] / 1000,
                p90_ms=raw["p90_us"] / 1000,
                p99_ms=raw["p99_us"] / 1000,
                max_ms=raw["max_us"] / 1000,
            )
    raise RuntimeError(
        f"wrk exited with {process.returncode} without a result:\n"
        f"{stdout[-2000:]}\n{stderr[-2000:]}"
    )
