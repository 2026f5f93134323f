"""Password hashing with werkzeug.security (scrypt, its current default parameters).

Why a thread pool: one scrypt check (N=32768, r=8) takes about 120-170 ms of CPU on this
2-core machine; on the event loop it would stall every other request of the worker for as long.
``hashlib.scrypt`` releases the GIL, so in a thread it runs beside the loop. Measured with one
worker while 8 failed logins ran at once, the latency of ``GET /health/live``: hashing on the
loop, p95 160-325 ms and max 200-340 ms; in this pool, p95 40-70 ms and max 60-140 ms (the rest
is the two cores being busy hashing). The pool is small and dedicated: each hash also needs
32 MiB of memory, so a flood of logins queues here instead of exhausting memory or the loop's
default executor, while numbers requests keep being served.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from werkzeug.security import check_password_hash, generate_password_hash

#: Concurrent hashes per worker process (about the number of cores a worker should use).
HASHING_THREADS = 2
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024

_pool = ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix="password-hash")


def hash_password(password: str) -> str:
    """The salted hash to store (``scrypt:32768:8:1$salt$hash``); never store the password."""
    return generate_password_hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """True when ``password`` is the one ``password_hash`` was made from (constant time)."""
    return check_password_hash(password_hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password`` off the event loop; with no hash (no such user) do the same work anyway.

    Doing the same work whether or not the user exists is what keeps login timing from telling
    an attacker which usernames exist.
    """
    loop = asyncio.get_running_loop()
    if password_hash is None:
        await loop.run_in_executor(_pool, password_matches, _DUMMY_HASH, password)
        return False
    return await loop.run_in_executor(_pool, password_matches, password_hash, password)


# Made once when the worker imports this module (one hash, ~0.15 s), with the same method and
# parameters as real hashes, so that checking against it costs what a real check costs, from
# the first login on.
_DUMMY_HASH = hash_password("not the password of anyone")
