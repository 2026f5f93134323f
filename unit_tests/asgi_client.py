"""A minimal in-process ASGI client, so the adapter is tested exactly as a server drives it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from service.asgi_adapter import AsgiAdapter, Message


@dataclass
class Reply:
    """What the application sent back."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    messages: list[Message] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body)


def scope(
    method: str = "GET",
    path: str = "/",
    query: bytes = b"",
    headers: Iterable[tuple[str, str]] = (),
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5555),
    }


async def call(
    app: AsgiAdapter,
    method: str = "GET",
    path: str = "/",
    *,
    query: bytes = b"",
    headers: Iterable[tuple[str, str]] = (),
    chunks: Iterable[bytes] = (),
    disconnect: bool = False,
    leave: asyncio.Event | None = None,
    pause: float = 0.0,
) -> tuple[Reply, int]:
    """Drive one HTTP request; return the reply and how many times the app called receive().

    ``pause`` seconds pass before each part of the body (a slow client); ``disconnect`` ends the
    body with a disconnect. Once the body is whole, receive() answers
    ``http.disconnect`` as a server does: when the response is complete, or earlier, when the
    client leaves (``leave`` is set).
    """
    chunks = list(chunks)
    pending: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks
    ]
    pending.append({"type": "http.disconnect"} if disconnect else {"type": "http.request"})
    received = 0
    reply = Reply()
    answered = asyncio.Event()

    async def receive() -> Message:
        nonlocal received
        received += 1
        if pending:
            await asyncio.sleep(pause)
            return pending.pop(0)
        ends = [asyncio.ensure_future(answered.wait())]
        if leave is not None:
            ends.append(asyncio.ensure_future(leave.wait()))
        try:
            await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for end in ends:
                end.cancel()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        reply.messages.append(message)
        if message["type"] == "http.response.start":
            reply.status = message["status"]
            reply.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            reply.body += message.get("body", b"")
            if not message.get("more_body", False):
                answered.set()

    if chunks and not any(name.lower() == "content-length" for name, _ in headers):
        headers = [*headers, ("Transfer-Encoding", "chunked")]  # as an HTTP/1.1 client says
    await app(scope(method, path, query, headers), receive, send)
    return reply, received


def add_slow_route(app: Flask, events: list[str]) -> None:
    """``GET /t/slow``: a view that sleeps 10 s; ``events`` records its unwinding and teardown."""

    @app.get("/t/slow")
    async def slow_view() -> str:
        try:
            await asyncio.sleep(10)
        finally:
            events.append("view unwound")
        return "never"

    @app.teardown_request
    def teardown(_error: BaseException | None) -> None:
        events.append("teardown")
