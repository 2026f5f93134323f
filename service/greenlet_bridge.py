"""The greenlet bridge: Flask's synchronous request handling awaiting on the server's own loop.

Why: Flask is a WSGI framework; its stock ``async`` support runs each coroutine on a new event
loop in a worker thread, and asyncpg connections, which belong to the loop that opened them,
cannot then be pooled. Here a request's synchronous code runs in a greenlet started from the ASGI
coroutine (:func:`run_in_greenlet`). When Flask meets an ``async def`` view or hook,
:meth:`BridgedFlask.async_to_sync` makes it a task on the running loop and switches back to the
coroutine to await it (:func:`await_`), so one loop serves many requests at once and a pooled
engine is shared safely.

This is the technique of SQLAlchemy's asyncio extension (``greenlet_spawn``/``await_only``), which
keeps those helpers in a private namespace; this one is our own, on the ``greenlet`` package.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from flask import Flask
from greenlet import getcurrent, greenlet

T = TypeVar("T")

_NO_GREENLET = (
    "await_() needs a request greenlet started by run_in_greenlet(), which the ASGI app "
    "(service.create_asgi_app) starts for each request. To drive the app in tests, use the "
    "in-process client, integration_tests.in_process.InProcessApp, not Flask's test_client()."
)


class _RequestGreenlet(greenlet):
    """A greenlet that runs one request's synchronous code; its parent drives the awaits."""


def await_(awaitable: Awaitable[T]) -> T:
    """From synchronous code in a request greenlet, wait for ``awaitable`` on the event loop.

    A coroutine runs as a task in a copy of the greenlet's context, so it sees the Flask
    request and application contexts (``request``, ``g``, ``current_app``).
    """
    current = getcurrent()
    if not isinstance(current, _RequestGreenlet):
        if asyncio.iscoroutine(awaitable):
            awaitable.close()  # never awaited: close it rather than leak a warning
        raise RuntimeError(_NO_GREENLET)
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

    def test_client(self, use_cookies: bool = True, **kwargs: Any) -> Any:
        """Refuse at once: Flask's test client runs views outside the loop this app needs."""
        raise RuntimeError(
            "Flask's test_client() calls the app outside any event loop, where its async views "
            "and pooled database connections cannot run. Drive the ASGI app in process instead: "
            "integration_tests.in_process.InProcessApp(settings).client() (see docs/design.md)."
        )
