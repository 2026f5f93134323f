"""An ASGI application that serves a WSGI app (Flask) through the greenlet bridge.

What it does, in order, for each HTTP request:

- **Reads the whole body first**, before the app runs, so a slow client holds no admission slot.
  The body is bounded in size (past ``max_body_bytes`` it stops reading: 413) and in time (the
  whole body must arrive within ``body_timeout_seconds``: 408), whatever the server's per-read
  timeouts allow.
- **Admits the request through its lane** (:mod:`service.admission`), chosen by path: a lane
  bounds how many requests run at once, how many wait, and for how long; past those bounds the
  answer is 503 with ``Retry-After`` at once. A path mapped to no lane (a probe) never waits.
- **Runs the WSGI app in a greenlet** on the server's loop (:mod:`service.greenlet_bridge`).
- **Watches for the client going away**: a request still waiting for admission is dropped; a
  safe request (GET, HEAD, OPTIONS) in progress is cancelled; any other request that has begun
  runs to its end, so a write is never left half done.

Responses are buffered: the app's status, headers and whole body are collected, then sent in one
``http.response.body`` message. Streaming responses are not supported, and ``start_response``'s
legacy ``write()`` callable raises rather than losing what it is given.

The adapter does not render errors itself: when it refuses a request (413, 408, 503) it still
runs the app, with the refusal as a Werkzeug ``HTTPException`` in the environ under
:data:`REFUSAL`, for the app to raise so that its own error handlers give the one error shape.
The ASGI lifespan runs ``startup`` and ``shutdown`` on the worker's loop.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from werkzeug.exceptions import (
    HTTPException,
    RequestEntityTooLarge,
    RequestTimeout,
    ServiceUnavailable,
)

from service.admission import Lane, LaneFull
from service.greenlet_bridge import run_in_greenlet

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: A buffered response: status code, raw ASGI headers, body.
Response = tuple[int, list[tuple[bytes, bytes]], bytes]

#: WSGI environ key of the refusal (an ``HTTPException``) the app must raise for this request.
REFUSAL = "asgi_adapter.refusal"
#: How much of an oversized body is read and dropped before answering 413 (see _read_body).
MAX_DRAIN_BYTES = 1024 * 1024
#: RFC 9110's safe methods: cancelling one whose client has gone changes nothing.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Body:
    """A request body as read: its bytes, or the refusal that stopped the reading."""

    data: bytes
    refusal: HTTPException | None = None


class AsgiAdapter:
    """Serves ``wsgi_app`` to an ASGI server, each request in a greenlet on the server's loop.

    ``lanes`` maps a path (without the root path) to its lane, or to None for a path that never
    waits; every other path goes through ``default_lane`` (None: no admission control).
    ``retry_after_seconds`` is what a 503 for a full lane tells the client.
    """

    def __init__(
        self,
        wsgi_app: WsgiApp,
        *,
        max_body_bytes: int,
        body_timeout_seconds: float | None = None,
        startup: Callable[[], Awaitable[None]] | None = None,
        shutdown: Callable[[], Awaitable[None]] | None = None,
        default_lane: Lane | None = None,
        lanes: Mapping[str, Lane | None] | None = None,
        retry_after_seconds: int = 1,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_seconds = body_timeout_seconds
        self.startup = startup
        self.shutdown = shutdown
        self.default_lane = default_lane
        self.lanes = dict(lanes or {})
        self.retry_after_seconds = retry_after_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:  # websocket: not served
            await send({"type": "websocket.close", "code": 1000})

    def lane_for(self, path: str) -> Lane | None:
        """The lane that admits requests for ``path`` (None: they never wait)."""
        return self.lanes.get(path, self.default_lane)

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
        body = await self._read_body(scope, receive)
        if body is None:  # the client went away before sending the whole body
            return
        environ = build_environ(scope, body.data)
        if body.refusal is not None:
            response: Response | None = await self._refuse(environ, body.refusal)
        else:
            # After a whole body, the only message left to receive is http.disconnect.
            gone = asyncio.ensure_future(receive())
            try:
                response = await self._admit_and_run(environ, gone)
            finally:
                gone.cancel()
        if response is not None:
            status, headers, content = response
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": content})

    async def _admit_and_run(
        self, environ: dict[str, Any], gone: asyncio.Future[Message]
    ) -> Response | None:
        """The app's response, a 503 when the lane is full, or None when the client left."""
        lane = self.lane_for(environ["PATH_INFO"])
        if lane is None:
            return await self._run(environ, gone)
        try:
            admitted = await _admitted(lane, gone)
        except LaneFull as full:
            log.warning("too busy: %s answered 503 (%s)", _request_line(environ), full)
            busy = ServiceUnavailable(
                "The server is too busy to take this request now; retry shortly.",
                retry_after=self.retry_after_seconds,
            )
            return await self._refuse(environ, busy)
        if not admitted:
            log.info("client left while queued: %s dropped", _request_line(environ))
            return None
        try:
            return await self._run(environ, gone)
        finally:
            lane.release()

    async def _run(self, environ: dict[str, Any], gone: asyncio.Future[Message]) -> Response | None:
        """Run the app; if the client leaves first, cancel a safe request, finish any other."""
        work = asyncio.ensure_future(run_in_greenlet(self._call_wsgi, environ))

        def client_left(_: object) -> None:
            if work.done():
                return
            if environ["REQUEST_METHOD"] in SAFE_METHODS:
                log.info("client left: %s cancelled", _request_line(environ))
                work.cancel()
            else:
                log.info("client left: %s runs to its end", _request_line(environ))

        gone.add_done_callback(client_left)
        try:
            # If this coroutine is cancelled, awaiting the task cancels it too: the request unwinds.
            response = await work
            return None if gone.done() else response  # nobody to answer when the client left
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if work.cancelled() and gone.done() and not (current and current.cancelling()):
                return None  # cancelled by client_left, not by the server
            raise
        finally:
            gone.remove_done_callback(client_left)

    async def _refuse(self, environ: dict[str, Any], refusal: HTTPException) -> Response:
        """Let the app answer ``refusal`` in its own error shape (not admitted: it is quick)."""
        environ[REFUSAL] = refusal
        return await run_in_greenlet(self._call_wsgi, environ)

    async def _read_body(self, scope: Scope, receive: Receive) -> _Body | None:
        """The whole body, a refusal (413, 408), or None when the client disconnected."""
        if not _may_have_body(scope):  # the server has the whole (empty) body already
            return await self._read_limited_body(scope, receive)
        try:
            async with asyncio.timeout(self.body_timeout_seconds):
                return await self._read_limited_body(scope, receive)
        except TimeoutError:
            seconds = f"{self.body_timeout_seconds:g}"
            return _Body(b"", RequestTimeout(f"The whole body must arrive within {seconds} s."))

    async def _read_limited_body(self, scope: Scope, receive: Receive) -> _Body | None:
        """The body, or a 413 refusal as soon as it is known to exceed the limit.

        The rest of an oversized body is read and thrown away, up to ``MAX_DRAIN_BYTES``, so a
        client still sending it reads the 413 instead of a connection reset. Nothing past the
        limit is kept in memory.
        """
        too_large = _Body(
            b"", RequestEntityTooLarge(f"The body must be at most {self.max_body_bytes} bytes.")
        )
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            if declared <= self.max_body_bytes + MAX_DRAIN_BYTES:
                await self._discard(receive, MAX_DRAIN_BYTES)
            return too_large
        buffer = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            buffer += message.get("body", b"")
            more = message.get("more_body", False)
            if len(buffer) > self.max_body_bytes:
                if more:
                    await self._discard(receive, MAX_DRAIN_BYTES)
                return too_large
            if not more:
                return _Body(bytes(buffer))

    @staticmethod
    async def _discard(receive: Receive, limit: int) -> None:
        """Read and drop the rest of the body, giving up after ``limit`` bytes."""
        discarded = 0
        while discarded <= limit:
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                return
            discarded += len(message.get("body", b""))

    def _call_wsgi(self, environ: dict[str, Any]) -> Response:
        captured: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], NoReturn]:
            # Nothing has been sent yet (responses are buffered), so a later call, with
            # exc_info, simply replaces the status and headers (PEP 3333).
            captured[:] = [status, headers]
            return _unsupported_write

        iterable = self.wsgi_app(environ, start_response)
        try:
            content = b"".join(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        status, headers = captured
        # The server writes Date on every response; Werkzeug adds one to conditional responses,
        # and a second Date header would contradict RFC 9110 (it is a single field).
        raw_headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in headers
            if k.lower() != "date"
        ]
        return int(status.split(" ", 1)[0]), raw_headers, content


