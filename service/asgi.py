"""The ASGI entry point, ``service.asgi:app``: Flask on Hypercorn's event loop.

Each Hypercorn worker process imports this module, so each has its own app, its own admission
lanes and, from lifespan startup to shutdown, its own pooled engine on its own loop.
"""

from __future__ import annotations

from contextlib import suppress
from http import HTTPStatus
from typing import Any

from flask import Flask

from service import create_app, database
from service.admission import Lane
from service.asgi_adapter import AsgiAdapter
from service.auth.passwords import HASHING_THREADS
from service.logs import configure_logging
from service.settings import MAX_BODY_BYTES, Settings

#: What a 503 from a full lane asks the client to wait: requests take milliseconds here.
BUSY_RETRY_AFTER_SECONDS = 1
#: Probes: answered whatever else is waiting, and never turned away as "busy".
PROBE_PATHS = ("/health/live", "/health/ready")
LOGIN_PATH = "/auth/token"


def create_asgi_app(settings: Settings | None = None) -> AsgiAdapter:
    """The Flask app for ASGI: its database opens at lifespan startup and closes at shutdown."""
    settings = settings or Settings.from_env()
    flask_app: Flask = create_app(settings)

    async def startup() -> None:
        database.attach(flask_app, database.open_database(settings))

    async def shutdown() -> None:
        opened = database.detach(flask_app)
        if opened is not None:
            await opened.dispose()

    def lane(concurrency: int) -> Lane:
        return Lane(concurrency, settings.admission_queue, settings.admission_wait_seconds)

    # Requests: as many inside the app as the pool has connections, so they never race for one.
    # Logins: as many as there are hashing threads, so a login never waits for a hash while it
    # holds a slot, and a flood of them queues in its own lane instead of in front of reads.
    return AsgiAdapter(
        flask_app,
        max_body_bytes=MAX_BODY_BYTES,
        body_timeout_seconds=settings.body_timeout_seconds,
        startup=startup,
        shutdown=shutdown,
        default_lane=lane(settings.db_pool_size),
        lanes={LOGIN_PATH: lane(HASHING_THREADS)} | dict.fromkeys(PROBE_PATHS),
        retry_after_seconds=BUSY_RETRY_AFTER_SECONDS,
    )


def send_reason_phrases() -> None:
    """Make h11 write the standard reason phrase (``409 Conflict``) when the server gives none.

    Hypercorn builds ``h11.Response`` without a reason, and h11 then writes ``HTTP/1.1 409 ``:
    valid, but browsers show the empty phrase as ``statusText``. h11 writes every status line in
    ``_writers.write_any_response``, looked up in its ``WRITERS`` table; wrapping that one entry
    fills an empty reason from ``http.HTTPStatus``, for every response of this process.
    Applied at import, so in every worker, however it was started.
    """
    from h11 import _writers  # private, but the one place h11 builds a status line
    from h11._state import IDLE, SEND_RESPONSE, SERVER

    plain = _writers.write_any_response
    if getattr(plain, "fills_reason", False):
        return

    def write_any_response(response: Any, write: Any) -> None:
        if not response.reason:
            with suppress(ValueError):  # a status code http.HTTPStatus does not know: no phrase
                phrase = HTTPStatus(response.status_code).phrase.encode("ascii")
                object.__setattr__(response, "reason", phrase)  # h11 events are frozen
        plain(response, write)

    write_any_response.fills_reason = True  # type: ignore[attr-defined]
    for state in (IDLE, SEND_RESPONSE):
        _writers.WRITERS[(SERVER, state)] = write_any_response


send_reason_phrases()
_settings = Settings.from_env()
configure_logging(_settings.log_level)
app = create_asgi_app(_settings)
