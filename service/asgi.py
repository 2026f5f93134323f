"""The ASGI entry point, ``service.asgi:app``: Flask on Hypercorn's event loop.

Each Hypercorn worker process imports this module, so each has its own app and, from lifespan
startup to shutdown, its own pooled engine on its own loop.
"""

from __future__ import annotations

from service import create_asgi_app
from service.logs import configure_logging
from service.settings import Settings

_settings = Settings.from_env()
configure_logging(_settings.log_level, _settings.log_format)
app = create_asgi_app(_settings)
