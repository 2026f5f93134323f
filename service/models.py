"""The database schema as typed SQLAlchemy models (changed only through Alembic migrations)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    func,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from service.money import CENT
from service.phone import MAX_DIGITS, MAX_LENGTH, MIN_DIGITS, digits_of

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: The largest id the ``INTEGER`` primary key can hold (32 bits on PostgreSQL).
MAX_ID = 2**31 - 1
#: The longest username (``service.auth.users`` states the rule).
MAX_USERNAME_LENGTH = 64


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints predictably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Money(TypeDecorator[Decimal]):
    """An exact amount with two decimals.

    ``NUMERIC(10, 2)`` on PostgreSQL. SQLite has no exact decimal type (its NUMERIC affinity
    stores REAL, a float), so there the amount is stored as a whole number of cents.
    """

    impl = Numeric(10, 2, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(10, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        cents = value * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"{value} has more than two decimal places")
        return int(cents)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-2)  # whole cents: exactly two places
        # NUMERIC(10, 2) comes back from asyncpg as a Decimal with two places already.
        return value if isinstance(value, Decimal) else Decimal(value).quantize(CENT)


class amount_text(FunctionElement[str]):  # noqa: N801 - named like the SQL functions it stands for
    """An amount column as the API writes it (``"3.40"``), computed by the database.

    ``NUMERIC(10, 2)`` cast to text on PostgreSQL; whole cents formatted on SQLite.
    """

    type = String()
    inherit_cache = True


@compiles(amount_text, "postgresql")
def _amount_text_postgresql(element: amount_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS TEXT)"


@compiles(amount_text, "sqlite")
def _amount_text_sqlite(element: amount_text, compiler: SQLCompiler, **kw: Any) -> str:
    cents = compiler.process(element.clauses, **kw)
    return f"printf('%d.%02d', ({cents}) / 100, ({cents}) % 100)"


class Number(Base):
    """A DID phone number for sale."""

    __tablename__ = "numbers"
    __table_args__ = (
        CheckConstraint("monthly_price >= 0", name="monthly_price_not_negative"),
        CheckConstraint("setup_price >= 0", name="setup_price_not_negative"),
        CheckConstraint(
            f"length(digits) BETWEEN {MIN_DIGITS} AND {MAX_DIGITS}", name="digits_length"
        ),
        {"sqlite_autoincrement": True},  # never hand a deleted id to a new number
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[str] = mapped_column(String(MAX_LENGTH))
    #: The digits of ``value``: what makes a number unique, whatever its formatting.
    digits: Mapped[str] = mapped_column(String(MAX_DIGITS), unique=True)
    monthly_price: Mapped[Decimal] = mapped_column(Money())
    setup_price: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(8))
    #: Bumped by SQLAlchemy on every UPDATE; it is the ETag and guards against lost updates.
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    # eager_defaults: the database-made created_at/updated_at come back with the INSERT or UPDATE
    # (RETURNING), so reading them later never needs a lazy load, which asyncio cannot do.
    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}

    @validates("value")
    def _keep_digits_in_step(self, _key: str, value: str) -> str:
        self.digits = digits_of(value)
        return value


class Role(StrEnum):
    """What a user may do: supervisors manage the numbers, viewers (salespeople) read them."""

    SUPERVISOR = "supervisor"
    VIEWER = "viewer"


class User(Base):
    """Someone who may sign in; there is no self-signup, operators add users with the CLI."""

    __tablename__ = "users"
    __mapper_args__ = {"eager_defaults": True}
    __table_args__ = (CheckConstraint("role IN ('supervisor', 'viewer')", name="role_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Stored lower-cased (see ``service.auth.users.normalize_username``).
    username: Mapped[str] = mapped_column(String(MAX_USERNAME_LENGTH), unique=True)
    #: werkzeug.security's ``method$salt$hash`` string; never the password.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    #: Bumped by a password change or a deactivation: tokens issued at an older one are void.
    token_version: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class LoginFailure(Base):
    """One failed (or in-flight) login for a username; the brute-force throttle counts these.

    Kept in the database, not in a worker's memory, so that every worker sees every failure.
    """

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_failed_at", "username", "failed_at"),
        Index("ix_login_failures_username_client_failed_at", "username", "client", "failed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The name as typed (normalized), whether or not such a user exists.
    username: Mapped[str] = mapped_column(String(MAX_USERNAME_LENGTH))
    #: The client's address (the trusted proxies' X-Forwarded-For, else the peer's).
    client: Mapped[str] = mapped_column(String(64), server_default="")
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


#: The exact number of rows in ``numbers``, kept by database triggers in the same transaction
#: as every insert and delete, so the unfiltered total never needs ``count(*)``.
numbers_total = Table(
    "numbers_total",
    Base.metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("total", BigInteger, nullable=False),
)
