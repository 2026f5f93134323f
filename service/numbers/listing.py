"""The list's query string in json-server 0.17's dialect (the frontend's mock), and its Link header.

The frontend was built against json-server, so the list speaks its dialect wherever a client can
tell: ``_page``/``_limit`` pages (10 rows without ``_limit``), ``_start``/``_end``/``_limit``
slices, every row when nothing pages, ``_sort``/``_order``, ``field``/``_ne``/``_gte``/``_lte``/
``_like`` filters, ``q`` full-text search, and an empty parameter taken as absent. Where json-server
is wrong it is better: prices compare as amounts, ``value`` by its digits, totals are exact, and a
malformed value is a 400 naming the parameter instead of being guessed at. ``_cursor`` (keyset
pages) is ours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from service.numbers.cursor import Cursor, InvalidCursor, OrderBy, decode, encode
from service.numbers.fields import BY_WIRE, FIELDS, UNIQUE_COLUMNS, Field
from service.problems import FieldError, InvalidQuery

#: Rows of a ``_page`` (or a ``_cursor`` page) when ``_limit`` is not sent, as in json-server.
DEFAULT_PAGE_SIZE = 10
#: The highest page number: it keeps OFFSET within the databases' 64-bit integers at any page size.
MAX_PAGE = 2**31 - 1
#: The highest ``_start`` or ``_end``, for the same reason.
MAX_POSITION = 2**53


class Op(Enum):
    """A field filter's operator, named by the suffix json-server gives it."""

    EQ = ""
    NE = "_ne"
    GTE = "_gte"
    LTE = "_lte"
    LIKE = "_like"


@dataclass(frozen=True, slots=True)
class Filter:
    """``field <op> values``: ``EQ`` matches any of the values, ``NE`` none of them."""

    field: Field
    op: Op
    values: tuple[Any, ...]


class Paging(Enum):
    """How the client asked for its rows; it decides the shape of the ``Link`` header."""

    PAGE = "page"  # _page, with _limit rows a page
    SLICE = "slice"  # _start with _end or _limit, or no paging parameter at all
    KEYSET = "keyset"  # _cursor


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A validated list request: a window of rows in a total order, and the filters."""

    offset: int = 0
    limit: int = 1000
    paging: Paging = Paging.SLICE
    #: The page number (``Paging.PAGE`` only).
    page: int = 1
    #: In a slice, whether links move ``_end`` with ``_start`` (else ``_limit`` stays as sent).
    slice_by_end: bool = True
    order_by: OrderBy = (("id", False),)  # (column, descending)
    filters: tuple[Filter, ...] = ()
    #: The ``q`` text.
    search: str | None = None
    #: The keyset position (``Paging.KEYSET``); None on its first page.
    cursor: Cursor | None = None

    @property
    def keyset(self) -> bool:
        """Whether pages are keyset pages (``_cursor`` was sent)."""
        return self.paging is Paging.KEYSET


SLICING_PARAMETERS = ("_page", "_limit", "_start", "_end", "_cursor")
FILTER_PARAMETERS = {
    f"{field.wire}{op.value}": (field, op)
    for field in FIELDS
    for op in Op
    if op is not Op.LIKE or field.like is not None
}
_NO_LIKE = {f"{field.wire}{Op.LIKE.value}": field for field in FIELDS if field.like is None}
#: Parameters that may repeat: ``id=1&id=2`` is any of them, ``id_ne=1&id_ne=2`` none of them.
_REPEATABLE = frozenset(name for name, (_, op) in FILTER_PARAMETERS.items() if op in (Op.EQ, Op.NE))
_SINGLE_VALUED = (
    *SLICING_PARAMETERS,
    "_sort",
    "_order",
    "q",
    *(n for n in FILTER_PARAMETERS if n not in _REPEATABLE),
)
_SORTABLE = ", ".join(field.wire for field in FIELDS)


def parse_list_query(args: MultiDict[str, str], max_page_size: int) -> ListQuery:
    """Validate the list's query string; raise :class:`InvalidQuery` naming every bad parameter."""
    # An empty value is an absent parameter, as json-server treats it: frontends send an empty
    # search box as value_like= on every load. _cursor= is the exception: it asks for keyset
    # pages, starting at the first.
    sent: MultiDict[str, str] = MultiDict(
        [(name, value) for name, value in args.items(multi=True) if value or name == "_cursor"]
    )
    errors = [
        FieldError.param(name, "must be given once (only field= and field_ne= filters may repeat)")
        for name in _SINGLE_VALUED
        if len(sent.getlist(name)) > 1
    ]
    errors += [
        FieldError.param(
            name,
            f"{field.wire} has no _like filter; _like filters exist for "
            + ", ".join(f.wire for f in FIELDS if f.like is not None),
        )
        for name, field in _NO_LIKE.items()
        if name in sent
    ]
    order_by = _parse_sort(sent, errors)
    filters = _parse_filters(sent, errors)
    window = _parse_window(sent, max_page_size, order_by, errors)
    if errors:
        raise InvalidQuery(errors)
    return ListQuery(**window, order_by=order_by, filters=filters, search=sent.get("q"))


