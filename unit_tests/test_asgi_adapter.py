"""The ASGI adapter: bodies, environ, lifespan, admission lanes and disconnects, on one loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from flask import Flask, request

from service.admission import Lane
from service.asgi_adapter import MAX_DRAIN_BYTES, AsgiAdapter, Message, build_environ
from service.settings import MAX_BODY_BYTES
from unit_tests.asgi_client import call, scope
from unit_tests.auth_fixtures import SignedInAdapter, sign_in

Run = Callable[[Coroutine[Any, Any, Any]], Any]


def test_head_has_the_headers_of_get_and_no_body(app: Flask, asgi: AsgiAdapter, run: Run) -> None:
    @app.get("/t/head")
    async def head_view() -> dict[str, str]:
        return {"hello": "world"}

    get_reply, _ = run(call(asgi, "GET", "/t/head"))
    head_reply, _ = run(call(asgi, "HEAD", "/t/head"))
    assert head_reply.status == 200
    assert head_reply.body == b""
    assert head_reply.headers["content-length"] == get_reply.headers["content-length"]
    assert head_reply.headers["content-type"] == get_reply.headers["content-type"]


def test_body_is_passed_to_flask_whole(app: Flask, asgi: AsgiAdapter, run: Run) -> None:
    @app.post("/t/echo")
    async def echo_view() -> dict[str, int]:
        return {"length": len(request.get_data())}

    reply, _ = run(call(asgi, "POST", "/t/echo", chunks=[b"a" * 1000, b"b" * 1000]))
    assert reply.json() == {"length": 2000}


def test_declared_oversized_body_is_413_and_never_reaches_the_app(
    app: Flask, asgi: AsgiAdapter, run: Run
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
    app: Flask, asgi: AsgiAdapter, run: Run
) -> None:
    size = str(MAX_BODY_BYTES + MAX_DRAIN_BYTES + 1)
    reply, received = run(
        call(asgi, "POST", "/numbers", headers=[("Content-Length", size)], chunks=[b"x"] * 3)
    )
    assert reply.status == 413
    assert received == 0


def test_streamed_oversized_body_is_drained_up_to_a_bound_never_buffered(
    app: Flask, asgi: AsgiAdapter, run: Run
) -> None:
    chunk = b"x" * 64 * 1024
    reply, received = run(call(asgi, "POST", "/numbers", chunks=[chunk] * 40))
    assert reply.status == 413
    # Two chunks pass the limit; then at most MAX_DRAIN_BYTES more are read and dropped.
    assert received == 2 + MAX_DRAIN_BYTES // len(chunk) + 1


def test_requests_interleave_on_one_loop(app: Flask, asgi: AsgiAdapter, run: Run) -> None:
    event = asyncio.Event()

    @app.get("/t/wait")
    async def wait_view() -> str:
        await asyncio.wait_for(event.wait(), timeout=2)
        return "released"

    @app.get("/t/release")
    async def release_view() -> str:
        event.set()
        return "released the other"

    async def both() -> Any:
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

    bridge = SignedInAdapter(
        app, sign_in(app), max_body_bytes=MAX_BODY_BYTES, default_lane=Lane(2, 10, 5)
    )

    async def many() -> list[Any]:
        return await asyncio.gather(*(call(bridge, path="/t/busy") for _ in range(6)))

    replies = run(many())
    assert [reply.status for reply, _ in replies] == [200] * 6
    assert peak == 2


def test_client_disconnect_before_the_body_ends_runs_nothing(
    app: Flask, asgi: AsgiAdapter, run: Run
) -> None:
    calls: list[str] = []

    @app.post("/t/gone")
    async def gone_view() -> str:
        calls.append("ran")
        return "ok"

    reply, _ = run(call(asgi, "POST", "/t/gone", chunks=[b"{"], disconnect=True))
    assert calls == []
    assert reply.messages == []


def test_lifespan_runs_startup_and_shutdown(app: Flask, run: Run) -> None:
    calls: list[str] = []

    async def startup() -> None:
        calls.append("startup")

    async def shutdown() -> None:
        calls.append("shutdown")

    bridge = AsgiAdapter(app, max_body_bytes=10, startup=startup, shutdown=shutdown)
    sent = run(_lifespan(bridge))
    assert calls == ["startup", "shutdown"]
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_failed_startup_is_reported_to_the_server(app: Flask, run: Run) -> None:
    async def startup() -> None:
        raise ConnectionRefusedError("no database")

    bridge = AsgiAdapter(app, max_body_bytes=10, startup=startup)
    sent = run(_lifespan(bridge))
    assert sent == [{"type": "lifespan.startup.failed", "message": "no database"}]


async def _lifespan(bridge: AsgiAdapter) -> list[Message]:
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


def _adapter(app: Flask, **options: Any) -> AsgiAdapter:
    """The app behind an adapter with ``options``, its requests signed in as a supervisor."""
    return SignedInAdapter(app, sign_in(app), max_body_bytes=MAX_BODY_BYTES, **options)


def _gated_view(app: Flask, path: str, methods: tuple[str, ...] = ("GET",)) -> asyncio.Event:
    """A view at ``path`` that stays inside the app until the returned event is set."""
    gate = asyncio.Event()

    async def gated_view() -> str:
        await asyncio.wait_for(gate.wait(), timeout=5)
        return "through"

    app.add_url_rule(path, path, gated_view, methods=list(methods))
    return gate


async def _inside(lane: Lane, count: int = 1) -> None:
    """Wait until ``count`` requests hold a slot of ``lane``."""
    for _ in range(200):
        await asyncio.sleep(0.005)
        if lane.inside == count:
            return
    raise AssertionError("the requests never got inside")


def test_head_of_a_large_response_has_its_length_and_no_body(
    app: Flask, asgi: AsgiAdapter, run: Run
) -> None:
    # Werkzeug drops a HEAD response's body; the adapter sends what the app returns.
    @app.get("/t/large")
    async def large_view() -> str:
        return "x" * (3 * 1024 * 1024)

    get_reply, _ = run(call(asgi, "GET", "/t/large"))
    head_reply, _ = run(call(asgi, "HEAD", "/t/large"))
    assert get_reply.body == b"x" * (3 * 1024 * 1024)
    assert head_reply.headers["content-length"] == str(3 * 1024 * 1024)
    assert head_reply.body == b""


def test_body_exactly_at_the_limit_reaches_the_app(app: Flask, asgi: AsgiAdapter, run: Run) -> None:
    @app.post("/t/exact")
    async def exact_view() -> dict[str, int]:
        return {"length": len(request.get_data())}

    chunks = [b"y" * 1024] * (MAX_BODY_BYTES // 1024)
    reply, _ = run(call(asgi, "POST", "/t/exact", chunks=chunks))
    assert (reply.status, reply.json()) == (200, {"length": MAX_BODY_BYTES})


def test_write_callable_raises_instead_of_dropping_data(run: Run) -> None:
    def legacy_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"would be lost")
        return [b""]

    with pytest.raises(RuntimeError, match="buffered"):
        run(call(AsgiAdapter(legacy_app, max_body_bytes=10)))


def test_a_full_queue_is_503_with_retry_after_at_once(app: Flask, run: Run) -> None:
    gate = _gated_view(app, "/t/gated")
    lane = Lane(concurrency=1, queue_limit=1, wait_seconds=5)
    adapter = _adapter(app, default_lane=lane, retry_after_seconds=3)

    async def scenario() -> tuple[Any, float, list[Any]]:
        first = asyncio.ensure_future(call(adapter, path="/t/gated"))
        await _inside(lane)
        queued = asyncio.ensure_future(call(adapter, path="/t/gated"))
        await asyncio.sleep(0.02)
        started = asyncio.get_running_loop().time()
        turned_away, _ = await call(adapter, path="/t/gated")
        seconds = asyncio.get_running_loop().time() - started
        gate.set()
        return (
            turned_away,
            seconds,
            [reply.status for reply, _ in await asyncio.gather(first, queued)],
        )

    turned_away, seconds, served = run(scenario())
    assert turned_away.status == 503
    assert turned_away.headers["content-type"] == "application/problem+json"
    assert turned_away.headers["retry-after"] == "3"
    assert turned_away.json()["title"] == "Service Unavailable"
    assert turned_away.json()["status"] == 503
    assert seconds < 0.5
    assert served == [200, 200]


def test_a_request_waiting_past_the_limit_is_503(app: Flask, run: Run) -> None:
    gate = _gated_view(app, "/t/gated")
    lane = Lane(concurrency=1, queue_limit=5, wait_seconds=0.1)
    adapter = _adapter(app, default_lane=lane)

    async def scenario() -> tuple[Any, float]:
        first = asyncio.ensure_future(call(adapter, path="/t/gated"))
        await _inside(lane)
        started = asyncio.get_running_loop().time()
        waited, _ = await call(adapter, path="/t/gated")
        seconds = asyncio.get_running_loop().time() - started
        gate.set()
        await first
        return waited, seconds

    waited, seconds = run(scenario())
    assert waited.status == 503
    assert waited.headers["retry-after"] == "1"
    assert 0.1 <= seconds < 1
    assert lane.waiting == 0


def test_a_probe_path_never_waits_for_a_full_lane(app: Flask, run: Run) -> None:
    gate = _gated_view(app, "/t/gated")
    lane = Lane(concurrency=1, queue_limit=0, wait_seconds=5)
    adapter = _adapter(app, default_lane=lane, lanes={"/health/live": None})

    async def scenario() -> tuple[int | None, int | None]:
        first = asyncio.ensure_future(call(adapter, path="/t/gated"))
        await _inside(lane)
        other, _ = await call(adapter, path="/t/gated")
        probe, _ = await call(adapter, path="/health/live")
        gate.set()
        await first
        return other.status, probe.status

    assert run(scenario()) == (503, 200)  # the lane was full, the probe went through


def test_a_full_lane_does_not_hold_up_another_lane(app: Flask, run: Run) -> None:
    gate = _gated_view(app, "/t/login", methods=("POST",))

    @app.get("/t/read")
    async def read_view() -> str:
        return "read"

    logins = Lane(concurrency=1, queue_limit=1, wait_seconds=5)
    adapter = _adapter(app, default_lane=Lane(1, 1, 5), lanes={"/t/login": logins})

    async def scenario() -> tuple[int | None, int]:
        held = [asyncio.ensure_future(call(adapter, "POST", "/t/login")) for _ in range(2)]
        await _inside(logins)
        read, _ = await call(adapter, path="/t/read")
        waiting = logins.waiting
        gate.set()
        await asyncio.gather(*held)
        return read.status, waiting

    assert run(scenario()) == (200, 1)


def test_a_request_whose_client_left_while_queued_is_dropped(app: Flask, run: Run) -> None:
    gate = _gated_view(app, "/t/gated")
    ran: list[str] = []

    @app.post("/t/write")
    async def write_view() -> str:
        ran.append("write")
        return "written"

    lane = Lane(concurrency=1, queue_limit=1, wait_seconds=5)
    adapter = _adapter(app, default_lane=lane)

    async def scenario() -> tuple[Any, int, int | None]:
        first = asyncio.ensure_future(call(adapter, path="/t/gated"))
        await _inside(lane)
        leave = asyncio.Event()
        dropped = asyncio.ensure_future(call(adapter, "POST", "/t/write", leave=leave))
        await asyncio.sleep(0.02)
        leave.set()
        dropped_reply, _ = await dropped
        waiting = lane.waiting
        # Its place in the queue is free again: the next request waits instead of a 503.
        after = asyncio.ensure_future(call(adapter, path="/t/gated"))
        await asyncio.sleep(0.02)
        gate.set()
        await first
        return dropped_reply, waiting, (await after)[0].status

    dropped_reply, waiting, after_status = run(scenario())
    assert dropped_reply.messages == []
    assert ran == []
    assert waiting == 0
    assert after_status == 200


def test_a_read_in_progress_is_cancelled_when_its_client_leaves(app: Flask, run: Run) -> None:
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

    lane = Lane(concurrency=1, queue_limit=1, wait_seconds=5)
    adapter = _adapter(app, default_lane=lane)

    async def scenario() -> tuple[Any, float, int | None]:
        leave = asyncio.Event()
        started = asyncio.get_running_loop().time()
        request = asyncio.ensure_future(call(adapter, path="/t/slow", leave=leave))
        await _inside(lane)
        leave.set()
        reply, _ = await request
        seconds = asyncio.get_running_loop().time() - started
        events.append("answered")
        next_reply, _ = await call(adapter, path="/health/live")  # the slot was given back
        return reply, seconds, next_reply.status

    reply, seconds, next_status = run(scenario())
    assert reply.messages == []
    assert seconds < 1
    assert events == ["view unwound", "teardown", "answered", "teardown"]
    assert next_status == 200


def test_a_write_in_progress_runs_to_its_end_when_its_client_leaves(app: Flask, run: Run) -> None:
    may_finish = asyncio.Event()
    written: list[str] = []

    @app.post("/t/write")
    async def write_view() -> str:
        await asyncio.wait_for(may_finish.wait(), timeout=5)
        written.append("row")
        return "written"

    lane = Lane(concurrency=1, queue_limit=1, wait_seconds=5)
    adapter = _adapter(app, default_lane=lane)

    async def scenario() -> Any:
        leave = asyncio.Event()
        request = asyncio.ensure_future(call(adapter, "POST", "/t/write", leave=leave))
        await _inside(lane)
        leave.set()
        await asyncio.sleep(0.05)
        assert not request.done()  # still writing, though its client has gone
        may_finish.set()
        reply, _ = await request
        return reply

    reply = run(scenario())
    assert written == ["row"]
    assert reply.messages == []  # nobody to answer
    assert lane.waiting == 0


def test_cancelled_while_queued_gives_its_place_back(app: Flask, run: Run) -> None:
    gate = _gated_view(app, "/t/gated")
    lane = Lane(concurrency=1, queue_limit=1, wait_seconds=5)
    adapter = _adapter(app, default_lane=lane)

    async def scenario() -> list[int | None]:
        first = asyncio.ensure_future(call(adapter, path="/t/gated"))
        await _inside(lane)
        queued = asyncio.ensure_future(call(adapter, path="/t/gated"))
        await asyncio.sleep(0.02)
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        gate.set()
        await first
        again = await asyncio.gather(*(call(adapter, path="/t/gated") for _ in range(2)))
        return [reply.status for reply, _ in again]

    assert run(scenario()) == [200, 200]
    assert lane.waiting == 0


def test_a_body_slower_than_its_deadline_is_408(app: Flask, run: Run) -> None:
    ran: list[str] = []

    @app.post("/t/trickle")
    async def trickle_view() -> str:
        ran.append("ran")
        return "read"

    adapter = _adapter(app, body_timeout_seconds=0.2)

    async def scenario() -> tuple[Any, float]:
        started = asyncio.get_running_loop().time()
        reply, _ = await call(adapter, "POST", "/t/trickle", chunks=[b"{"] * 20, pause=0.05)
        return reply, asyncio.get_running_loop().time() - started

    reply, seconds = run(scenario())
    assert reply.status == 408
    assert reply.headers["content-type"] == "application/problem+json"
    assert "0.2 s" in reply.json()["detail"]
    assert ran == []
    assert seconds < 0.5


def test_a_slow_body_within_its_deadline_is_served(app: Flask, run: Run) -> None:
    @app.post("/t/slowly")
    async def slowly_view() -> dict[str, int]:
        return {"length": len(request.get_data())}

    adapter = _adapter(app, body_timeout_seconds=2)
    reply, _ = run(call(adapter, "POST", "/t/slowly", chunks=[b"ab"] * 4, pause=0.02))
    assert (reply.status, reply.json()) == (200, {"length": 8})
