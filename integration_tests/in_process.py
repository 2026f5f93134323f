"""The in-process test tier: the real ASGI app, driven by httpx without a server process.

:class:`InProcessApp` is ``service.create_asgi_app(settings)`` (the ASGI adapter, the greenlet
bridge and the lifespan that opens and closes the database) running on an event loop of its own
in a background thread, as Hypercorn would run it in a worker. Its :meth:`InProcessApp.client`
is an ordinary synchronous ``httpx.Client`` whose requests go through httpx's
``ASGITransport`` on that loop, so a test reads exactly as one over HTTP, in milliseconds.

Flask's own ``app.test_client()`` cannot serve this app: it calls the WSGI app outside any event
loop, where the ``async def`` views and their pooled database connections cannot run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import httpx

from service import create_asgi_app
from service.cli import bootstrap_supervisor, upgrade_database
from service.settings import Settings

#: How long one request may take before the test fails instead of hanging.
REQUEST_TIMEOUT_SECONDS = 30.0
BASE_URL = "http://testserver"


class InProcessApp:
    """The ASGI app on a private event loop, from lifespan startup to shutdown."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.asgi = create_asgi_app(settings)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="in-process-app", daemon=True
        )
        self._lifespan: asyncio.Future[None] | None = None
        self._to_app: asyncio.Queue[dict[str, Any]] | None = None
        self._from_app: asyncio.Queue[dict[str, Any]] | None = None

    def __enter__(self) -> InProcessApp:
        self._thread.start()
        self._run(self._start())
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self._run(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=REQUEST_TIMEOUT_SECONDS)
            self._loop.close()

    def client(self, **kwargs: Any) -> httpx.Client:
        """A synchronous httpx client whose requests this app answers."""
        kwargs.setdefault("base_url", BASE_URL)
        kwargs.setdefault("timeout", REQUEST_TIMEOUT_SECONDS)
        return httpx.Client(transport=_LoopTransport(self), **kwargs)

    def _run(self, coroutine: Any) -> Any:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=REQUEST_TIMEOUT_SECONDS)

    async def _start(self) -> None:
        self._to_app, self._from_app = asyncio.Queue(), asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        self._lifespan = asyncio.ensure_future(
            self.asgi(scope, self._to_app.get, self._from_app.put)
        )
        await self._lifespan_event("startup")

    async def _stop(self) -> None:
        await self._lifespan_event("shutdown")
        assert self._lifespan is not None
        await self._lifespan

    async def _lifespan_event(self, kind: str) -> None:
        assert self._to_app is not None and self._from_app is not None
        await self._to_app.put({"type": f"lifespan.{kind}"})
        answer = await self._from_app.get()
        if answer["type"] != f"lifespan.{kind}.complete":
            raise RuntimeError(f"ASGI lifespan {kind} failed: {answer.get('message')}")

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request through httpx's ASGI transport, on this app's loop."""
        transport = httpx.ASGITransport(app=self.asgi, raise_app_exceptions=False)  # type: ignore[arg-type]
        response = await transport.handle_async_request(request)
        content = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=content)


class _LoopTransport(httpx.BaseTransport):
    """A synchronous transport that hands each request to the app's loop and waits."""

    def __init__(self, app: InProcessApp) -> None:
        self.app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        # A fresh request whose body stream is readable from async code, as ASGITransport needs.
        copy = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        response: httpx.Response = self.app._run(self.app.handle(copy))
        return response


def app_settings(database_url: str, env: Mapping[str, str | None] | None = None) -> Settings:
    """The settings of a test app: the test database and signing key, with ``env`` overrides."""
    from integration_tests.server import ADMIN, SECRET_KEY

    values: dict[str, str] = {
        "DATABASE_URL": database_url,
        "APP_ENV": "test",
        "SECRET_KEY": SECRET_KEY,
        "ADMIN_USERNAME": ADMIN[0],
        "ADMIN_PASSWORD": ADMIN[1],
    }
    for name, value in (env or {}).items():
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return Settings.from_env(values)


def prepare_database(settings: Settings) -> None:
    """Migrate the database and create the first supervisor, as ``python -m service`` does."""
    upgrade_database(settings)
    bootstrap_supervisor(settings)


@contextmanager
def in_process_app(
    database_url: str, env: Mapping[str, str | None] | None = None
) -> Iterator[InProcessApp]:
    """The app with the test settings and ``env`` overrides, on a migrated database."""
    settings = app_settings(database_url, env)
    prepare_database(settings)
    with InProcessApp(settings) as app:
        yield app