def _parse_window(
    sent: MultiDict[str, str],
    max_page_size: int,
    order_by: OrderBy,
    errors: list[FieldError],
) -> dict[str, Any]:
    """The window's offset, size and paging mode, in json-server's order of precedence."""

    def whole(name: str, minimum: int, maximum: int) -> int | None:
        raw = sent.get(name)
        if raw is None:
            return None
        if raw.isascii() and raw.isdigit() and minimum <= int(raw) <= maximum:
            return int(raw)
        errors.append(
            FieldError.param(
                name, f"must be a whole number from {minimum} to {maximum} (got {raw!r})"
            )
        )
        return minimum

    page = whole("_page", 1, MAX_PAGE)
    limit = whole("_limit", 1, max_page_size)
    start = whole("_start", 0, MAX_POSITION)
    end = whole("_end", 0, MAX_POSITION)

    if "_cursor" in sent:
        conflicting = [name for name in ("_page", "_start", "_end") if name in sent]
        if conflicting:
            errors.append(
                FieldError.param(
                    "_cursor",
                    f"cannot be combined with {', '.join(conflicting)}: a cursor names its own "
                    "position; send _limit for the page size and follow the Link header",
                )
            )
        cursor = None
        if not any(e["parameter"] in ("_sort", "_order") for e in errors):
            try:
                cursor = decode(sent["_cursor"], order_by)
            except InvalidCursor as error:
                errors.append(FieldError.param("_cursor", str(error)))
        return {"limit": limit or DEFAULT_PAGE_SIZE, "paging": Paging.KEYSET, "cursor": cursor}
    if page is not None:
        size = limit or DEFAULT_PAGE_SIZE
        return {"offset": (page - 1) * size, "limit": size, "paging": Paging.PAGE, "page": page}
    start = start or 0
    if end is not None:
        if end - start > max_page_size:
            errors.append(
                FieldError.param(
                    "_end",
                    f"the slice from _start to _end may hold at most {max_page_size} rows "
                    f"(got {end - start}); follow the Link header for the rest",
                )
            )
        return {"offset": start, "limit": max(end - start, 0)}
    if limit is not None:
        return {"offset": start, "limit": limit, "slice_by_end": False}
    # Nothing pages: json-server answers every row; we answer up to max_page_size, with Link.
    return {"offset": start, "limit": max_page_size}


def _parse_sort(sent: MultiDict[str, str], errors: list[FieldError]) -> OrderBy:
    names = _split(sent.get("_sort", ""))
    directions = [d.lower() for d in _split(sent.get("_order", ""))]
    order_by: list[tuple[str, bool]] = []
    for i, name in enumerate(names):
        field = BY_WIRE.get(name)
        if field is None:
            errors.append(
                FieldError.param(
                    "_sort", f"cannot sort by {name!r}; sort by a comma list of: {_SORTABLE}"
                )
            )
            continue
        order_by.append((field.column, i < len(directions) and directions[i] == "desc"))
    bad = [d for d in directions if d not in ("asc", "desc")]
    if bad:
        # Entries past the sort fields are ignored, as json-server does; a bad one is not.
        errors.append(
            FieldError.param(
                "_order",
                f"must be asc or desc per field of _sort, comma-separated (got {bad[0]!r})",
            )
        )
    elif not names and directions:  # _order alone applies to the default sort, id
        order_by = [("id", directions[0] == "desc")]
    if not any(column in UNIQUE_COLUMNS for column, _ in order_by):
        order_by.append(("id", False))  # a total order: pages never overlap or skip rows
    return tuple(order_by)


