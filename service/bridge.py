"""Flask on the ASGI server's own event loop, through a greenlet.

Why: Flask is a WSGI framework; its stock ``async`` support runs each coroutine on a new event
loop in a worker thread, and asyncpg connections, which belong to the loop that opened them,
cannot then be pooled. Here each request runs ``wsgi_app`` in a greenlet started from the ASGI
coroutine. When Flask meets an ``async def`` view, :meth:`BridgedFlask.async_to_sync` turns it into
a task on the running loop and switches back to the coroutine to await it, so one loop serves many
requests at once and a pooled engine is shared safely.

This is the technique of SQLAlchemy's asyncio extension (``greenlet_spawn``/``await_only``), which
keeps those helpers in a private namespace; the bridge below is our own, on the ``greenlet``
package, and is covered by ``unit_tests/test_bridge.py``.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, TypeVar

from flask import Flask
from greenlet import getcurrent, greenlet

T = TypeVar("T")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: WSGI environ key set when the body was over the limit; the app answers 413.
BODY_TOO_LARGE = "service.body_too_large"
#: How much of an oversized body is read and dropped before answering 413 (see _read_body).
MAX_DRAIN_BYTES = 1024 * 1024

log = logging.getLogger(__name__)


class _RequestGreenlet(greenlet):
    """A greenlet that runs one request's synchronous code; its parent drives the awaits."""


def await_(awaitable: Awaitable[T]) -> T:
    """From synchronous code in a request greenlet, wait for ``awaitable`` on the event loop.

    A coroutine runs as a task in a copy of the greenlet's context, so it sees the Flask
    request and application contexts (``request``, ``g``, ``current_app``).
    """
    current = getcurrent()
    if not isinstance(current, _RequestGreenlet):
        raise RuntimeError("await_() needs a request greenlet started by run_in_greenlet()")
    if asyncio.iscoroutine(awaitable):
        loop = asyncio.get_running_loop()
        awaitable = loop.create_task(awaitable, context=contextvars.copy_context())
    driver = current.parent
    assert driver is not None  # noqa: S101 - a request greenlet always has its driver as parent
    result: T = driver.switch(awaitable)
    return result


async def run_in_greenlet(function: Callable[..., T], *args: Any) -> T:
    """Run synchronous ``function`` in a new greenlet, awaiting what it hands over via await_."""
    child = _RequestGreenlet(function, getcurrent())
    result = child.switch(*args)
    while not child.dead:
        try:
            value = await result
        except BaseException:  # noqa: BLE001 - the greenlet decides, including on cancellation
            result = child.throw(*sys.exc_info())
        else:
            result = child.switch(value)
    return result  # type: ignore[no-any-return]


class BridgedFlask(Flask):
    """Flask whose ``async def`` views and hooks are awaited on the server's running loop."""

    def async_to_sync(self, func: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
        """Wrap a coroutine function so that calling it awaits it through the bridge."""

        def run(*args: Any, **kwargs: Any) -> Any:
            return await_(func(*args, **kwargs))

        return run


class AsgiBridge:
    """An ASGI application that serves a WSGI app in greenlets on the server's loop.

    ``startup`` and ``shutdown`` run on ASGI lifespan events, on the worker's loop.
    """

    def __init__(
        self,
        wsgi_app: WsgiApp,
        *,
        max_body_bytes: int,
        startup: Callable[[], Awaitable[None]] | None = None,
        shutdown: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.max_body_bytes = max_body_bytes
        self.startup = startup
        self.shutdown = shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:  # websocket: not served
            await send({"type": "websocket.close", "code": 1000})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            kind = message["type"]
            hook = self.startup if kind == "lifespan.startup" else self.shutdown
            try:
                if hook is not None:
                    await hook()
            except Exception as error:
                log.exception("ASGI %s failed", kind)
                await send({"type": f"{kind}.failed", "message": str(error)})
                return
            await send({"type": f"{kind}.complete"})
            if kind == "lifespan.shutdown":
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, too_large = await self._read_body(scope, receive)
        if body is None:  # the client went away before sending the whole body
            return
        environ = build_environ(scope, body)
        if too_large:
            environ[BODY_TOO_LARGE] = True
        status, headers, chunks = await run_in_greenlet(self._call_wsgi, environ)
        if scope["method"] == "HEAD":
            chunks = []
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"".join(chunks)})

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[bytes | None, bool]:
        """The body, or (b"", True) as soon as it is known to exceed the limit.

        The rest of an oversized body is read and thrown away, up to ``MAX_DRAIN_BYTES``, so a
        client still sending it reads the 413 instead of a connection reset. Nothing past the
        limit is kept in memory.
        """
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            if declared <= self.max_body_bytes + MAX_DRAIN_BYTES:
                await self._discard(receive, MAX_DRAIN_BYTES)
            return b"", True
        buffer = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None, False
            buffer += message.get("body", b"")
            more = message.get("more_body", False)
            if len(buffer) > self.max_body_bytes:
                if more:
                    await self._discard(receive, MAX_DRAIN_BYTES)
                return b"", True
            if not more:
                return bytes(buffer), False

    @staticmethod
    async def _discard(receive: Receive, limit: int) -> None:
        """Read and drop the rest of the body, giving up after ``limit`` bytes."""
        discarded = 0
        while discarded <= limit:
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                return
            discarded += len(message.get("body", b""))

    def _call_wsgi(
        self, environ: dict[str, Any]
    ) -> tuple[int, list[tuple[bytes, bytes]], list[bytes]]:
        captured: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            captured[:] = [status, headers]
            return lambda data: None

        iterable = self.wsgi_app(environ, start_response)
        try:
            chunks = list(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        status, headers = captured
        raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        return int(status.split(" ", 1)[0]), raw_headers, chunks


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def build_environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) for an ASGI HTTP scope and its complete body."""
    script_name = scope.get("root_path", "")
    path = scope["path"]
    if script_name and path.startswith(script_name):
        path = path[len(script_name) :]
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": script_name.encode("utf-8").decode("latin-1"),
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]) if server[1] is not None else "80",
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        # The body is complete and de-chunked: without this flag Werkzeug reads a chunked
        # request (no Content-Length) as empty.
        "wsgi.input_terminated": True,
        "CONTENT_LENGTH": str(len(body)),
    }
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
            continue
        if name == "CONTENT_LENGTH":
            continue  # the body we pass is the one we read
        key = f"HTTP_{name}"
        if key in environ:
            separator = "; " if name == "COOKIE" else ", "
            value = environ[key] + separator + value
        environ[key] = value
    return environ
