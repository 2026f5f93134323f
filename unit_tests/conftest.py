"""Fixtures for unit tests: no server, no database server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
from flask import Flask

from service import create_app
from service.asgi_adapter import AsgiAdapter
from service.settings import MAX_BODY_BYTES, Settings
from unit_tests.auth_fixtures import SignedInAdapter, sign_in

T = TypeVar("T")


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite+aiosqlite:///:memory:", app_env="test")


@pytest.fixture
def app(settings: Settings) -> Flask:
    """The real application (error handlers, hooks), for routes that need no database."""
    return create_app(settings)


@pytest.fixture
def asgi(app: Flask) -> AsgiAdapter:
    """The app behind the ASGI adapter, its requests signed in as a supervisor."""
    return SignedInAdapter(app, sign_in(app), max_body_bytes=MAX_BODY_BYTES)


@pytest.fixture
def run() -> Callable[[Coroutine[Any, Any, T]], T]:
    """Run a coroutine to completion on a fresh event loop."""
    return asyncio.run
