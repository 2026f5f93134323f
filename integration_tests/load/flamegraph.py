"""Flame graphs of a server under load, sampled with py-spy (``--profile``, ``make profile``).

py-spy reads the stacks of another process through ptrace (``process_vm_readv``): it needs
CAP_SYS_PTRACE, or a kernel whose Yama ``ptrace_scope`` is 0 for a process of the same user
(Ubuntu's default of 1 only lets a parent trace its children; py-spy is not the server's parent).
As root that is given, except in a container started without ``--cap-add SYS_PTRACE``.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Samples per second of every process (py-spy's default).
RATE_HZ = 100
_ATTACH_TIMEOUT_SECONDS = 30.0
_WRITE_TIMEOUT_SECONDS = 60.0
#: What py-spy prints once it is attached and sampling.
_SAMPLING = "Sampling process"

INSTALL_HINT = (
    "py-spy is not installed. It samples the API's workers for --profile: "
    "pip install -e '.[dev]' (it is in the bench extra)"
)
PTRACE_HINT = (
    "py-spy cannot attach: it needs ptrace permission over the server (root with "
    "CAP_SYS_PTRACE, e.g. docker run --cap-add SYS_PTRACE, or "
    "sysctl kernel.yama.ptrace_scope=0 for your own processes)"
)


class ProfilerFailed(RuntimeError):
    """py-spy is missing, could not attach, or wrote no flame graph; the message says why."""


def require_py_spy() -> str:
    """py-spy beside this interpreter (a venv's bin) or on PATH, else :class:`ProfilerFailed`."""
    beside = Path(sys.executable).with_name("py-spy")
    path = str(beside) if beside.exists() else shutil.which("py-spy")
    if path is None:
        raise ProfilerFailed(INSTALL_HINT)
    return path


@contextmanager
def flame_graph(pid: int, svg: Path) -> Iterator[None]:
    """Sample ``pid`` and every process under it while the block runs; write ``svg`` after.

    Returns from entering only once py-spy samples, so that the block is covered from its start.
    """
    svg.parent.mkdir(parents=True, exist_ok=True)
    command = [
        require_py_spy(),
        *("record", "--pid", str(pid), "--subprocesses", "--rate", str(RATE_HZ)),
        *("--format", "flamegraph", "--output", str(svg)),
    ]
    process = subprocess.Popen(  # noqa: S603 - our own command line, no shell
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = _Output(process)
    try:
        output.settled.wait(_ATTACH_TIMEOUT_SECONDS)
        if not output.attached:
            text = output.text()
            hint = PTRACE_HINT if "permission" in text.lower() else "py-spy did not start sampling"
            raise ProfilerFailed(f"{hint}:\n{text[-2000:]}")
        yield
        process.send_signal(signal.SIGINT)  # py-spy writes the flame graph when interrupted
        process.wait(_WRITE_TIMEOUT_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        output.reader.join()
    if not svg.exists():
        raise ProfilerFailed(f"py-spy wrote no flame graph to {svg}:\n{output.text()[-2000:]}")


class _Output:
    """Reads py-spy's output in a thread (a full pipe would stall it); notes when it samples."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.attached = False
        #: Set once py-spy samples or has exited, whichever comes first.
        self.settled = threading.Event()
        self._stream = process.stdout
        self.reader = threading.Thread(target=self._read, name="py-spy-output", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self._stream is not None
        for line in self._stream:
            self.lines.append(line)
            if _SAMPLING in line:
                self.attached = True
                self.settled.set()
        self.settled.set()

    def text(self) -> str:
        """Everything py-spy has printed so far."""
        return "".join(self.lines)
