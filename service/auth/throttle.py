"""The brute-force throttle: at most N failed logins per username in a sliding window.

The failures live in the database, so every worker (and every replica) counts the same ones.
Each attempt is written down *before* its password is checked and committed at once, then the
attempts in the window are counted: concurrent guesses therefore see each other, and no more than
N of them can get their password checked, however many arrive at once. A successful login
removes the attempt and clears the username's failures; a failed one leaves its row as the
record of the failure. Only the username counts, never the client address, so one attacker
cannot lock other users out, and unknown usernames are throttled exactly like real ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import LoginFailure


@dataclass(frozen=True, slots=True)
class Limit:
    """``max_failures`` per username within ``window_seconds``."""

    max_failures: int
    window_seconds: int

    @property
    def window(self) -> timedelta:
        """The window as a timedelta."""
        return timedelta(seconds=self.window_seconds)


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without a zone; they were written in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def record_attempt(session: AsyncSession, username: str, now: datetime) -> int:
    """Write down an attempt for ``username`` as a failure until proven otherwise; its id."""
    attempt = LoginFailure(username=username, failed_at=now)
    session.add(attempt)
    await session.flush()
    return attempt.id


async def seconds_blocked(
    session: AsyncSession, username: str, attempt_id: int, limit: Limit, now: datetime
) -> int:
    """0 when attempt ``attempt_id`` may go on, else how many seconds until one may.

    A blocked attempt is removed, so knocking on a closed door does not keep it closed.
    """
    earlier = (
        await session.scalars(
            select(LoginFailure.failed_at)
            .where(
                LoginFailure.username == username,
                LoginFailure.failed_at > now - limit.window,
                LoginFailure.id != attempt_id,
            )
            .order_by(LoginFailure.failed_at.desc())
            .limit(limit.max_failures)
        )
    ).all()
    if len(earlier) < limit.max_failures:
        return 0
    await session.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))
    # The window reopens when the oldest of the last N failures leaves it.
    reopens = _aware(earlier[-1]) + limit.window
    return max(1, math.ceil((reopens - now).total_seconds()))


async def forget_failures(session: AsyncSession, username: str) -> None:
    """Clear ``username``'s failures (the login succeeded)."""
    await session.execute(delete(LoginFailure).where(LoginFailure.username == username))


async def prune(session: AsyncSession, limit: Limit, now: datetime) -> None:
    """Drop failures that left the window, whatever the username, so the table stays small."""
    await session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - limit.window))
