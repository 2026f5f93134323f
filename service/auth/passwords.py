"""Password hashing with werkzeug.security (scrypt, its current default parameters).

Why a thread pool: one scrypt check is deliberately expensive (a tenth of a second or more of
CPU); on the event loop it would stall every other request of the worker for as long.
``hashlib.scrypt`` releases the GIL, so in a thread it runs beside the loop. The pool is small
and dedicated, since each hash also needs 32 MiB of memory (the ASGI entry admits only as many
logins at once as it has threads).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from werkzeug.security import check_password_hash, generate_password_hash

#: Concurrent hashes per worker process (about the number of cores a worker should use).
HASHING_THREADS = 2
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024

_pool = ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix="password-hash")
_nobody_lock = threading.Lock()
_nobodys_hash: str | None = None


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
        await loop.run_in_executor(_pool, _matches_nobody, password)
        return False
    return await loop.run_in_executor(_pool, password_matches, password_hash, password)


def _matches_nobody(password: str) -> bool:
    """Check ``password`` against a hash of nobody's password, as costly as a real check.

    The hash is made once, on first use (in a hashing thread, never at import), with the same
    method and parameters as real hashes.
    """
    global _nobodys_hash
    with _nobody_lock:
        if _nobodys_hash is None:
            _nobodys_hash = hash_password("not the password of anyone")
    return password_matches(_nobodys_hash, password)
