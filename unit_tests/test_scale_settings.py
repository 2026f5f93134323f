"""The settings that scaling out adds: the drain delay and the statement cache (PgBouncer)."""

from __future__ import annotations

import pytest

from service.settings import DEVELOPMENT_SECRET_KEY, Settings, SettingsError


def test_the_drain_delay_defaults_to_none_and_may_be_zero() -> None:
    assert Settings.from_env({}).drain_delay_seconds == 0
    assert Settings.from_env({"DRAIN_DELAY_SECONDS": "0"}).drain_delay_seconds == 0
    assert Settings.from_env({"DRAIN_DELAY_SECONDS": "2.5"}).drain_delay_seconds == 2.5


@pytest.mark.parametrize("raw", ["-1", "301", "soon", "nan"])
def test_a_bad_drain_delay_is_refused(raw: str) -> None:
    with pytest.raises(SettingsError, match="DRAIN_DELAY_SECONDS"):
        Settings.from_env({"DRAIN_DELAY_SECONDS": raw})


def test_the_statement_cache_may_be_turned_off_for_pgbouncer() -> None:
    assert Settings.from_env({}).db_statement_cache_size == 100
    assert Settings.from_env({"DB_STATEMENT_CACHE_SIZE": "0"}).db_statement_cache_size == 0
    with pytest.raises(SettingsError, match="DB_STATEMENT_CACHE_SIZE"):
        Settings.from_env({"DB_STATEMENT_CACHE_SIZE": "-1"})


def test_the_development_key_is_recognised() -> None:
    assert Settings.from_env({}).uses_development_key
    assert not Settings.from_env({"SECRET_KEY": "x" * 40}).uses_development_key
    assert Settings.from_env({"SECRET_KEY": DEVELOPMENT_SECRET_KEY}).uses_development_key
