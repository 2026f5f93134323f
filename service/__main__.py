"""``python -m service``: migrate, create the first supervisor if needed, serve with Hypercorn."""

from __future__ import annotations

import sys

from hypercorn.config import Config

from service.auth.users import InvalidUsername
from service.cli import bootstrap_supervisor, upgrade_database
from service.logs import configure_logging
from service.serving import serve
from service.settings import Settings, SettingsError

#: Hypercorn's time for the requests in flight once a stopping worker no longer accepts.
GRACEFUL_TIMEOUT_SECONDS = 10


def main() -> int:
    """Validate the settings, migrate, bootstrap the first supervisor, and serve until stopped."""
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"service: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    upgrade_database(settings)
    try:
        bootstrap_supervisor(settings)
    except InvalidUsername as error:
        print(f"service: ADMIN_USERNAME: {error}", file=sys.stderr)
        return 2
    config = Config()
    config.application_path = "service.asgi:app"
    config.bind = [f"{settings.host}:{settings.port}"]
    config.workers = settings.web_concurrency
    config.worker_class = settings.worker_class
    config.accesslog = None  # the app logs one line per request, with its request id
    config.errorlog = None  # hypercorn.error propagates to our handler
    config.graceful_timeout = GRACEFUL_TIMEOUT_SECONDS
    return serve(config, drain_delay=settings.drain_delay_seconds)


if __name__ == "__main__":
    sys.exit(main())
