"""Logging: request ids, one access line per request, and records a client cannot forge.

A client controls much of what is logged (the path, a username, its request id). Every record's
message is written on one line with its control and invisible characters escaped (``\\n``,
``\\x00``, ``\\u202e``), so no request can plant a fake line or hide text in the log. With
``LOG_FORMAT=json`` (production's default) each record is one JSON object a line, the request id
and the access line's method, path, status and duration as fields, for log shippers.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
#: The access line's fields, given as ``extra`` and written as fields of a JSON record.
_ACCESS_FIELDS = ("method", "path", "status", "duration_ms")

access_log = logging.getLogger("service.access")


def escape_unprintable(text: str) -> str:
    """``text`` with every character that is not printable escaped, as Python writes it."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` ("-" outside a request) and makes the message one printable line."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = "-"
        if has_request_context():
            request_id = g.get("request_id", "-")
        record.request_id = request_id
        record.msg = escape_unprintable(record.getMessage())
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, request id, message, and any exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        entry.update(
            (name, getattr(record, name)) for name in _ACCESS_FIELDS if hasattr(record, name)
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, log_format: str = "text") -> None:
    """Send the service's logs to stderr, each record with its request id, in ``log_format``."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
        )
    handler.addFilter(RequestContextFilter())
    # No format shows threads or processes: spare every record looking them up (one per request).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _start_request() -> None:
    g.started = time.perf_counter()
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    # A client-sent id is reused only when it is safe to echo and to log.
    g.request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def _finish_request(response: Response) -> Response:
    request_id = g.get("request_id") or uuid.uuid4().hex
    response.headers[REQUEST_ID_HEADER] = request_id
    elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    # The path only: query strings may carry search terms, and bodies are never logged.
    fields = {
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round(elapsed_ms, 1),
    }
    access_log.info("%(method)s %(path)s %(status)d %(duration_ms).1fms", fields, extra=fields)
    return response


def init_app(app: Flask) -> None:
    """Give every request an id, echo it, and log one line per request."""
    app.before_request(_start_request)
    app.after_request(_finish_request)
