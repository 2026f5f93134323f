"""The ASGI entry point, ``service.asgi:app``: Flask on Hypercorn's event loop.

Each Hypercorn worker process imports this module, so each has its own app and, from lifespan
startup to shutdown, its own pooled engine on its own loop.
"""

from __future__ import annotations

from flask import Flask

from service import create_app, database
from service.bridge import AsgiBridge
from service.logs import configure_logging
from service.settings import MAX_BODY_BYTES, Settings


def create_asgi_app(settings: Settings | None = None) -> AsgiBridge:
    """The Flask app for ASGI: its database opens at lifespan startup and closes at shutdown."""
    settings = settings or Settings.from_env()
    flask_app: Flask = create_app(settings)

    async def startup() -> None:
        database.attach(flask_app, database.open_database(settings))

    async def shutdown() -> None:
        opened = database.detach(flask_app)
        if opened is not None:
            await opened.dispose()

    return AsgiBridge(flask_app, max_body_bytes=MAX_BODY_BYTES, startup=startup, shutdown=shutdown)


_settings = Settings.from_env()
configure_logging(_settings.log_level)
app = create_asgi_app(_settings)
