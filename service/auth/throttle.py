"""The brute-force throttle: failed logins counted per username and client, in a sliding window.

The failures live in the database, so every worker (and every replica) counts the same ones.
Each attempt is written down *before* its password is checked and committed at once, then the
attempts in the window are counted: concurrent guesses therefore see each other, and no more
than the limit can get their password checked, however many arrive at once.

Two limits, so that nobody can lock another person out:

- ``max_failures`` per (username, client address): the client that keeps guessing is stopped,
  and only that client.
- ``max_failures_per_username``, much higher, against guessing spread over many addresses: past
  it, a client that has failed for this username is stopped too. A client that has not failed
  (the owner, from their own address) may still log in.

A successful login removes the attempt and clears that client's failures for the username; a
failed one leaves its row as the record of the failure. Unknown usernames are throttled exactly
like real ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import LoginFailure


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``max_failures`` per client and ``max_failures_per_username`` per username."""

    max_failures: int
    window_seconds: int
    max_failures_per_username: int

    @property
    def window(self) -> timedelta:
        """The window as a timedelta."""
        return timedelta(seconds=self.window_seconds)


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without a zone; they were written in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def record_attempt(session: AsyncSession, username: str, client: str, now: datetime) -> int:
    """Write down an attempt as a failure until proven otherwise; its id."""
    attempt = LoginFailure(username=username, client=client, failed_at=now)
    session.add(attempt)
    await session.flush()
    return attempt.id


async def _last_failures(
    session: AsyncSession,
    conditions: list[ColumnElement[bool]],
    attempt_id: int,
    count: int,
    limit: Limit,
    now: datetime,
) -> list[datetime]:
    """The times of the last ``count`` failures matching ``conditions`` in the window."""
    rows = await session.scalars(
        select(LoginFailure.failed_at)
        .where(
            *conditions,
            LoginFailure.failed_at > now - limit.window,
            LoginFailure.id != attempt_id,
        )
        .order_by(LoginFailure.failed_at.desc())
        .limit(count)
    )
    return list(rows.all())


async def seconds_blocked(
    session: AsyncSession,
    username: str,
    client: str,
    attempt_id: int,
    limit: Limit,
    now: datetime,
) -> int:
    """0 when attempt ``attempt_id`` may go on, else how many seconds until one may.

    A blocked attempt is removed, so knocking on a closed door does not keep it closed.
    """
    by_client = await _last_failures(
        session,
        [LoginFailure.username == username, LoginFailure.client == client],
        attempt_id,
        limit.max_failures,
        limit,
        now,
    )
    blocked_since = None
    if len(by_client) >= limit.max_failures:
        blocked_since = by_client[-1]
    elif by_client:  # this client has failed: the username's ceiling applies to it too
        by_username = await _last_failures(
            session,
            [LoginFailure.username == username],
            attempt_id,
            limit.max_failures_per_username,
            limit,
            now,
        )
        if len(by_username) >= limit.max_failures_per_username:
            blocked_since = by_username[-1]
    if blocked_since is None:
        return 0
    await session.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))
    # The window reopens when the oldest of the failures that closed it leaves it.
    reopens = _aware(blocked_since) + limit.window
    return max(1, math.ceil((reopens - now).total_seconds()))


async def forget_failures(session: AsyncSession, username: str, client: str) -> None:
    """Clear this client's failures for ``username`` (its login succeeded)."""
    await session.execute(
        delete(LoginFailure).where(LoginFailure.username == username, LoginFailure.client == client)
    )


async def prune(session: AsyncSession, limit: Limit, now: datetime) -> None:
    """Drop failures that left the window, whatever the username, so the table stays small."""
    await session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - limit.window))
