"""The pieces of the login that need no server: credentials, the user cache, the throttle."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from service.auth import throttle
from service.auth.cache import UserCache
from service.auth.users import InvalidUsername, Principal, check_username
from service.auth.views import parse_credentials
from service.models import Base, Role
from service.payloads import JsonNumber
from service.problems import ValidationFailed

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LIMIT = throttle.Limit(max_failures=3, window_seconds=60, max_failures_per_username=5)
HERE = "10.0.0.1"


def test_credentials_are_read_and_the_username_normalized() -> None:
    credentials = parse_credentials({"username": " Ana ", "password": " s3cret "})
    assert credentials.username == "ana"
    assert credentials.password == " s3cret "  # passwords are never altered
    assert "s3cret" not in repr(credentials)


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        ({}, ["#/username", "#/password"]),
        ({"username": "", "password": "x"}, ["#/username"]),
        ({"username": "ana", "password": 1234}, ["#/password"]),
        ({"username": "a" * 65, "password": "x"}, ["#/username"]),
        ({"username": "an\x00a", "password": "x"}, ["#/username"]),
        ([], ["#"]),
        # Issue 11, items 5 and 19: any text is a 422, never a database error.
        ({"username": JsonNumber("1"), "password": "x"}, ["#/username"]),
        ({"username": "\ud800", "password": "x"}, ["#/username"]),
        ({"username": "ana", "password": "\udfff"}, ["#/password"]),
        ({"username": "\u0130" * 40, "password": "x"}, ["#/username"]),  # 80 once lower-cased
        ({"username": "ana maria", "password": "x"}, ["#/username"]),
        ({"username": "ana", "password": "x" * 1025}, ["#/password"]),
    ],
)
def test_bad_login_bodies_are_422_naming_the_fields(body: object, pointers: list[str]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_credentials(body)
    assert [e["pointer"] for e in caught.value.members["errors"]] == pointers


@pytest.mark.parametrize("name", ["", "-ana", "ana maria", "ana/x", "a" * 65])
def test_usernames_follow_the_rule(name: str) -> None:
    with pytest.raises(InvalidUsername):
        check_username(name)


def test_usernames_are_case_insensitive() -> None:
    assert check_username(" Ana.Maria@Sales ") == "ana.maria@sales"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_user_cache_forgets_after_its_ttl() -> None:
    clock = Clock()
    cache = UserCache(ttl=60, clock=clock)
    ana = Principal(1, "ana", Role.VIEWER, True)
    cache.put(1, ana)
    clock.now = 59.9
    assert cache.get(1) == (True, ana)
    clock.now = 60
    assert cache.get(1) == (False, None)


def test_the_user_cache_remembers_missing_users() -> None:
    cache = UserCache(ttl=60, clock=Clock())
    cache.put(7, None)
    assert cache.get(7) == (True, None)


def test_a_zero_ttl_cache_keeps_nothing() -> None:
    cache = UserCache(ttl=0)
    cache.put(1, Principal(1, "ana", Role.VIEWER, True))
    assert cache.get(1) == (False, None)


@pytest.fixture
def sessions() -> Any:
    @asynccontextmanager
    async def make() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
        engine = create_async_engine("sqlite+aiosqlite:///:memory:")
        try:
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
            yield async_sessionmaker(engine, expire_on_commit=False)
        finally:
            await engine.dispose()  # on the loop that opened it

    return make


async def attempt(
    sessions: async_sessionmaker[AsyncSession], username: str, now: datetime, client: str = HERE
) -> int:
    """One attempt that then fails; the seconds it was blocked for (0: it was let through)."""
    async with sessions.begin() as session:
        attempt_id = await throttle.record_attempt(session, username, client, now)
    async with sessions.begin() as session:
        return await throttle.seconds_blocked(session, username, client, attempt_id, LIMIT, now)


def test_the_throttle_blocks_after_the_maximum_until_the_window_passes(sessions: Any) -> None:
    async def scenario() -> list[int]:
        async with sessions() as made:
            waits = [await attempt(made, "ana", T0 + timedelta(seconds=s)) for s in (0, 10, 20)]
            waits.append(await attempt(made, "ana", T0 + timedelta(seconds=30)))
            # Others are unaffected.
            waits.append(await attempt(made, "bob", T0 + timedelta(seconds=30)))
            waits.append(await attempt(made, "ana", T0 + timedelta(seconds=60)))  # first one left
            return waits

    assert asyncio.run(scenario()) == [0, 0, 0, 30, 0, 0]


def test_blocked_attempts_do_not_extend_the_block(sessions: Any) -> None:
    async def scenario() -> list[int]:
        async with sessions() as made:
            for s in (0, 1, 2):
                await attempt(made, "ana", T0 + timedelta(seconds=s))
            return [await attempt(made, "ana", T0 + timedelta(seconds=s)) for s in (10, 20, 30)]

    assert asyncio.run(scenario()) == [50, 40, 30]


def test_a_success_clears_the_failures(sessions: Any) -> None:
    async def scenario() -> int:
        async with sessions() as made:
            for s in (0, 1):
                await attempt(made, "ana", T0 + timedelta(seconds=s))
            async with made.begin() as session:
                await throttle.forget_failures(session, "ana", HERE)
            for s in (2, 3):
                await attempt(made, "ana", T0 + timedelta(seconds=s))
            return await attempt(made, "ana", T0 + timedelta(seconds=4))

    assert asyncio.run(scenario()) == 0


def test_concurrent_guesses_never_exceed_the_maximum(sessions: Any) -> None:
    async def scenario() -> list[int]:
        async with sessions() as made:
            ids = []
            for _ in range(6):  # six attempts written before any of them is judged
                async with made.begin() as session:
                    ids.append(await throttle.record_attempt(session, "ana", HERE, T0))
            waits = []
            for attempt_id in ids:
                async with made.begin() as session:
                    waits.append(
                        await throttle.seconds_blocked(session, "ana", HERE, attempt_id, LIMIT, T0)
                    )
            return waits

    waits = asyncio.run(scenario())
    assert sum(1 for w in waits if w == 0) <= LIMIT.max_failures


def test_one_clients_failures_do_not_lock_out_another_client(sessions: Any) -> None:
    async def scenario() -> list[int]:
        async with sessions() as made:
            for s in (0, 1, 2):
                await attempt(made, "ana", T0 + timedelta(seconds=s), client="attacker")
            return [
                await attempt(made, "ana", T0 + timedelta(seconds=3), client="attacker"),
                await attempt(made, "ana", T0 + timedelta(seconds=3), client="owner"),
            ]

    assert asyncio.run(scenario()) == [57, 0]


def test_past_the_username_ceiling_only_clients_that_failed_are_stopped(sessions: Any) -> None:
    async def scenario() -> list[int]:
        async with sessions() as made:
            # Distributed guessing: five addresses, one failure each, reach the ceiling of 5.
            for i in range(5):
                assert await attempt(made, "ana", T0, client=f"bot-{i}") == 0
            return [
                await attempt(made, "ana", T0 + timedelta(seconds=10), client="bot-0"),
                await attempt(made, "ana", T0 + timedelta(seconds=10), client="owner"),
            ]

    assert asyncio.run(scenario()) == [50, 0]
