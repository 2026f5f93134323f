"""Log records: one printable line each, whatever a client sends; JSON for log shippers."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from service.logs import JsonFormatter, RequestContextFilter, escape_unprintable

TEXT = logging.Formatter("%(levelname)s [%(request_id)s] %(name)s: %(message)s")


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("service.test", logging.INFO, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    assert RequestContextFilter().filter(made)
    return made


@pytest.mark.parametrize(
    ("sent", "logged"),
    [
        (
            "/numbers\n2026-12-01 INFO [x] login succeeded",
            "/numbers\\n2026-12-01 INFO [x] login succeeded",
        ),
        ("/a\r\nb", "/a\\r\\nb"),
        ("/nul\x00", "/nul\\x00"),
        ("/bidi\u202eevil", "/bidi\\u202eevil"),
        ("/line\u2028sep", "/line\\u2028sep"),
        ("/lone\ud800", "/lone\\ud800"),
        ("/plain/é/ünïcode", "/plain/é/ünïcode"),
    ],
)
def test_client_text_is_escaped_onto_one_line(sent: str, logged: str) -> None:
    line = TEXT.format(record("GET %s 404", sent))
    assert line == f"INFO [-] service.test: GET {logged} 404"
    assert "\n" not in line and "\r" not in line


def test_text_in_the_message_itself_is_escaped_too() -> None:
    # Flask logs "Exception on {request.path}" with the path inside the message.
    assert "\n" not in TEXT.format(record("Exception on /x\nFAKE [GET]"))


def test_json_records_are_one_object_a_line_with_the_access_fields() -> None:
    line = JsonFormatter().format(
        record("GET /x\n 200", method="GET", path="/x\n", status=200, duration_ms=1.5)
    )
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "GET /x\\n 200"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/x\n", 200)
    assert entry["request_id"] == "-" and entry["level"] == "INFO"


def test_json_records_carry_the_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failing = record("failed")
        failing.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(failing))
    assert "ValueError: boom" in entry["exception"]


def test_printable_text_is_left_alone() -> None:
    text = "login failed for username 'ana' from 10.0.0.1"
    assert escape_unprintable(text) is text
