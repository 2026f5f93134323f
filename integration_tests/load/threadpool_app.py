"""BENCHMARK FIXTURE ONLY: the API served the way we rejected, to measure the product against.

Hypercorn sees a WSGI callable here (``hypercorn integration_tests.load.threadpool_app:app``)
and runs every request in its default thread pool. Flask's ``async def`` views are awaited on one
persistent event loop in a background thread through ``asyncio.run_coroutine_threadsafe``; the
pooled engine is created on that loop, so asyncpg connections never cross loops. This is the
alternative that docs/design.md ("The async core") weighs against the greenlet bridge, kept only
so that the load benchmark can show what the bridge (``service.asgi:app``) buys. Never deploy it.

The app is the product's own (``service.create_app`` and ``service.database``): only the way
coroutines are awaited differs.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from flask import Flask

from service import create_app, database
from service.logs import configure_logging
from service.settings import Settings


def _start_background_loop() -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="bench-background-loop", daemon=True)
    thread.start()
    return loop


def create_threadpool_app(settings: Settings | None = None) -> Flask:
    """The product's Flask app, its coroutines awaited on a background loop from pool threads."""
    settings = settings or Settings.from_env()
    flask_app = create_app(settings)
    loop = _start_background_loop()

    def async_to_sync(
        func: Callable[..., Coroutine[Any, Any, Any]],
    ) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            # call_soon_threadsafe copies this thread's context, so the task sees the Flask
            # request and application contexts.
            return asyncio.run_coroutine_threadsafe(func(*args, **kwargs), loop).result()

        return run

    # An instance attribute shadows BridgedFlask.async_to_sync, which needs a request greenlet.
    flask_app.async_to_sync = async_to_sync  # type: ignore[method-assign]

    async def open_on_loop() -> database.Database:
        return database.open_database(settings)

    opened = asyncio.run_coroutine_threadsafe(open_on_loop(), loop).result()
    database.attach(flask_app, opened)
    return flask_app


_settings = Settings.from_env()
configure_logging(_settings.log_level)
app = create_threadpool_app(_settings)
