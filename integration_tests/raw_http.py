"""HTTP/1.1 over a bare socket, for what an HTTP library hides: status lines, resets, trickles."""

from __future__ import annotations

import json
import socket
import struct
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

IO_TIMEOUT_SECONDS = 30.0


def connect(url: str) -> socket.socket:
    """A TCP connection to the host and port of ``url``."""
    parts = urlsplit(url)
    sock = socket.create_connection(
        (parts.hostname or "127.0.0.1", parts.port or 80), timeout=IO_TIMEOUT_SECONDS
    )
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def request_head(
    method: str,
    path: str,
    headers: Mapping[str, str] | None = None,
    *,
    content_length: int | None = None,
) -> bytes:
    """A request line and headers (``Connection: close``), ready to send before any body."""
    lines = [f"{method} {path} HTTP/1.1", "Host: api.test", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def json_request(
    method: str, path: str, body: Any, headers: Mapping[str, str] | None = None
) -> bytes:
    """A whole request carrying ``body`` as JSON."""
    data = json.dumps(body).encode()
    head = request_head(
        method,
        path,
        {"Content-Type": "application/json", **(headers or {})},
        content_length=len(data),
    )
    return head + data


def read_response(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = bytearray()
    while chunk := sock.recv(65536):
        received += chunk
    return bytes(received)


def exchange(url: str, raw_request: bytes) -> bytes:
    """Send ``raw_request`` on a new connection and return the whole raw response."""
    with connect(url) as sock:
        sock.sendall(raw_request)
        return read_response(sock)


def status_line(raw_response: bytes) -> bytes:
    """The first line of a raw response, without its CRLF."""
    return raw_response.split(b"\r\n", 1)[0]


def header(raw_response: bytes, name: str) -> str | None:
    """The value of the response header ``name`` (case-insensitive), if present."""
    head = raw_response.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def body(raw_response: bytes) -> bytes:
    """The body of a raw response (sent with Content-Length, as the API does)."""
    return raw_response.split(b"\r\n\r\n", 1)[1]


def reset(sock: socket.socket) -> None:
    """Close ``sock`` with a TCP reset (RST), as a client that crashed or timed out does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def trickle(sock: socket.socket, data: bytes, every_seconds: float, for_seconds: float) -> int:
    """Send ``data`` a byte at a time, one every ``every_seconds``, for at most ``for_seconds``.

    Stops early when the server closes or answers; returns how many bytes were sent.
    """
    sock.setblocking(False)
    deadline = time.monotonic() + for_seconds
    sent = 0
    try:
        while sent < len(data) and time.monotonic() < deadline:
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    break  # the server has answered
            except BlockingIOError:
                pass
            sock.send(data[sent : sent + 1])
            sent += 1
            time.sleep(every_seconds)
    except OSError:
        pass  # the server closed the connection on us: that is its answer
    finally:
        sock.setblocking(True)
        sock.settimeout(IO_TIMEOUT_SECONDS)
    return sent
