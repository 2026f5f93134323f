"""Typed settings, read once from the environment and validated at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import current_app

#: The API refuses request bodies above this size (nginx's client_max_body_size matches it).
MAX_BODY_BYTES = 64 * 1024

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LOG_FORMATS = ("text", "json")
_WORKER_CLASSES = ("asyncio", "uvloop")
_APP_ENVS = ("development", "production", "test")
DEFAULT_SQLITE_FILE = "numbers.sqlite3"
#: Signs tokens in development and tests only; refused when APP_ENV=production.
DEVELOPMENT_SECRET_KEY = "development-only-not-a-secret"  # noqa: S105 - public on purpose
_MIN_PRODUCTION_SECRET_CHARS = 32


class SettingsError(ValueError):
    """The environment holds one or more invalid settings; the message lists them all."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service can be configured with (the table in docs/operations.md)."""

    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_SQLITE_FILE}"
    app_env: str = "development"
    log_level: str = "INFO"
    #: ``text`` (one readable line a record) or ``json`` (one object a line; production's default).
    log_format: str = "text"
    host: str = "127.0.0.1"
    port: int = 8000
    web_concurrency: int = 1
    worker_class: str = "asyncio"
    currencies: tuple[str, ...] = ("U$", "R$", "USD", "BRL", "EUR")
    cors_origins: tuple[str, ...] = ("*",)
    #: Host names the API answers to (Flask's TRUSTED_HOSTS); empty: any (not in production).
    trusted_hosts: tuple[str, ...] = ()
    max_page_size: int = 1000
    count_limit: int = 1000
    trusted_proxies: int = 0
    db_pool_size: int = 10
    db_timeout_seconds: float = 5.0
    #: asyncpg's prepared-statement cache per connection; 0 behind PgBouncer's transaction pooling.
    db_statement_cache_size: int = 100
    #: After SIGTERM, how long readiness answers 503 while requests are still served.
    drain_delay_seconds: float = 0.0
    body_timeout_seconds: float = 15.0
    admission_queue: int = 100
    admission_wait_seconds: float = 10.0
    secret_key: str = field(default=DEVELOPMENT_SECRET_KEY, repr=False)
    token_ttl_seconds: int = 8 * 3600  # a working day
    user_cache_seconds: int = 60
    login_max_failures: int = 5
    login_max_failures_per_username: int = 100
    login_window_seconds: int = 15 * 60
    admin_username: str | None = None
    admin_password: str | None = field(default=None, repr=False)

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")

    @property
    def uses_development_key(self) -> bool:
        """True when tokens are signed with the public development key."""
        return self.secret_key == DEVELOPMENT_SECRET_KEY

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (default ``os.environ``); raise on any bad value."""
        env = os.environ if environ is None else environ
        reader = _Reader(env)
        defaults = cls()
        app_env = reader.choice("APP_ENV", defaults.app_env, _APP_ENVS)
        settings = cls(
            database_url=reader.text("DATABASE_URL", defaults.database_url),
            app_env=app_env,
            log_level=reader.choice("LOG_LEVEL", defaults.log_level, _LOG_LEVELS, upper=True),
            log_format=reader.choice(
                "LOG_FORMAT", "json" if app_env == "production" else "text", _LOG_FORMATS
            ),
            host=reader.text("HOST", defaults.host),
            port=reader.integer("PORT", defaults.port, minimum=0, maximum=65535),
            web_concurrency=reader.integer("WEB_CONCURRENCY", defaults.web_concurrency, 1, 64),
            worker_class=reader.choice("WORKER_CLASS", defaults.worker_class, _WORKER_CLASSES),
            currencies=reader.items("CURRENCIES", defaults.currencies),
            cors_origins=reader.items("CORS_ORIGINS", defaults.cors_origins, allow_empty=True),
            trusted_hosts=reader.items("TRUSTED_HOSTS", defaults.trusted_hosts, allow_empty=True),
            max_page_size=reader.integer("MAX_PAGE_SIZE", defaults.max_page_size, 1, 10_000),
            count_limit=reader.integer("COUNT_LIMIT", defaults.count_limit, 1, 10_000_000),
            trusted_proxies=reader.integer("TRUSTED_PROXIES", defaults.trusted_proxies, 0, 5),
            db_pool_size=reader.integer("DB_POOL_SIZE", defaults.db_pool_size, 1, 100),
            db_timeout_seconds=reader.number("DB_TIMEOUT_SECONDS", defaults.db_timeout_seconds),
            db_statement_cache_size=reader.integer(
                "DB_STATEMENT_CACHE_SIZE", defaults.db_statement_cache_size, 0, 10_000
            ),
            drain_delay_seconds=reader.number(
                "DRAIN_DELAY_SECONDS", defaults.drain_delay_seconds, allow_zero=True
            ),
            body_timeout_seconds=reader.number(
                "BODY_TIMEOUT_SECONDS", defaults.body_timeout_seconds
            ),
            admission_queue=reader.integer("ADMISSION_QUEUE", defaults.admission_queue, 0, 10_000),
            admission_wait_seconds=reader.number(
                "ADMISSION_WAIT_SECONDS", defaults.admission_wait_seconds
            ),
            secret_key=env.get("SECRET_KEY") or defaults.secret_key,
            token_ttl_seconds=reader.integer(
                "TOKEN_TTL_SECONDS", defaults.token_ttl_seconds, 1, 7 * 24 * 3600
            ),
            # At most 60 s: deactivating a user must take effect within a minute.
            user_cache_seconds=reader.integer(
                "USER_CACHE_SECONDS", defaults.user_cache_seconds, 0, 60
            ),
            login_max_failures=reader.integer(
                "LOGIN_MAX_FAILURES", defaults.login_max_failures, 1, 1000
            ),
            login_max_failures_per_username=reader.integer(
                "LOGIN_MAX_FAILURES_PER_USERNAME",
                defaults.login_max_failures_per_username,
                1,
                100_000,
            ),
            login_window_seconds=reader.integer(
                "LOGIN_WINDOW_SECONDS", defaults.login_window_seconds, 1, 24 * 3600
            ),
            admin_username=env.get("ADMIN_USERNAME", "").strip() or None,
            admin_password=env.get("ADMIN_PASSWORD") or None,
        )
        if not settings.database_url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            reader.errors.append(
                "DATABASE_URL must start with postgresql+asyncpg:// or sqlite+aiosqlite://"
            )
        if settings.app_env == "production":
            if not env.get("SECRET_KEY"):
                reader.errors.append("SECRET_KEY is required when APP_ENV=production")
            elif settings.secret_key == DEVELOPMENT_SECRET_KEY:
                reader.errors.append("SECRET_KEY must not be the development key in production")
            elif len(settings.secret_key) < _MIN_PRODUCTION_SECRET_CHARS:
                reader.errors.append(
                    f"SECRET_KEY must be at least {_MIN_PRODUCTION_SECRET_CHARS} characters "
                    "when APP_ENV=production"
                )
        if settings.login_max_failures_per_username < settings.login_max_failures:
            reader.errors.append(
                "LOGIN_MAX_FAILURES_PER_USERNAME must be at least LOGIN_MAX_FAILURES"
            )
        if settings.app_env == "production" and not settings.trusted_hosts:
            reader.errors.append(
                "TRUSTED_HOSTS is required when APP_ENV=production (the host names clients use, "
                "comma-separated; a leading dot allows subdomains)"
            )
        if (settings.admin_username is None) != (settings.admin_password is None):
            reader.errors.append("ADMIN_USERNAME and ADMIN_PASSWORD must be set together")
        if reader.errors:
            raise SettingsError("invalid settings: " + "; ".join(reader.errors))
        return settings


class _Reader:
    """Parses environment variables, collecting every error instead of stopping at the first."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.errors: list[str] = []

    def text(self, name: str, default: str) -> str:
        value = self.env.get(name, "").strip()
        return value or default

    def choice(self, name: str, default: str, allowed: tuple[str, ...], upper: bool = False) -> str:
        value = self.text(name, default)
        value = value.upper() if upper else value.lower()
        if value not in allowed:
            self.errors.append(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
            return default
        return value

    def integer(self, name: str, default: int, minimum: int, maximum: int) -> int:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.errors.append(f"{name} must be a whole number (got {raw!r})")
            return default
        if not minimum <= value <= maximum:
            self.errors.append(f"{name} must be between {minimum} and {maximum} (got {value})")
            return default
        return value

    def number(self, name: str, default: float, allow_zero: bool = False) -> float:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not (0 <= value if allow_zero else 0 < value) or not value <= 300:
            bounds = "[0, 300]" if allow_zero else "(0, 300]"
            self.errors.append(f"{name} must be a number of seconds in {bounds} (got {raw!r})")
            return default
        return value

    def items(
        self, name: str, default: tuple[str, ...], allow_empty: bool = False
    ) -> tuple[str, ...]:
        raw = self.env.get(name)
        if raw is None:
            return default
        values = tuple(item.strip() for item in raw.split(",") if item.strip())
        if not values and not allow_empty:
            self.errors.append(f"{name} must list at least one value, comma-separated")
            return default
        return values


def current_settings() -> Settings:
    """The settings of the running Flask app (``create_app`` stores them once)."""
    settings: Settings = current_app.config["SETTINGS"]
    return settings
