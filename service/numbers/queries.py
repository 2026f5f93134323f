"""Database work for numbers. Each function takes the session first and knows nothing of HTTP."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Number
from service.numbers.listing import ListQuery
from service.numbers.validation import NumberFields


def _filters(query: ListQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.digits:
        conditions.append(Number.digits.contains(query.digits, autoescape=True))
    if query.currencies is not None:
        conditions.append(Number.currency.in_(query.currencies))
    for attribute, op, amount in query.price_bounds:
        column = getattr(Number, attribute)
        conditions.append(column >= amount if op == "gte" else column <= amount)
    return conditions


async def list_numbers(session: AsyncSession, query: ListQuery) -> tuple[list[Number], int]:
    """One page of the numbers matching the query, in a total order, and how many match."""
    conditions = _filters(query)
    ordering = [
        getattr(Number, attribute).desc() if descending else getattr(Number, attribute).asc()
        for attribute, descending in query.order_by
    ]
    page: Select[Number] = (
        select(Number)
        .where(*conditions)
        .order_by(*ordering)
        .limit(query.limit)
        .offset(query.offset)
    )
    total = await session.scalar(select(func.count()).select_from(Number).where(*conditions))
    rows = (await session.scalars(page)).all()
    return list(rows), total or 0


async def get_number(session: AsyncSession, number_id: int) -> Number | None:
    """The number with this id, or None."""
    return await session.get(Number, number_id)


async def find_id_by_digits(session: AsyncSession, digits: str) -> int | None:
    """The id of the number with these digits, or None."""
    return await session.scalar(select(Number.id).where(Number.digits == digits))


async def add_number(session: AsyncSession, fields: NumberFields) -> Number:
    """Insert a new number; the unique constraint on its digits raises IntegrityError."""
    number = Number(**fields.changes())
    session.add(number)
    await session.flush()
    return number


async def update_number(session: AsyncSession, number: Number, fields: NumberFields) -> Number:
    """Apply the sent fields to ``number``; the version check makes a lost update impossible."""
    for attribute, value in fields.changes().items():
        setattr(number, attribute, value)
    await session.flush()
    return number


async def delete_number(session: AsyncSession, number_id: int, version: int | None) -> bool:
    """Delete the number (only at ``version`` when given); True if a row was deleted."""
    statement = delete(Number).where(Number.id == number_id)
    if version is not None:
        statement = statement.where(Number.version == version)
    result: Any = await session.execute(statement)
    return bool(result.rowcount)
