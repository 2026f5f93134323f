"""Users in the database: the queries the login, the protection and the CLI need.

Query functions take the session as their first argument and know nothing about HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from service.models import MAX_USERNAME_LENGTH, Role, User

#: Lower-case letters, digits and ``. _ - @``; what people use as login names, nothing to escape.
_USERNAME = re.compile(rf"^[a-z0-9][a-z0-9._@-]{{0,{MAX_USERNAME_LENGTH - 1}}}$")


class InvalidUsername(ValueError):
    """A username that breaks the naming rule; the message states the rule."""


class UnknownUser(LookupError):
    """No user has this username."""


def normalize_username(name: str) -> str:
    """The stored form of a username: trimmed and lower-cased, so ``Ana`` and ``ana`` are one."""
    return name.strip().lower()


def check_username(name: str) -> str:
    """The normalized ``name``; raise :class:`InvalidUsername` when it breaks the rule."""
    username = normalize_username(name)
    if not _USERNAME.fullmatch(username):
        raise InvalidUsername(
            f"{name!r} is not a valid username: use 1 to {MAX_USERNAME_LENGTH} letters, digits "
            "or . _ @ -, starting with a letter or digit"
        )
    return username


@dataclass(frozen=True, slots=True)
class Principal:
    """The part of a user row that authorization needs (what the per-worker cache keeps)."""

    id: int
    username: str
    role: Role
    active: bool
    token_version: int = 0


async def find_user(session: AsyncSession, username: str) -> User | None:
    """The user called ``username`` (normalized), or None."""
    result: User | None = await session.scalar(
        select(User).where(User.username == normalize_username(username))
    )
    return result


async def load_principal(connection: AsyncConnection, user_id: int) -> Principal | None:
    """The principal of user ``user_id``, or None when there is no such user (a read)."""
    found = await connection.execute(
        select(User.id, User.username, User.role, User.active, User.token_version).where(
            User.id == user_id
        )
    )
    row = found.first()
    return (
        None
        if row is None
        else Principal(row.id, row.username, Role(row.role), row.active, row.token_version)
    )


async def add_user(session: AsyncSession, username: str, password_hash: str, role: Role) -> User:
    """Create an active user; the caller has checked the username and hashed the password."""
    user = User(username=username, password_hash=password_hash, role=role.value, active=True)
    session.add(user)
    await session.flush()
    return user


async def count_users(session: AsyncSession) -> int:
    """How many users there are (active or not)."""
    return await session.scalar(select(func.count()).select_from(User)) or 0


async def list_users(session: AsyncSession) -> Sequence[User]:
    """Every user, by username."""
    return (await session.scalars(select(User).order_by(User.username))).all()


async def change_user(
    session: AsyncSession,
    username: str,
    *,
    password_hash: str | None = None,
    role: Role | None = None,
    active: bool | None = None,
) -> None:
    """Set the given attributes of ``username``; raise :class:`UnknownUser` when absent.

    A new password or a deactivation voids every token issued before it.
    """
    values: dict[str, object] = {"updated_at": func.now()}
    if password_hash is not None or active is False:
        values["token_version"] = User.token_version + 1
    if password_hash is not None:
        values["password_hash"] = password_hash
    if role is not None:
        values["role"] = role.value
    if active is not None:
        values["active"] = active
    result = await session.execute(
        update(User).where(User.username == normalize_username(username)).values(values)
    )
    if getattr(result, "rowcount", 0) == 0:
        raise UnknownUser(f"there is no user {normalize_username(username)!r}")


async def ensure_first_supervisor(session: AsyncSession, username: str, password_hash: str) -> bool:
    """Create the supervisor ``username`` if there are no users at all; True when created."""
    if await count_users(session):
        return False
    await add_user(session, check_username(username), password_hash, Role.SUPERVISOR)
    return True
