"""How ``python -m service`` serves: one supervisor process and its Hypercorn worker processes.

Hypercorn 0.18's own multi-worker ``run()`` ends every worker when one dies and may then exit 0,
which no restart policy notices; on SIGTERM it also terminates the workers still finishing their
requests as soon as the first worker is done. This supervisor keeps Hypercorn's workers and
sockets but decides itself when they start and stop:

- it binds the sockets once and starts ``workers`` processes, each running Hypercorn's worker;
- a worker that dies is logged and replaced while the others keep serving; when more than
  ``MAX_RESTARTS`` die within ``RESTART_WINDOW_SECONDS`` something is wrong beyond one crash, and
  the supervisor stops and exits 1 so that its own supervisor (Docker's restart policy) takes over;
- on SIGTERM or SIGINT it marks the workers as draining at once (``/health/ready`` answers 503),
  keeps serving for ``drain_delay`` seconds so that a load balancer stops sending new requests,
  then has the workers stop accepting and finish what they have in flight (Hypercorn's
  ``graceful_timeout``), close their pools at lifespan shutdown and exit; it exits 0 when all did.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import time
from collections import deque
from multiprocessing.connection import wait
from multiprocessing.context import SpawnContext, SpawnProcess
from multiprocessing.synchronize import Event
from types import FrameType
from typing import cast

from hypercorn.asyncio.run import asyncio_worker, uvloop_worker
from hypercorn.config import Config, Sockets

#: More worker deaths than this within the window and the supervisor gives up (exit status 1).
MAX_RESTARTS = 5
RESTART_WINDOW_SECONDS = 60.0
#: Past ``graceful_timeout``, how long a worker gets for its lifespan shutdown before SIGKILL.
_SHUTDOWN_GRACE_SECONDS = 5.0
_POLL_SECONDS = 0.2

log = logging.getLogger(__name__)


class Flag:
    """A flag the supervisor raises and its workers read, in shared memory.

    Not a ``multiprocessing.Event``: its reads take a lock shared by all processes, and a worker
    killed while holding it would leave every other worker blocked in ``is_set()`` for good
    (Hypercorn's workers poll their shutdown event ten times a second). One shared byte needs no
    lock: only the supervisor writes it.
    """

    def __init__(self, context: SpawnContext) -> None:
        self._raised = context.RawValue(ctypes.c_bool, False)

    def set(self) -> None:
        """Raise the flag, for every process."""
        self._raised.value = True

    def is_set(self) -> bool:
        """Whether the flag is raised."""
        return bool(self._raised.value)


#: Set in a worker process: the supervisor's "draining began" flag.
_draining: Flag | None = None


def is_draining() -> bool:
    """True in a worker whose supervisor has begun to shut down (readiness then answers 503)."""
    return _draining is not None and _draining.is_set()


def _work(config: Config, sockets: Sockets, draining: Flag, shutdown: Flag) -> None:
    """A worker process: Hypercorn's worker, stopped by the supervisor's ``shutdown`` event."""
    global _draining
    _draining = draining
    # Only the supervisor decides when workers stop: a signal sent to the whole process group
    # (Ctrl-C in a terminal, `kill -- -PGID`) must not cut requests short in the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    worker = uvloop_worker if config.worker_class == "uvloop" else asyncio_worker
    # Hypercorn types the event as multiprocessing's, but only ever calls its is_set().
    worker(config, sockets, cast(Event, shutdown))
    # The pool is closed and the requests are answered: skip the interpreter's teardown of
    # every module, which only delays a rolling restart.
    logging.shutdown()
    os._exit(0)


class Supervisor:
    """Starts, replaces and finally drains the worker processes of one server."""

    def __init__(self, config: Config, *, drain_delay: float = 0.0) -> None:
        self.config = config
        self.drain_delay = drain_delay
        self._context: SpawnContext = multiprocessing.get_context("spawn")
        self._draining = Flag(self._context)
        self._shutdown = Flag(self._context)
        self._workers: list[SpawnProcess] = []
        self._deaths: deque[float] = deque()
        self._stop_requested_at: float | None = None
        self._failed = False
        self._signal: signal.Signals | None = None

    def run(self) -> int:
        """Serve until told to stop; 0 after a clean drain, 1 when workers kept dying."""
        sockets = self.config.create_sockets()
        previous = {sig: signal.signal(sig, self._request_stop) for sig in _STOP_SIGNALS}
        try:
            self._supervise(sockets)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            _close(sockets)
        return 1 if self._failed else 0

    def _supervise(self, sockets: Sockets) -> None:
        while len(self._workers) < self.config.workers:
            self._start_worker(sockets)
        while self._workers:
            wait([worker.sentinel for worker in self._workers], timeout=_POLL_SECONDS)
            for worker in [w for w in self._workers if w.exitcode is not None]:
                self._workers.remove(worker)
                self._worker_exited(worker, sockets)
            if self._signal is not None:
                log.info("%s received: draining for %.1f s", self._signal.name, self.drain_delay)
                self._signal = None
            if self._stop_requested_at is not None:
                self._advance_shutdown(sockets)

    def _start_worker(self, sockets: Sockets) -> None:
        worker = self._context.Process(
            target=_work, args=(self.config, sockets, self._draining, self._shutdown)
        )
        worker.start()
        self._workers.append(worker)
        log.info("started worker %s", worker.pid)

    def _worker_exited(self, worker: SpawnProcess, sockets: Sockets) -> None:
        worker.join()
        if self._stop_requested_at is not None:
            if worker.exitcode == 0:
                log.info("worker %s stopped", worker.pid)
            else:
                log.error("worker %s %s while stopping", worker.pid, _status(worker))
                self._failed = True
            return
        now = time.monotonic()
        self._deaths.append(now)
        while self._deaths and self._deaths[0] < now - RESTART_WINDOW_SECONDS:
            self._deaths.popleft()
        if len(self._deaths) > MAX_RESTARTS:
            log.critical(
                "worker %s %s; %d workers died within %.0f s, stopping the server",
                worker.pid,
                _status(worker),
                len(self._deaths),
                RESTART_WINDOW_SECONDS,
            )
            self._failed = True
            self._begin_stop(delay=0.0)
            return
        log.error("worker %s %s; starting a replacement", worker.pid, _status(worker))
        self._start_worker(sockets)

    def _request_stop(self, signum: int, _frame: FrameType | None) -> None:
        # Logged by the loop: a signal handler interrupting a log call must not log itself.
        self._signal = signal.Signals(signum)
        self._begin_stop(self.drain_delay)

    def _begin_stop(self, delay: float) -> None:
        if self._stop_requested_at is None:
            self._stop_requested_at = time.monotonic()
            self.drain_delay = delay
            self._draining.set()

    def _advance_shutdown(self, sockets: Sockets) -> None:
        assert self._stop_requested_at is not None  # noqa: S101 - called only while stopping
        elapsed = time.monotonic() - self._stop_requested_at
        if not self._shutdown.is_set() and elapsed >= self.drain_delay:
            log.info("no longer accepting connections; finishing the requests in flight")
            self._shutdown.set()
            # The workers close their listening sockets; ours go too, so that new connections
            # are refused at once instead of waiting in a backlog nobody accepts from.
            _close(sockets)
        deadline = self.drain_delay + self.config.graceful_timeout + _SHUTDOWN_GRACE_SECONDS
        if elapsed >= deadline:
            for worker in self._workers:
                log.error("worker %s did not stop in time; killing it", worker.pid)
                worker.kill()
            self._failed = True


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _status(worker: SpawnProcess) -> str:
    code = worker.exitcode
    if code is not None and code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"


def _close(sockets: Sockets) -> None:
    for sock in (*sockets.secure_sockets, *sockets.insecure_sockets, *sockets.quic_sockets):
        sock.close()


def serve(config: Config, *, drain_delay: float = 0.0) -> int:
    """Run ``config.workers`` Hypercorn workers under a :class:`Supervisor`; its exit status."""
    return Supervisor(config, drain_delay=drain_delay).run()
