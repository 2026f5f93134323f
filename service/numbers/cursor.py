"""Opaque keyset cursors: ``_cursor`` pages cost the same at any depth.

A cursor names a position in one sort order: the sort key of a boundary row and which side of it
the page lies on. It is base64url JSON, validated when read rather than signed: a tampered cursor
can only name another position in the same order, which any client may ask for anyway.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

Position = Literal["after", "before", "last"]
OrderBy = tuple[tuple[str, bool], ...]
_POSITIONS: tuple[Position, ...] = ("after", "before", "last")
_MONEY_ATTRIBUTES = frozenset({"monthly_price", "setup_price"})


class InvalidCursor(ValueError):
    """The text is not a cursor this API issued for this sort order."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in the list: after or before the row with ``keys``, or the last page."""

    position: Position
    keys: tuple[int | str | Decimal, ...] = ()


def _spec(order_by: OrderBy) -> str:
    return ",".join(f"{attribute}:{'desc' if desc else 'asc'}" for attribute, desc in order_by)


def encode(cursor: Cursor, order_by: OrderBy) -> str:
    """The opaque text of ``cursor`` for the sort ``order_by``."""
    keys = [str(key) for key in cursor.keys]
    raw = json.dumps([_spec(order_by), cursor.position, keys], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(text: str, order_by: OrderBy) -> Cursor | None:
    """The cursor in ``text`` (None for an empty one: the first page); raise if it is invalid."""
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        spec, position, keys = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise InvalidCursor("is not a cursor issued by this API; follow the Link header") from None
    if spec != _spec(order_by):
        raise InvalidCursor("belongs to another sort order; send the _sort and _order it came with")
    if position not in _POSITIONS or not isinstance(keys, list):
        raise InvalidCursor("is not a cursor issued by this API; follow the Link header")
    if position == "last":
        return Cursor("last")
    if len(keys) != len(order_by) or not all(isinstance(key, str) for key in keys):
        raise InvalidCursor("is not a cursor issued by this API; follow the Link header")
    try:
        values = tuple(
            _typed(attribute, key) for (attribute, _), key in zip(order_by, keys, strict=True)
        )
    except (ValueError, InvalidOperation):
        raise InvalidCursor("is not a cursor issued by this API; follow the Link header") from None
    return Cursor(position, values)


def _typed(attribute: str, text: str) -> int | str | Decimal:
    if attribute == "id":
        return int(text)
    if attribute in _MONEY_ATTRIBUTES:
        amount = Decimal(text)
        if not amount.is_finite():
            raise ValueError(text)
        return amount
    return text
