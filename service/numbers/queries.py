"""Database work for numbers. Each function takes the session first and knows nothing of HTTP.

Reads take a connection (``service.database.read``: autocommit, Core rows, no ORM identity
map); writes take the session of their transaction.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from service.models import MAX_ID, Number, amount_text, numbers_total
from service.numbers.cursor import OrderBy
from service.numbers.fields import FIELDS, Match
from service.numbers.listing import Filter, ListQuery, Op
from service.numbers.validation import NumberFields
from service.phone import digits_of

#: A number read as a Core row: its columns by attribute name (``row.monthly_price``).
NumberRow = Row[*tuple[Any, ...]]


def _matches(match: Match, column: ColumnElement[Any], text: str) -> ColumnElement[bool] | None:
    """``column`` matches the search ``text`` (None when nothing can match it)."""
    if match is Match.DIGITS:
        digits = digits_of(text)
        return column.contains(digits, autoescape=True) if digits else None
    if "\x00" in text:  # no stored text has one; PostgreSQL cannot even take it as a parameter
        return None
    if match is Match.CASELESS:
        return column.icontains(text, autoescape=True)
    return amount_text(column).contains(text, autoescape=True)


def _condition(filter_: Filter) -> ColumnElement[bool]:
    column: ColumnElement[Any] = _NUMBERS.c[filter_.field.column]
    values = filter_.values
    if filter_.op is Op.EQ:
        return column.in_(values)
    if filter_.op is Op.NE:
        return column.not_in(values)
    if filter_.op in (Op.GTE, Op.LTE):
        bound: ColumnElement[bool] = (
            column >= values[0] if filter_.op is Op.GTE else column <= values[0]
        )
        return bound
    assert filter_.field.like is not None  # noqa: S101 - the parser allows _like only there
    matches = _matches(filter_.field.like, column, values[0])
    return false() if matches is None else matches


def _search(text: str) -> ColumnElement[bool]:
    """json-server's ``q``: any searched field of the row matches the text."""
    alternatives = [
        _matches(field.search, _NUMBERS.c[field.column], text)
        for field in FIELDS
        if field.search is not None
    ]
    return or_(false(), *(a for a in alternatives if a is not None))


def _conditions(query: ListQuery) -> list[ColumnElement[bool]]:
    conditions = [_condition(filter_) for filter_ in query.filters]
    if query.search is not None:
        conditions.append(_search(query.search))
    return conditions


@dataclass(frozen=True, slots=True)
class Page:
    """One page of numbers and what the client needs to navigate from it."""

    rows: list[NumberRow]
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


def _keys(row: NumberRow, order_by: OrderBy) -> Keys:
    return tuple(getattr(row, column) for column, _ in order_by)


def _ordering(order_by: OrderBy, reverse: bool, columns: Any) -> list[Any]:
    return [
        columns[column].desc() if desc != reverse else columns[column].asc()
        for column, desc in order_by
    ]


def _beyond(order_by: OrderBy, keys: Keys, reverse: bool) -> ColumnElement[bool]:
    """Rows strictly after ``keys`` in the order (before it when ``reverse``)."""
    columns = _NUMBERS.c
    alternatives = []
    for i, (column, desc) in enumerate(order_by):
        ties = [columns[c] == k for (c, _), k in zip(order_by[:i], keys[:i], strict=True)]
        step = columns[column] < keys[i] if desc != reverse else columns[column] > keys[i]
        alternatives.append(and_(*ties, step))
    first_column, first_desc = order_by[0]
    first = columns[first_column]
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
_NUMBERS = Number.__table__
#: The columns a list row is rendered from.
_LISTED = [_NUMBERS.c[field.attribute] for field in FIELDS] + [_NUMBERS.c.digits]


def _total(conditions: list[ColumnElement[bool]], limit: int) -> ColumnElement[Any]:
    """How many rows match, as a scalar subquery; more than ``limit`` means "over the limit"."""
    if not conditions:  # kept exact and cheap by triggers, whatever the table's size
        return select(func.coalesce(func.sum(numbers_total.c.total), 0)).scalar_subquery()
    matching = select(_NUMBERS.c.id).where(*conditions).limit(limit + 1).subquery()
    return select(func.count()).select_from(matching).scalar_subquery()