async def _admitted(lane: Lane, gone: asyncio.Future[Message]) -> bool:
    """Wait for a slot in ``lane``: True once taken, False if the client left first."""
    if lane.try_acquire():
        return True
    waiting = asyncio.ensure_future(lane.acquire())
    try:
        await _either(waiting, gone)
    except BaseException:  # cancelled: give back a slot taken at the same moment
        await _settle(waiting)
        if _succeeded(waiting):
            lane.release()
        raise
    await _settle(waiting)
    if waiting.cancelled():
        return False
    waiting.result()  # raises LaneFull
    if gone.done():  # admitted as the client left: nothing has begun, so drop it
        lane.release()
        return False
    return True


async def _either(first: asyncio.Future[Any], second: asyncio.Future[Any]) -> None:
    """Wait until one of the two is done."""
    await asyncio.wait((first, second), return_when=asyncio.FIRST_COMPLETED)


async def _settle(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` unless it is done, and wait until it is."""
    if not task.done():
        task.cancel()
        await asyncio.wait({task})


def _succeeded(task: asyncio.Future[Any]) -> bool:
    return task.done() and not task.cancelled() and task.exception() is None


def _unsupported_write(data: bytes) -> NoReturn:
    raise RuntimeError(
        "start_response's write() is not supported: responses are buffered; "
        "return the body from the WSGI app instead"
    )


def _request_line(environ: Mapping[str, Any]) -> str:
    # repr() escapes control characters: the path is the client's and must not forge log lines.
    return f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']!r}"


def _may_have_body(scope: Scope) -> bool:
    """False when an HTTP/1.x request has no body: neither Content-Length nor Transfer-Encoding.

    (An HTTP/2 request may send DATA frames without either, so it may always have one.)
    """
    if scope.get("http_version") not in ("1.0", "1.1"):
        return True
    return any(
        name == b"transfer-encoding" or (name == b"content-length" and value != b"0")
        for name, value in scope["headers"]
    )


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
