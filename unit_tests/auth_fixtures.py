"""Signing unit-test requests in without a database: a token plus a pre-filled user cache.

The protection hook reads the user row through the per-app cache; a fresh entry means no query,
so unit tests that exercise routes behind authentication need no database server.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from service.asgi_adapter import AsgiAdapter, Receive, Scope, Send
from service.auth.cache import UserCache
from service.auth.protection import user_cache
from service.auth.tokens import issue_token
from service.auth.users import Principal
from service.models import Role
from service.settings import Settings


def sign_in(app: Flask, role: Role = Role.SUPERVISOR, user_id: int = 1, active: bool = True) -> str:
    """A valid token for a user the app's cache already knows (no database needed)."""
    settings: Settings = app.config["SETTINGS"]
    cache: UserCache = user_cache(app)
    if cache.ttl <= 0:
        raise ValueError("sign_in needs USER_CACHE_SECONDS > 0")
    cache.put(user_id, Principal(user_id, f"{role.value}-{user_id}", role, active))
    return issue_token(settings.secret_key, user_id, role, settings.token_ttl_seconds)


class SignedInAdapter(AsgiAdapter):
    """An ASGI adapter whose requests carry ``Authorization: Bearer <token>`` unless set."""

    def __init__(self, app: Flask, token: str, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.authorization = f"Bearer {token}".encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope.get("headers", [])
        if scope["type"] == "http" and not any(name == b"authorization" for name, _ in headers):
            scope = {**scope, "headers": [*headers, (b"authorization", self.authorization)]}
        await super().__call__(scope, receive, send)
