"""Password hashing: salted scrypt from werkzeug.security, checked off the event loop."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading

import pytest

from service.auth import passwords
from service.auth.passwords import hash_password, password_matches, verify_password


def test_the_hash_is_salted_scrypt_and_not_the_password() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("scrypt:")
    assert "correct horse" not in first
    assert first != second  # a new salt each time


def test_only_the_right_password_matches() -> None:
    stored = hash_password("correct horse")
    assert password_matches(stored, "correct horse")
    assert not password_matches(stored, "correct horse ")
    assert not password_matches(stored, "Correct horse")


def test_verification_runs_outside_the_event_loop_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []

    def spy(stored: str, password: str) -> bool:
        threads.append(threading.current_thread().name)
        return stored == password

    monkeypatch.setattr(passwords, "password_matches", spy)
    assert asyncio.run(verify_password("x", "x"))
    assert threads and threads[0].startswith("password-hash")


def test_an_unknown_user_costs_a_real_hash_check(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []

    def spy(stored: str, password: str) -> bool:
        checked.append(stored)
        return True  # even a "match" against the dummy must not let anyone in

    monkeypatch.setattr(passwords, "password_matches", spy)
    assert asyncio.run(verify_password(None, "anything")) is False
    assert len(checked) == 1
    # Same method and parameters as a real hash, so the check takes as long.
    assert checked[0].split("$")[0] == hash_password("x").split("$")[0]


def test_importing_the_service_computes_no_hash() -> None:
    # A fresh interpreter: `flask --help` and every worker import these modules.
    probe = (
        "import hashlib, werkzeug.security\n"
        "calls = []\n"
        "real = hashlib.scrypt\n"
        "hashlib.scrypt = lambda *a, **k: calls.append(1) or real(*a, **k)\n"
        "import service.asgi, service.cli, service.auth.views\n"
        "print(len(calls))\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "0"


def test_the_unknown_users_hash_is_made_once_in_a_hashing_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made_in: list[str] = []
    real_hash = passwords.hash_password

    def spy(password: str) -> str:
        made_in.append(threading.current_thread().name)
        return real_hash(password)

    monkeypatch.setattr(passwords, "_nobodys_hash", None)
    monkeypatch.setattr(passwords, "hash_password", spy)

    async def logins() -> list[bool]:
        return await asyncio.gather(*(verify_password(None, "guess") for _ in range(3)))

    assert asyncio.run(logins()) == [False, False, False]
    assert len(made_in) == 1
    assert made_in[0].startswith("password-hash")
