"""A short per-worker cache of user rows, so a token costs no query on every request.

Entries live ``ttl`` seconds: deactivating a user or changing their role reaches tokens already
issued within that window (at most 60 s, see ``USER_CACHE_SECONDS``), at the cost of one query
per user per window and worker. A missing user is cached too, so a token for a deleted user
cannot be used to make one query per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from service.auth.users import Principal

#: Above this many entries, expired ones are dropped before adding (users are few).
_PRUNE_ABOVE = 1024


class UserCache:
    """Maps user id to its :class:`Principal` (or None: no such user) for ``ttl`` seconds."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[int, tuple[float, Principal | None]] = {}

    def get(self, user_id: int) -> tuple[bool, Principal | None]:
        """``(True, principal or None)`` when a fresh entry exists, else ``(False, None)``."""
        entry = self._entries.get(user_id)
        if entry is None:
            return False, None
        expires, principal = entry
        if expires <= self._clock():
            del self._entries[user_id]
            return False, None
        return True, principal

    def put(self, user_id: int, principal: Principal | None) -> None:
        """Remember what the database said about ``user_id`` (nothing when ``ttl`` is 0)."""
        if self.ttl <= 0:
            return
        now = self._clock()
        if len(self._entries) >= _PRUNE_ABOVE:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
        self._entries[user_id] = (now + self.ttl, principal)