def _parse_filters(sent: MultiDict[str, str], errors: list[FieldError]) -> tuple[Filter, ...]:
    filters = []
    for name, (field, op) in FILTER_PARAMETERS.items():
        raw_values = sent.getlist(name)
        if not raw_values:
            continue
        values = []
        for raw in raw_values:
            try:
                values.append(field.parse_filter(raw))
            except ValueError as error:
                errors.append(FieldError.param(name, str(error)))
        filters.append(Filter(field, op, tuple(values)))
    return tuple(filters)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def link_header(
    base_url: str, args: MultiDict[str, str], query: ListQuery, total: int, has_next: bool
) -> str | None:
    """RFC 8288 ``Link`` with first/prev/next/last, keeping every other parameter the client sent.

    ``_page`` requests get ``_page`` links, as json-server gives them; slices get ``_start`` links
    of the same size. None when everything fits the window or nothing matches.
    """
    if total == 0 or query.limit == 0:
        return None
    if query.offset == 0 and total <= query.limit and not has_next:
        return None
    if query.paging is Paging.PAGE:
        last = max(math.ceil(total / query.limit), 1)
        if has_next:  # a capped total may undercount: the next page exists, so "last" is past it
            last = max(last, query.page + 1)
        pages = {"first": 1, "last": last}
        if query.page > 1:
            pages["prev"] = min(query.page - 1, last)
        if has_next:
            pages["next"] = query.page + 1
        return _render_links(base_url, args, {rel: {"_page": str(p)} for rel, p in pages.items()})
    size = max(query.limit, 1)
    starts = {"first": 0, "last": max(total - size, 0)}
    if has_next:
        starts["last"] = max(starts["last"], query.offset + size)
        starts["next"] = query.offset + size
    if query.offset > 0:
        starts["prev"] = max(min(query.offset, total) - size, 0)
    links = {}
    for rel, start in starts.items():
        window = {"_start": str(start)}
        if query.slice_by_end:
            window["_end"] = str(start + size)
        links[rel] = window
    return _render_links(base_url, args, links)


def cursor_link_header(
    base_url: str,
    args: MultiDict[str, str],
    query: ListQuery,
    edges: tuple[tuple[Any, ...], tuple[Any, ...]] | None,
    more_before: bool,
    more_after: bool,
) -> str | None:
    """``Link`` for keyset pages: ``next``/``prev`` carry cursors after/before this page's edges.

    ``edges`` are the sort keys of the page's first and last rows (None for an empty page).
    """
    if edges is None and query.cursor is None:
        return None
    cursors = {"first": "", "last": encode(Cursor("last"), query.order_by)}
    if edges is not None and more_before:
        cursors["prev"] = encode(Cursor("before", edges[0]), query.order_by)
    if edges is not None and more_after:
        cursors["next"] = encode(Cursor("after", edges[1]), query.order_by)
    if edges is None and more_before:  # an empty page past the end: step back from the end
        cursors["prev"] = cursors["last"]
    return _render_links(base_url, args, {rel: {"_cursor": c} for rel, c in cursors.items()})


def _render_links(
    base_url: str, args: MultiDict[str, str], links: dict[str, dict[str, str]]
) -> str:
    def url(replaced: dict[str, str]) -> str:
        items = [(k, v) for k, v in args.items(multi=True) if k not in replaced]
        items += replaced.items()
        return f"{base_url}?{urlencode(items)}"

    order = ("first", "prev", "next", "last")
    return ", ".join(f'<{url(links[rel])}>; rel="{rel}"' for rel in order if rel in links)
