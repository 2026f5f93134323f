"""Settings: read once from the environment, every bad value reported at start-up."""

from __future__ import annotations

import pytest

from service.settings import Settings, SettingsError


def test_defaults_run_on_embedded_sqlite() -> None:
    settings = Settings.from_env({})
    assert settings.is_sqlite
    assert (settings.host, settings.port, settings.web_concurrency) == ("127.0.0.1", 8000, 1)
    assert settings.currencies == ("U$", "R$", "USD", "BRL", "EUR")
    assert settings.cors_origins == ("*",)


def test_values_are_parsed() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql+asyncpg://u:p@db/x",
            "PORT": "9000",
            "WEB_CONCURRENCY": "4",
            "WORKER_CLASS": "uvloop",
            "CURRENCIES": "USD, EUR",
            "CORS_ORIGINS": "http://a.example,http://b.example",
            "MAX_PAGE_SIZE": "500",
            "LOG_LEVEL": "debug",
        }
    )
    assert not settings.is_sqlite
    assert settings.port == 9000 and settings.web_concurrency == 4
    assert settings.worker_class == "uvloop" and settings.log_level == "DEBUG"
    assert settings.currencies == ("USD", "EUR")
    assert settings.cors_origins == ("http://a.example", "http://b.example")
    assert settings.max_page_size == 500


def test_every_bad_value_is_reported_together() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"PORT": "http", "WORKER_CLASS": "trio", "DATABASE_URL": "mysql://x"})
    message = str(caught.value)
    assert "PORT" in message and "WORKER_CLASS" in message and "DATABASE_URL" in message


def test_production_refuses_to_start_without_a_secret_key() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_env({"APP_ENV": "production"})


def test_secret_key_is_not_shown_in_repr() -> None:
    settings = Settings.from_env({"SECRET_KEY": "s3cr3t-value"})
    assert "s3cr3t-value" not in repr(settings)


def test_request_deadlines_and_admission_have_bounded_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.body_timeout_seconds == 15.0
    assert (settings.admission_queue, settings.admission_wait_seconds) == (100, 10.0)


def test_request_deadlines_and_admission_are_read() -> None:
    settings = Settings.from_env(
        {"BODY_TIMEOUT_SECONDS": "2.5", "ADMISSION_QUEUE": "0", "ADMISSION_WAIT_SECONDS": "1"}
    )
    assert settings.body_timeout_seconds == 2.5
    assert (settings.admission_queue, settings.admission_wait_seconds) == (0, 1.0)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BODY_TIMEOUT_SECONDS", "0"),
        ("BODY_TIMEOUT_SECONDS", "forever"),
        ("ADMISSION_QUEUE", "-1"),
        ("ADMISSION_QUEUE", "many"),
        ("ADMISSION_WAIT_SECONDS", "301"),
    ],
)
def test_bad_deadline_or_admission_values_are_refused(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_production_needs_the_host_names_it_answers_to() -> None:
    with pytest.raises(SettingsError, match="TRUSTED_HOSTS is required"):
        Settings.from_env({"APP_ENV": "production", "SECRET_KEY": "k" * 40})
    settings = Settings.from_env(
        {"APP_ENV": "production", "SECRET_KEY": "k" * 40, "TRUSTED_HOSTS": "api.example, .corp"}
    )
    assert settings.trusted_hosts == ("api.example", ".corp")


@pytest.mark.parametrize(
    ("env", "log_format"),
    [
        ({}, "text"),
        ({"APP_ENV": "production"}, "json"),
        ({"APP_ENV": "production", "LOG_FORMAT": "text"}, "text"),
        ({"LOG_FORMAT": "json"}, "json"),
    ],
)
def test_logs_are_json_lines_in_production_unless_told_otherwise(
    env: dict[str, str], log_format: str
) -> None:
    production = {"SECRET_KEY": "k" * 40, "TRUSTED_HOSTS": "api.example"}
    settings = Settings.from_env({**production, **env})
    assert settings.log_format == log_format
