"""The product's two tables as the peers map them, and the per-request cost of a bearer token.

Both peers read the tables that the product's migrations create and the benchmark seeds; these
declarations map the columns as they are (no migrations here).

Authentication costs what it costs the product, and is described here once: every request
verifies the token's HMAC signature and expiry (the product's own ``read_token``: its tokens are
itsdangerous ``URLSafeSerializer`` tokens, so the benchmark's token is valid on every server), and
looks the user up in a per-worker cache that the product's ``USER_CACHE_SECONDS`` bounds (the
product's own ``UserCache``); only a miss reads the user row, once a minute per user and worker,
exactly as the product does. A cache is what a careful engineer adds anyway: without it every
request pays one more database round trip.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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


def principal_of(user: User | None) -> Principal | None:
    """What the user cache keeps of a user row (None: no such user)."""
    if user is None:
        return None
    return Principal(id=user.id, username=user.username, role=Role(user.role), active=user.active)


def money(amount: Decimal) -> str:
    """An amount as the product writes it: a string with exactly two decimals (``"3.40"``)."""
    return f"{amount:.2f}"
