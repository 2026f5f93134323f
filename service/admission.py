"""Admission lanes: how many requests of one kind run at once, and how many may wait their turn.

A lane lets ``concurrency`` requests in; the next ``queue_limit`` wait in arrival order, each for
at most ``wait_seconds``. A request that finds the queue full, or waits past the limit, is turned
away with :class:`LaneFull` at once, so that an overloaded worker answers quickly instead of
letting latency grow without bound.
"""

from __future__ import annotations

import asyncio
from collections import deque


class LaneFull(Exception):
    """The lane cannot take this request now; the message says why."""


class Lane:
    """Bounded concurrency with a bounded, time-limited queue (one per kind of request).

    A released slot is handed straight to the longest waiter, so nobody can overtake the queue.
    """

    def __init__(self, concurrency: int, queue_limit: int, wait_seconds: float) -> None:
        self.concurrency = concurrency
        self.queue_limit = queue_limit
        self.wait_seconds = wait_seconds
        self._inside = 0
        self._queue: deque[asyncio.Future[None]] = deque()

    @property
    def inside(self) -> int:
        """How many requests hold a slot now."""
        return self._inside

    @property
    def waiting(self) -> int:
        """How many requests are queued now."""
        return len(self._queue)

    def try_acquire(self) -> bool:
        """Take a free slot without waiting; False when there is none or others wait for one."""
        if self._inside < self.concurrency and not self._queue:
            self._inside += 1
            return True
        return False

    async def acquire(self) -> None:
        """Take a slot, waiting in line if need be; :class:`LaneFull` rather than wait too long."""
        if self.try_acquire():
            return
        if len(self._queue) >= self.queue_limit:
            raise LaneFull(f"{len(self._queue)} requests are already waiting")
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(turn)
        try:
            async with asyncio.timeout(self.wait_seconds):
                await turn
        except BaseException as error:
            if turn.done() and not turn.cancelled():
                self.release()  # handed a slot just as the wait ended: pass it on
            elif turn in self._queue:  # release() may have dropped it already, as cancelled
                self._queue.remove(turn)
            if isinstance(error, TimeoutError):
                raise LaneFull(f"no slot became free within {self.wait_seconds:g} s") from None
            raise

    def release(self) -> None:
        """Give back the slot taken by :meth:`acquire`: to the longest waiter, if any."""
        while self._queue:
            turn = self._queue.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot passes on; self._inside is unchanged
                return
        self._inside -= 1
