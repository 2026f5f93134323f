"""A minimal in-process ASGI client, so the bridge is tested exactly as a server drives it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from service.bridge import AsgiBridge, Message


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
    app: AsgiBridge,
    method: str = "GET",
    path: str = "/",
    *,
    query: bytes = b"",
    headers: Iterable[tuple[str, str]] = (),
    chunks: Iterable[bytes] = (),
    disconnect: bool = False,
) -> tuple[Reply, int]:
    """Drive one HTTP request; return the reply and how many times the app called receive()."""
    pending: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks
    ]
    pending.append({"type": "http.disconnect"} if disconnect else {"type": "http.request"})
    received = 0
    reply = Reply()

    async def receive() -> Message:
        nonlocal received
        received += 1
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        reply.messages.append(message)
        if message["type"] == "http.response.start":
            reply.status = message["status"]
            reply.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            reply.body += message.get("body", b"")

    await app(scope(method, path, query, headers), receive, send)
    return reply, received
