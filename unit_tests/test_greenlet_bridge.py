"""The greenlet bridge: Flask's request handling awaiting on the ASGI server's own event loop."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from flask import Flask, current_app, g, request

from service.asgi_adapter import AsgiAdapter
from service.greenlet_bridge import await_, run_in_greenlet
from service.logs import RequestContextFilter
from unit_tests.asgi_client import call

Run = Callable[[Coroutine[Any, Any, Any]], Any]


async def _double(value: int) -> int:
    await asyncio.sleep(0)
    return value * 2


async def _nested(value: int) -> int:
    return await _double(await _double(value))


def test_async_view_sees_the_flask_request_and_app_context(
    app: Flask, asgi: AsgiAdapter, run: Run
) -> None:
    @app.get("/t/context")
    async def context_view() -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"q": request.args["q"], "app": current_app.name, "id": g.request_id}

    reply, _ = run(call(asgi, path="/t/context", query=b"q=42", headers=[("X-Request-ID", "abc")]))
    assert reply.status == 200
    assert reply.json() == {"q": "42", "app": app.name, "id": "abc"}


def test_nested_awaits_resolve_in_order(app: Flask, asgi: AsgiAdapter, run: Run) -> None:
    @app.get("/t/nested")
    async def nested_view() -> dict[str, int]:
        return {"result": await _nested(3)}

    reply, _ = run(call(asgi, path="/t/nested"))
    assert reply.json() == {"result": 12}


def test_sync_hook_can_await_through_the_bridge(app: Flask, asgi: AsgiAdapter, run: Run) -> None:
    @app.before_request
    def hook() -> None:
        g.doubled = await_(_double(21))

    @app.get("/t/hook")
    def hook_view() -> dict[str, int]:
        return {"doubled": g.doubled}

    reply, _ = run(call(asgi, path="/t/hook"))
    assert reply.json() == {"doubled": 42}


def test_exception_raised_in_a_view_is_a_logged_problem_500(
    app: Flask, asgi: AsgiAdapter, run: Run, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/t/boom")
    async def boom_view() -> str:
        raise RuntimeError("secret internal detail")

    caplog.handler.addFilter(RequestContextFilter())  # as configure_logging() installs it
    with caplog.at_level(logging.ERROR):
        reply, _ = run(call(asgi, path="/t/boom", headers=[("X-Request-ID", "req-1")]))
    assert reply.status == 500
    assert reply.headers["content-type"] == "application/problem+json"
    assert "secret internal detail" not in reply.body.decode()
    assert reply.headers["x-request-id"] == "req-1"
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and logged[0].exc_info is not None
    assert "secret internal detail" in str(logged[0].exc_info[1])
    assert getattr(logged[0], "request_id", None) == "req-1"


def test_exception_raised_inside_an_awaited_coroutine_reaches_flask(
    app: Flask, asgi: AsgiAdapter, run: Run
) -> None:
    async def failing() -> None:
        await asyncio.sleep(0)
        raise LookupError("deep")

    @app.get("/t/deep")
    async def deep_view() -> str:
        await failing()
        return "not reached"

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


def test_cancelled_request_unwinds_flask_and_the_view(
    app: Flask, asgi: AsgiAdapter, run: Run
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


def test_async_hook_is_awaited_through_the_bridge(app: Flask, asgi: AsgiAdapter, run: Run) -> None:
    @app.before_request
    async def hook() -> None:
        g.doubled = await _double(21)

    @app.get("/t/async-hook")
    async def async_hook_view() -> dict[str, int]:
        return {"doubled": g.doubled, "again": await _double(g.doubled)}

    reply, _ = run(call(asgi, path="/t/async-hook"))
    assert reply.json() == {"doubled": 42, "again": 84}


def test_async_hook_can_refuse_the_request(app: Flask, asgi: AsgiAdapter, run: Run) -> None:
    @app.before_request
    async def hook() -> tuple[dict[str, str], int] | None:
        await asyncio.sleep(0)
        return ({"refused": request.path}, 403) if request.path == "/t/refused" else None

    @app.get("/t/refused")
    async def refused_view() -> str:
        return "never"

    reply, _ = run(call(asgi, path="/t/refused"))
    assert (reply.status, reply.json()) == (403, {"refused": "/t/refused"})


def test_await_outside_a_request_greenlet_closes_the_coroutine() -> None:
    coroutine = _double(1)
    with pytest.raises(RuntimeError, match="request greenlet"):
        await_(coroutine)
    assert inspect.getcoroutinestate(coroutine) == inspect.CORO_CLOSED  # no warning later


def test_flasks_test_client_fails_at_once_naming_the_in_process_client(app: Flask) -> None:
    with pytest.raises(RuntimeError, match="InProcessApp"):
        app.test_client()