@functools.lru_cache(maxsize=512)
def _list_statement(query: ListQuery, count_limit: int, capped: bool) -> Select[Any]:
    """The one statement of a list request, built once per query shape.

    ``query`` comes with its window zeroed: the page size and the offset are bound parameters
    (``limit``, ``offset``; BIGINT, as an offset may pass 2**31), so paging through one listing
    reuses one statement object, and SQLAlchemy's compiled form of it, instead of building and
    hashing a new one per request.
    """
    conditions = _conditions(query)
    cursor = query.cursor
    reverse = cursor is not None and cursor.position in ("before", "last")
    # Find the page's ids first (an index-only scan on PostgreSQL's covering sort indexes),
    # then read just those rows: a "deferred join".
    sort_columns = sorted({column for column, _ in query.order_by} | {"id"})
    keys = select(*(_NUMBERS.c[column] for column in sort_columns)).where(*conditions)
    if cursor is not None and cursor.position != "last":
        keys = keys.where(_beyond(query.order_by, cursor.keys, reverse))
    keys = keys.order_by(*_ordering(query.order_by, reverse, _NUMBERS.c))
    keys = keys.limit(bindparam("limit", type_=BigInteger))
    if not query.keyset:
        keys = keys.offset(bindparam("offset", type_=BigInteger))
    page_keys = keys.subquery("page_keys")
    page = select(*_LISTED).join(page_keys, _NUMBERS.c.id == page_keys.c.id).subquery("page")
    total = literal(count_limit + 1) if capped else _total(conditions, count_limit)
    counted = select(total.label("total")).subquery("counted")
    return (
        select(*page.c, counted.c.total)
        .select_from(counted.outerjoin(page, true()))
        .order_by(*_ordering(query.order_by, reverse, page.c))
    )


async def list_numbers(connection: AsyncConnection, query: ListQuery, count_limit: int) -> Page:
    """One page of the numbers matching the query, in a total order, and how many match.

    One statement: the count joined to the page, so an empty page still brings the count. The
    rows' first columns are the fields, in the order of the field table.
    """
    filtered = bool(query.filters) or query.search is not None
    capped = filtered and (query.filters, query.search, count_limit) in _capped
    shape = replace(query, offset=0, limit=0, page=1, slice_by_end=True)
    statement = _list_statement(shape, count_limit, capped)
    window = {"limit": query.limit + 1, "offset": query.offset}
    result = (await connection.execute(statement, window)).all()
    total = int(result[0].total)
    rows = [row for row in result if row.id is not None]
    exact = not filtered or total <= count_limit
    more = len(rows) > query.limit
    del rows[query.limit :]
    if not exact:
        _capped.add((query.filters, query.search, count_limit))
        # "At least": the limit, or the rows up to this page's end and one beyond when there is
        # a next page, so a window past the limit never reports fewer rows than it shows.
        total = max(count_limit, query.offset + len(rows) + more)
    reverse = query.cursor is not None and query.cursor.position in ("before", "last")
    if reverse:
        rows.reverse()
        # Walking backwards: "more" is what lies before; the cursor row itself lies after.
        before = query.cursor is not None and query.cursor.position == "before"
        return Page(rows, total, exact, more, before)
    started_later = query.offset > 0 if not query.keyset else query.cursor is not None
    return Page(rows, total, exact, started_later, more)


_READ_ONE = select(*_LISTED, _NUMBERS.c.version).where(_NUMBERS.c.id == bindparam("number_id"))


async def read_number(connection: AsyncConnection, number_id: int) -> NumberRow | None:
    """The number with this id as a row to render (its version included), or None."""
    if not 1 <= number_id <= MAX_ID:
        return None  # no row can have it; the driver would overflow on it
    found = await connection.execute(_READ_ONE, {"number_id": number_id})
    return found.first()


async def get_number(session: AsyncSession, number_id: int) -> Number | None:
    """The number with this id, to change it in ``session``; or None."""
    if not 1 <= number_id <= MAX_ID:
        return None  # no row can have it; the driver would overflow on it
    return await session.get(Number, number_id)


async def find_id_by_digits(connection: AsyncConnection, digits: str) -> int | None:
    """The id of the number with these digits, or None."""
    found: int | None = await connection.scalar(
        select(_NUMBERS.c.id).where(_NUMBERS.c.digits == digits)
    )
    return found


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
