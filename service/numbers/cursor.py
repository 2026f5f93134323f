"""Opaque keyset cursors: ``_cursor`` pages cost the same at any depth.

A cursor names a position in one sort order: the sort key of a boundary row and which side of it
the page lies on. It is base64url JSON, validated when read rather than signed: a tampered cursor
can only name another position in the same order, which any client may ask for anyway. A text is
accepted only if it is exactly what :func:`encode` would write for the position it decodes to.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Literal

from service.numbers.fields import FIELDS

Position = Literal["after", "before", "last"]
OrderBy = tuple[tuple[str, bool], ...]
_POSITIONS: tuple[Position, ...] = ("after", "before", "last")
#: Longer than any cursor the API writes (five keys of at most a few dozen characters).
_MAX_LENGTH = 1024
_PARSE_KEY = {field.column: field.parse_filter for field in FIELDS}
_NOT_ISSUED = "is not a cursor issued by this API; follow the Link header"


class InvalidCursor(ValueError):
    """The text is not a cursor this API issued for this sort order."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in the list: after or before the row with ``keys``, or the last page."""

    position: Position
    keys: tuple[Any, ...] = ()


def _spec(order_by: OrderBy) -> str:
    return ",".join(f"{column}:{'desc' if desc else 'asc'}" for column, desc in order_by)


def encode(cursor: Cursor, order_by: OrderBy) -> str:
    """The opaque text of ``cursor`` for the sort ``order_by``."""
    keys = [str(key) for key in cursor.keys]
    raw = json.dumps([_spec(order_by), cursor.position, keys], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(text: str, order_by: OrderBy) -> Cursor | None:
    """The cursor in ``text`` (None for an empty one: the first page); raise if it is invalid."""
    if not text:
        return None
    if len(text) > _MAX_LENGTH:
        raise InvalidCursor(_NOT_ISSUED)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        spec, position, keys = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, RecursionError):
        raise InvalidCursor(_NOT_ISSUED) from None
    if spec != _spec(order_by):
        raise InvalidCursor("belongs to another sort order; send the _sort and _order it came with")
    if position not in _POSITIONS or not isinstance(keys, list):
        raise InvalidCursor(_NOT_ISSUED)
    if position == "last":
        cursor = Cursor("last")
    elif len(keys) != len(order_by) or not all(isinstance(key, str) for key in keys):
        raise InvalidCursor(_NOT_ISSUED)
    else:
        try:
            values = tuple(
                _PARSE_KEY[column](key) for (column, _), key in zip(order_by, keys, strict=True)
            )
        except ValueError:
            raise InvalidCursor(_NOT_ISSUED) from None
        cursor = Cursor(position, values)
    if encode(cursor, order_by) != text.rstrip("="):
        raise InvalidCursor(_NOT_ISSUED)
    return cursor
