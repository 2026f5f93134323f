"""Authentication settings: validated at start-up; no usable secret in production by default."""

from __future__ import annotations

import pytest

from service.settings import DEVELOPMENT_SECRET_KEY, Settings, SettingsError

PRODUCTION_KEY = "p" * 40


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.secret_key == DEVELOPMENT_SECRET_KEY
    assert settings.token_ttl_seconds == 28800
    assert settings.user_cache_seconds == 60
    assert (settings.login_max_failures, settings.login_window_seconds) == (5, 900)
    assert settings.admin_username is None and settings.admin_password is None


def test_values_are_read() -> None:
    settings = Settings.from_env(
        {
            "SECRET_KEY": "k",
            "TOKEN_TTL_SECONDS": "60",
            "USER_CACHE_SECONDS": "1",
            "LOGIN_MAX_FAILURES": "3",
            "LOGIN_WINDOW_SECONDS": "5",
            "ADMIN_USERNAME": " Admin ",
            "ADMIN_PASSWORD": "pw with spaces ",
        }
    )
    assert settings.secret_key == "k" and settings.token_ttl_seconds == 60
    assert settings.user_cache_seconds == 1
    assert (settings.login_max_failures, settings.login_window_seconds) == (3, 5)
    assert settings.admin_username == "Admin" and settings.admin_password == "pw with spaces "


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"APP_ENV": "production"}, "SECRET_KEY is required"),
        ({"APP_ENV": "production", "SECRET_KEY": DEVELOPMENT_SECRET_KEY}, "development key"),
        ({"APP_ENV": "production", "SECRET_KEY": "short"}, "at least 32 characters"),
        ({"USER_CACHE_SECONDS": "61"}, "USER_CACHE_SECONDS"),
        ({"TOKEN_TTL_SECONDS": "0"}, "TOKEN_TTL_SECONDS"),
        ({"LOGIN_MAX_FAILURES": "0"}, "LOGIN_MAX_FAILURES"),
        ({"LOGIN_WINDOW_SECONDS": "x"}, "LOGIN_WINDOW_SECONDS"),
        ({"ADMIN_USERNAME": "admin"}, "set together"),
        ({"ADMIN_PASSWORD": "secret"}, "set together"),
    ],
)
def test_bad_values_refuse_to_start(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environ)


def test_production_starts_with_a_real_key() -> None:
    settings = Settings.from_env(
        {"APP_ENV": "production", "SECRET_KEY": PRODUCTION_KEY, "TRUSTED_HOSTS": "api.example"}
    )
    assert settings.secret_key == PRODUCTION_KEY


def test_secrets_are_not_shown_in_repr() -> None:
    settings = Settings.from_env(
        {"SECRET_KEY": PRODUCTION_KEY, "ADMIN_USERNAME": "a", "ADMIN_PASSWORD": "hunter22"}
    )
    assert PRODUCTION_KEY not in repr(settings) and "hunter22" not in repr(settings)
