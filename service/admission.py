"""Admission lanes: how many requests of one kind run at once, and how many may wait their turn.

A lane lets ``concurrency`` requests in; the next ``queue_limit`` wait in arrival order, each for
at most ``wait_seconds``. A request that finds the queue full, or waits past the limit, is turned
away with :class:`LaneFull` at once, so that an overloaded worker answers quickly instead of
letting latency grow without bound.
"""

from __future__ import annotations

import asyncio


class LaneFull(Exception):
    """The lane cannot take this request now; the message says why."""


class Lane:
    """Bounded concurrency with a bounded, time-limited queue (one per kind of request)."""

    def __init__(self, concurrency: int, queue_limit: int, wait_seconds: float) -> None:
        self.concurrency = concurrency
        self.queue_limit = queue_limit
        self.wait_seconds = wait_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._inside = 0
        self._waiting = 0

    @property
    def inside(self) -> int:
        """How many requests hold a slot now."""
        return self._inside

    @property
    def waiting(self) -> int:
        """How many requests are queued now."""
        return self._waiting

    async def acquire(self) -> None:
        """Take a slot, waiting in line if need be; :class:`LaneFull` rather than wait too long."""
        if not self._slots.locked():
            await self._slots.acquire()
            self._inside += 1
            return
        if self._waiting >= self.queue_limit:
            raise LaneFull(f"{self._waiting} requests are already waiting")
        self._waiting += 1
        try:
            async with asyncio.timeout(self.wait_seconds):
                await self._slots.acquire()
        except TimeoutError:
            raise LaneFull(f"no slot became free within {self.wait_seconds:g} s") from None
        finally:
            self._waiting -= 1
        self._inside += 1

    def release(self) -> None:
        """Give back the slot taken by :meth:`acquire`."""
        self._inside -= 1
        self._slots.release()
