"""Password hashing: salted scrypt from werkzeug.security, checked off the event loop."""

from __future__ import annotations

import asyncio
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
