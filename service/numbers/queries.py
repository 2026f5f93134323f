"""Database work for numbers. Each function takes the session first and knows nothing of HTTP."""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import MAX_ID, Number, numbers_total
from service.numbers.cursor import OrderBy
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


@dataclass(frozen=True, slots=True)
class Page:
    """One page of numbers and what the client needs to navigate from it."""

    rows: list[Number]
    #: Rows matching the filters; capped at the count limit when ``exact`` is False.
    total: int
    exact: bool
    more_before: bool
    more_after: bool

    def edges(self, order_by: OrderBy) -> tuple[Keys, Keys] | None:
        """The sort keys of the first and last rows (None when the page is empty)."""
        if not self.rows:
            return None
        return _keys(self.rows[0], order_by), _keys(self.rows[-1], order_by)


Keys = tuple[int | str | Decimal, ...]


def _keys(number: Number, order_by: OrderBy) -> Keys:
    return tuple(getattr(number, attribute) for attribute, _ in order_by)


def _ordering(order_by: OrderBy, reverse: bool, source: Any = Number) -> list[Any]:
    return [
        _column(source, attribute).desc() if desc != reverse else _column(source, attribute).asc()
        for attribute, desc in order_by
    ]


def _column(source: Any, attribute: str) -> Any:
    return getattr(source, attribute) if source is Number else source.c[attribute]


def _beyond(order_by: OrderBy, keys: Keys, reverse: bool) -> ColumnElement[bool]:
    """Rows strictly after ``keys`` in the order (before it when ``reverse``)."""
    alternatives = []
    for i, (attribute, desc) in enumerate(order_by):
        column = getattr(Number, attribute)
        ties = [getattr(Number, a) == k for (a, _), k in zip(order_by[:i], keys[:i], strict=True)]
        step = column < keys[i] if desc != reverse else column > keys[i]
        alternatives.append(and_(*ties, step))
    first_attribute, first_desc = order_by[0]
    first = getattr(Number, first_attribute)
    # Redundant with the alternatives, but it lets the database seek the sort index directly.
    seek = first <= keys[0] if first_desc != reverse else first >= keys[0]
    return and_(seek, or_(*alternatives))


class _CappedCounts:
    """Recently seen filters that match more rows than the count limit, per worker process.

    Only "more than the limit" is remembered, never an exact figure: a filter that matched
    thousands of rows a few seconds ago still does, so the answer stays true while the
    expensive count is skipped. Exact totals are always counted afresh.
    """

    def __init__(self, ttl_seconds: float, max_entries: int = 1024) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._expiry: dict[tuple[Any, ...], float] = {}

    def __contains__(self, key: tuple[Any, ...]) -> bool:
        expires = self._expiry.get(key)
        if expires is None:
            return False
        if expires < time.monotonic():
            del self._expiry[key]
            return False
        return True

    def add(self, key: tuple[Any, ...]) -> None:
        if len(self._expiry) >= self.max_entries:
            self._expiry.pop(next(iter(self._expiry)))
        self._expiry[key] = time.monotonic() + self.ttl


_capped = _CappedCounts(ttl_seconds=10)


async def count_matching(
    session: AsyncSession, query: ListQuery, conditions: list[ColumnElement[bool]], limit: int
) -> tuple[int, bool]:
    """(how many rows match ``conditions``, whether exact): at most ``limit`` are counted."""
    if not conditions:  # kept exact and cheap by triggers, whatever the table's size
        total = await session.scalar(select(numbers_total.c.total))
        return int(total or 0), True
    key = (query.digits, query.currencies, query.price_bounds, limit)
    if key in _capped:
        return limit, False
    matching = select(Number.id).where(*conditions).limit(limit + 1).subquery()
    counted = await session.scalar(select(func.count()).select_from(matching)) or 0
    if counted > limit:
        _capped.add(key)
        return limit, False
    return counted, True


async def list_numbers(session: AsyncSession, query: ListQuery, count_limit: int) -> Page:
    """One page of the numbers matching the query, in a total order, and how many match."""
    conditions = _filters(query)
    total, exact = await count_matching(session, query, conditions, count_limit)
    cursor = query.cursor
    reverse = cursor is not None and cursor.position in ("before", "last")
    # Find the page's ids first (an index-only scan on PostgreSQL's covering sort indexes),
    # then read just those rows: a "deferred join".
    sort_columns = {attribute for attribute, _ in query.order_by} | {"id"}
    keys = select(*(getattr(Number, attribute) for attribute in sorted(sort_columns))).where(
        *conditions
    )
    if cursor is not None and cursor.position != "last":
        keys = keys.where(_beyond(query.order_by, cursor.keys, reverse))
    keys = keys.order_by(*_ordering(query.order_by, reverse)).limit(query.limit + 1)
    if not query.keyset:
        keys = keys.offset(query.offset)
    page_keys = keys.subquery("page_keys")
    statement = (
        select(Number)
        .join(page_keys, Number.id == page_keys.c.id)
        .order_by(*_ordering(query.order_by, reverse, page_keys))
    )
    rows = list((await session.scalars(statement)).all())
    more = len(rows) > query.limit
    del rows[query.limit :]
    if reverse:
        rows.reverse()
        # Walking backwards: "more" is what lies before; the cursor row itself lies after.
        return Page(rows, total, exact, more, cursor is not None and cursor.position == "before")
    started_later = query.page > 1 if not query.keyset else cursor is not None
    return Page(rows, total, exact, started_later, more)


async def get_number(session: AsyncSession, number_id: int) -> Number | None:
    """The number with this id, or None."""
    if not 1 <= number_id <= MAX_ID:
        return None  # no row can have it; the driver would overflow on it
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
