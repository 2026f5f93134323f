"""Admission lanes: bounded concurrency, a bounded queue, a wait limit, arrival order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from service.admission import Lane, LaneFull

Run = Callable[[Coroutine[Any, Any, Any]], Any]


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_free_slot_is_taken_at_once_and_given_back(run: Run) -> None:
    lane = Lane(concurrency=2, queue_limit=0, wait_seconds=1)

    async def scenario() -> list[int]:
        await lane.acquire()
        await lane.acquire()
        seen = [lane.inside, lane.waiting]
        lane.release()
        lane.release()
        return [*seen, lane.inside]

    assert run(scenario()) == [2, 0, 0]


def test_past_the_queue_limit_a_request_is_turned_away_without_waiting(run: Run) -> None:
    lane = Lane(concurrency=1, queue_limit=2, wait_seconds=5)

    async def scenario() -> int:
        await lane.acquire()
        queued = [asyncio.ensure_future(lane.acquire()) for _ in range(2)]
        await _settle()
        with pytest.raises(LaneFull, match="2 requests are already waiting"):
            await lane.acquire()
        waiting = lane.waiting
        for _ in range(3):
            lane.release()
            await _settle()
        await asyncio.gather(*queued)
        return waiting

    assert run(scenario()) == 2


def test_a_request_that_waits_past_the_limit_is_turned_away(run: Run) -> None:
    lane = Lane(concurrency=1, queue_limit=5, wait_seconds=0.05)

    async def scenario() -> tuple[int, int]:
        await lane.acquire()
        with pytest.raises(LaneFull, match="within 0.05 s"):
            await lane.acquire()
        return lane.inside, lane.waiting

    assert run(scenario()) == (1, 0)


def test_waiting_requests_are_admitted_in_arrival_order(run: Run) -> None:
    lane = Lane(concurrency=1, queue_limit=10, wait_seconds=5)
    order: list[int] = []

    async def take(number: int) -> None:
        await lane.acquire()
        order.append(number)
        await asyncio.sleep(0)
        lane.release()

    async def scenario() -> None:
        await lane.acquire()
        waiting = []
        for number in range(5):
            waiting.append(asyncio.ensure_future(take(number)))
            await _settle()
        lane.release()
        await asyncio.gather(*waiting)

    run(scenario())
    assert order == [0, 1, 2, 3, 4]


def test_a_cancelled_waiter_leaves_the_queue(run: Run) -> None:
    lane = Lane(concurrency=1, queue_limit=1, wait_seconds=5)

    async def scenario() -> tuple[int, int]:
        await lane.acquire()
        waiter = asyncio.ensure_future(lane.acquire())
        await _settle()
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        waiting = lane.waiting
        lane.release()
        await lane.acquire()  # the slot is free again: the cancelled waiter took nothing
        return waiting, lane.inside

    assert run(scenario()) == (0, 1)


def test_a_waiter_cancelled_as_it_is_handed_a_slot_passes_the_slot_on(run: Run) -> None:
    lane = Lane(concurrency=1, queue_limit=5, wait_seconds=5)

    async def scenario() -> tuple[bool, bool, int, int]:
        await lane.acquire()
        first = asyncio.ensure_future(lane.acquire())
        second = asyncio.ensure_future(lane.acquire())
        await _settle()
        lane.release()  # hands the slot to the first waiter...
        first.cancel()  # ...which is cancelled before it can run
        await _settle()
        return first.cancelled(), second.done(), lane.inside, lane.waiting

    assert run(scenario()) == (True, True, 1, 0)


def test_a_waiter_cancelled_in_the_queue_leaves_it(run: Run) -> None:
    lane = Lane(concurrency=1, queue_limit=5, wait_seconds=5)

    async def scenario() -> tuple[int, int]:
        await lane.acquire()
        waiter = asyncio.ensure_future(lane.acquire())
        await _settle()
        waiter.cancel()
        await _settle()
        lane.release()
        return lane.inside, lane.waiting

    assert run(scenario()) == (0, 0)
