"""The ASGI entry point, ``service.asgi:app``: Flask on Hypercorn's event loop.

Each Hypercorn worker process imports this module, so each has its own app and, from lifespan
startup to shutdown, its own pooled engine on its own loop.
"""

from __future__ import annotations

from contextlib import suppress
from http import HTTPStatus
from typing import Any

from service import create_asgi_app
from service.logs import configure_logging
from service.settings import Settings


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
configure_logging(_settings.log_level, _settings.log_format)
app = create_asgi_app(_settings)
