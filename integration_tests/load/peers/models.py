"""The product's two tables as the peers map them, and the per-request cost of a bearer token.

Both peers read the tables that the product's migrations create and the benchmark seeds; these
declarations map the columns as they are (no migrations here).

Authentication costs what it costs the product, and is described here once: every request
verifies the token's HMAC signature and expiry (the product's own ``read_token``: its tokens are
itsdangerous ``URLSafeSerializer`` tokens, so the benchmark's token is valid on every server), and
looks the user up in a per-worker cache that the product's ``USER_CACHE_SECONDS`` bounds (the
product's own ``UserCache``); only a miss reads the user row, once a minute per user and worker,
exactly as the product does. The user must exist, be active and still be at the token's
``token_version`` (a password change voids older tokens). A cache is what a careful engineer adds
anyway: without it every request pays one more database round trip.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TypeGuard

from sqlalchemy import Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service.auth.tokens import Claims
from service.auth.users import Principal
from service.models import Role


class Base(DeclarativeBase):
    """The peers' declarative base."""


class Number(Base):
    """A row of ``numbers``, every column (as the product loads it)."""

    __tablename__ = "numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(String(32))
    digits: Mapped[str] = mapped_column(String(15))
    monthly_price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    setup_price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(8))
    version: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class User(Base):
    """A row of ``users``: what authorization needs of it."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool]
    token_version: Mapped[int]


def principal_of(user: User | None) -> Principal | None:
    """What the user cache keeps of a user row (None: no such user)."""
    if user is None:
        return None
    return Principal(user.id, user.username, Role(user.role), user.active, user.token_version)


def accepts(principal: Principal | None, claims: Claims) -> TypeGuard[Principal]:
    """Whether the token's user exists, is active and has not voided the token since."""
    return principal is not None and principal.active and principal.token_version == claims.version


def money(amount: Decimal) -> str:
    """An amount as the product writes it: a string with exactly two decimals (``"3.40"``)."""
    return f"{amount:.2f}"
