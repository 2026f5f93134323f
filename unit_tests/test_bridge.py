"""The greenlet bridge: Flask's request handling on the ASGI server's own event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from flask import Flask, current_app, g, request

from service.bridge import (
    MAX_DRAIN_BYTES,
    AsgiBridge,
    Message,
    await_,
    build_environ,
    run_in_greenlet,
)
from service.logs import RequestContextFilter
from service.settings import MAX_BODY_BYTES
from unit_tests.asgi_client import call, scope
from unit_tests.auth_fixtures import SignedInBridge, sign_in

Run = Callable[[Coroutine[Any, Any, Any]], Any]


async def _double(value: int) -> int:
    await asyncio.sleep(0)
    return value * 2


async def _nested(value: int) -> int:
    return await _double(await _double(value))


def test_async_view_sees_the_flask_request_and_app_context(
    app: Flask, asgi: AsgiBridge, run: Run
) -> None:
    @app.get("/t/context")
    async def context_view() -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"q": request.args["q"], "app": current_app.name, "id": g.request_id}

    reply, _ = run(call(asgi, path="/t/context", query=b"q=42", headers=[("X-Request-ID", "abc")]))
    assert reply.status == 200
    assert reply.json() == {"q": "42", "app": app.name, "id": "abc"}


def test_nested_awaits_resolve_in_order(app: Flask, asgi: AsgiBridge, run: Run) -> None:
    @app.get("/t/nested")
    async def nested_view() -> dict[str, int]:
        return {"result": await _nested(3)}

    reply, _ = run(call(asgi, path="/t/nested"))
    assert reply.json() == {"result": 12}


def test_sync_hook_can_await_through_the_bridge(app: Flask, asgi: AsgiBridge, run: Run) -> None:
    @app.before_request
    def hook() -> None:
        g.doubled = await_(_double(21))

    @app.get("/t/hook")
    def hook_view() -> dict[str, int]:
        return {"doubled": g.doubled}

    reply, _ = run(call(asgi, path="/t/hook"))
    assert reply.json() == {"doubled": 42}


def test_exception_raised_in_a_view_is_a_logged_problem_500(
    app: Flask, asgi: AsgiBridge, run: Run, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/t/boom")
    async def boom_view() -> None:
        raise RuntimeError("secret internal detail")

    caplog.handler.addFilter(RequestContextFilter())  # as configure_logging() installs it
    with caplog.at_level(logging.ERROR):
        reply, _ = run(call(asgi, path="/t/boom", headers=[("X-Request-ID", "req-1")]))
    assert reply.status == 500
    assert reply.headers["content-type"] == "application/problem+json"
    assert "secret internal detail" not in reply.body.decode()
    assert reply.headers["x-request-id"] == "req-1"
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and "secret internal detail" in str(logged[0].exc_info[1])
    assert getattr(logged[0], "request_id", None) == "req-1"


def test_exception_raised_inside_an_awaited_coroutine_reaches_flask(
    app: Flask, asgi: AsgiBridge, run: Run
) -> None:
    async def failing() -> None:
        await asyncio.sleep(0)
        raise LookupError("deep")

    @app.get("/t/deep")
    async def deep_view() -> None:
        await failing()

    @app.errorhandler(LookupError)
    def lookup_handler(error: LookupError) -> tuple[dict[str, str], int]:
        return {"caught": str(error)}, 418

    reply, _ = run(call(asgi, path="/t/deep"))
    assert (reply.status, reply.json()) == (418, {"caught": "deep"})


def test_exception_from_await_in_sync_code_is_raised_at_the_await(run: Run) -> None:
    async def failing() -> None:
        raise KeyError("x")

    def sync_code() -> str:
        try:
            await_(failing())
        except KeyError:
            return "caught where awaited"
        return "not raised"

    assert run(run_in_greenlet(sync_code)) == "caught where awaited"


def test_head_has_the_headers_of_get_and_no_body(app: Flask, asgi: AsgiBridge, run: Run) -> None:
    @app.get("/t/head")
    async def head_view() -> dict[str, str]:
        return {"hello": "world"}

    get_reply, _ = run(call(asgi, "GET", "/t/head"))
    head_reply, _ = run(call(asgi, "HEAD", "/t/head"))
    assert head_reply.status == 200
    assert head_reply.body == b""
    assert head_reply.headers["content-length"] == get_reply.headers["content-length"]
    assert head_reply.headers["content-type"] == get_reply.headers["content-type"]


def test_body_is_passed_to_flask_whole(app: Flask, asgi: AsgiBridge, run: Run) -> None:
    @app.post("/t/echo")
    async def echo_view() -> dict[str, int]:
        return {"length": len(request.get_data())}

    reply, _ = run(call(asgi, "POST", "/t/echo", chunks=[b"a" * 1000, b"b" * 1000]))
    assert reply.json() == {"length": 2000}


def test_declared_oversized_body_is_413_and_never_reaches_the_app(
    app: Flask, asgi: AsgiBridge, run: Run
) -> None:
    calls: list[str] = []

    @app.post("/t/big")
    async def big_view() -> str:
        calls.append("ran")
        return "read"

    size = str(MAX_BODY_BYTES + 70 * 1024)
    chunks = [b"x" * 1024] * (MAX_BODY_BYTES // 1024 + 70)
    reply, received = run(
        call(asgi, "POST", "/t/big", headers=[("Content-Length", size)], chunks=chunks)
    )
    assert reply.status == 413
    assert reply.headers["content-type"] == "application/problem+json"
    assert calls == []
    assert received == len(chunks) + 1  # drained, so the client reads the answer


def test_huge_declared_body_is_answered_without_reading_any_of_it(
    app: Flask, asgi: AsgiBridge, run: Run
) -> None:
    size = str(MAX_BODY_BYTES + MAX_DRAIN_BYTES + 1)
    reply, received = run(
        call(asgi, "POST", "/numbers", headers=[("Content-Length", size)], chunks=[b"x"] * 3)
    )
    assert reply.status == 413
    assert received == 0


def test_streamed_oversized_body_is_drained_up_to_a_bound_never_buffered(
    app: Flask, asgi: AsgiBridge, run: Run
) -> None:
    chunk = b"x" * 64 * 1024
    reply, received = run(call(asgi, "POST", "/numbers", chunks=[chunk] * 40))
    assert reply.status == 413
    # Two chunks pass the limit; then at most MAX_DRAIN_BYTES more are read and dropped.
    assert received == 2 + MAX_DRAIN_BYTES // len(chunk) + 1


def test_requests_interleave_on_one_loop(app: Flask, asgi: AsgiBridge, run: Run) -> None:
    event = asyncio.Event()

    @app.get("/t/wait")
    async def wait_view() -> str:
        await asyncio.wait_for(event.wait(), timeout=2)
        return "released"

    @app.get("/t/release")
    async def release_view() -> str:
        event.set()
        return "released the other"

    async def both() -> list[Any]:
        # The first request is suspended until the second runs: impossible if serialized.
        return await asyncio.gather(call(asgi, path="/t/wait"), call(asgi, path="/t/release"))

    (first, _), (second, _) = run(both())
    assert (first.status, first.body) == (200, b"released")
    assert (second.status, second.body) == (200, b"released the other")


def test_max_concurrent_bounds_the_requests_inside_the_app(app: Flask, run: Run) -> None:
    inside = 0
    peak = 0

    @app.get("/t/busy")
    async def busy_view() -> str:
        nonlocal inside, peak
        inside += 1
        peak = max(peak, inside)
        await asyncio.sleep(0.01)
        inside -= 1
        return "done"

    bridge = SignedInBridge(app, sign_in(app), max_body_bytes=MAX_BODY_BYTES, max_concurrent=2)

    async def many() -> list[Any]:
        return await asyncio.gather(*(call(bridge, path="/t/busy") for _ in range(6)))

    replies = run(many())
    assert [reply.status for reply, _ in replies] == [200] * 6
    assert peak == 2


def test_client_disconnect_before_the_body_ends_runs_nothing(
    app: Flask, asgi: AsgiBridge, run: Run
) -> None:
    calls: list[str] = []

    @app.post("/t/gone")
    async def gone_view() -> str:
        calls.append("ran")
        return "ok"

    reply, _ = run(call(asgi, "POST", "/t/gone", chunks=[b"{"], disconnect=True))
    assert calls == []
    assert reply.messages == []


def test_cancelled_request_unwinds_flask_and_the_view(
    app: Flask, asgi: AsgiBridge, run: Run
) -> None:
    events: list[str] = []

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

    async def cancel_it() -> None:
        task = asyncio.ensure_future(call(asgi, path="/t/slow"))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(cancel_it())
    assert events == ["view unwound", "teardown"]


def test_await_outside_a_request_greenlet_is_an_error() -> None:
    coroutine = _double(1)
    with pytest.raises(RuntimeError, match="request greenlet"):
        await_(coroutine)
    coroutine.close()


def test_lifespan_runs_startup_and_shutdown(app: Flask, run: Run) -> None:
    calls: list[str] = []

    async def startup() -> None:
        calls.append("startup")

    async def shutdown() -> None:
        calls.append("shutdown")

    bridge = AsgiBridge(app, max_body_bytes=10, startup=startup, shutdown=shutdown)
    sent = run(_lifespan(bridge))
    assert calls == ["startup", "shutdown"]
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_failed_startup_is_reported_to_the_server(app: Flask, run: Run) -> None:
    async def startup() -> None:
        raise ConnectionRefusedError("no database")

    bridge = AsgiBridge(app, max_body_bytes=10, startup=startup)
    sent = run(_lifespan(bridge))
    assert sent == [{"type": "lifespan.startup.failed", "message": "no database"}]


async def _lifespan(bridge: AsgiBridge) -> list[Message]:
    incoming: list[Message] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await bridge({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    return sent


def test_environ_follows_pep_3333() -> None:
    request_scope = scope(
        "POST",
        "/números/1",
        b"a=1&b=%C3%A9",
        [
            ("Content-Type", "application/json"),
            ("Accept", "a"),
            ("Accept", "b"),
            ("Content-Length", "999"),
        ],
    )
    environ = build_environ(request_scope, b"{}")
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["PATH_INFO"] == "/números/1".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "a=1&b=%C3%A9"
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["CONTENT_LENGTH"] == "2"  # the body actually passed, not the header's claim
    assert environ["HTTP_ACCEPT"] == "a, b"
    assert environ["wsgi.input"].read() == b"{}"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("testserver", "80")
