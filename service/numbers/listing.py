"""The list's query string, in json-server's dialect (the frontend's mock) with readable aliases."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from service.money import InvalidAmount, parse_amount
from service.numbers.cursor import Cursor, InvalidCursor, decode, encode
from service.phone import InvalidPhoneNumber, parse_digits_fragment
from service.problems import FieldError, InvalidQuery

#: The highest page number: it keeps OFFSET within the databases' 64-bit integers at any page size.
MAX_PAGE = 2**31 - 1
#: Sortable wire names -> model attribute names (``value`` sorts by its digits).
SORTABLE = {
    "id": "id",
    "value": "digits",
    "monthyPrice": "monthly_price",
    "setupPrice": "setup_price",
    "currency": "currency",
}
_SORT_ALIASES = {"monthlyPrice": "monthyPrice"}
#: Attributes unique per row: a sort on one of them is already a total order.
UNIQUE_ATTRIBUTES = frozenset({"id", "digits"})
#: json-server name -> readable alias; when both are sent the json-server name wins.
PARAMETER_ALIASES = {
    "_page": "page",
    "_limit": "perPage",
    "_sort": "sort",
    "_order": "order",
    "value_like": "q",
}
#: Price bound parameters -> (attribute, comparison).
PRICE_BOUNDS = {
    f"{wire}_{op}": (attribute, op)
    for wire, attribute in (("monthyPrice", "monthly_price"), ("setupPrice", "setup_price"))
    for op in ("gte", "lte")
}
_PRICE_BOUND_ALIASES = {
    name.replace("monthyPrice", "monthlyPrice"): name
    for name in PRICE_BOUNDS
    if name.startswith("monthyPrice")
}

#: Every readable alias -> the json-server name it stands for.
_ALIAS_OF = {alias: name for name, alias in PARAMETER_ALIASES.items()} | _PRICE_BOUND_ALIASES
_SINGLE_VALUED = (*PARAMETER_ALIASES, *PRICE_BOUNDS, *_ALIAS_OF, "_cursor")


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A validated list request: one page, a total order, and the filters."""

    page: int = 1
    limit: int = 100
    order_by: tuple[tuple[str, bool], ...] = (("id", False),)  # (attribute, descending)
    digits: str | None = None
    currencies: tuple[str, ...] | None = None
    price_bounds: tuple[tuple[str, str, Decimal], ...] = field(default=())
    #: Keyset pagination (``_cursor`` sent): ``cursor`` is None on its first page.
    keyset: bool = False
    cursor: Cursor | None = None

    @property
    def offset(self) -> int:
        """Rows before this page."""
        return (self.page - 1) * self.limit


def _pick(args: MultiDict[str, str], name: str) -> tuple[str, str] | None:
    """(the name the client used, its value) for a parameter or its alias; the _name wins."""
    for candidate in (name, PARAMETER_ALIASES.get(name)):
        if candidate is not None and candidate in args:
            return candidate, args[candidate]
    return None


def parse_list_query(
    args: MultiDict[str, str], max_page_size: int, default_page_size: int
) -> ListQuery:
    """Validate the list's query string; raise :class:`InvalidQuery` naming every bad parameter."""
    query, errors = _parse(args, max_page_size, default_page_size)
    # An alias sent with its json-server name is not used, but an invalid value is still a 400:
    # every parameter the document describes is checked, whatever else was sent.
    shadowed = MultiDict(
        [
            (alias, value)
            for alias, name in _ALIAS_OF.items()
            if alias in args and name in args
            for value in args.getlist(alias)
        ]
    )
    if shadowed:
        errors += _parse(shadowed, max_page_size, default_page_size)[1]
    # Only ``currency`` may repeat: a second _page or bound would be silently ignored.
    errors += [
        FieldError.param(name, "must be given once (only currency may repeat)")
        for name in _SINGLE_VALUED
        if len(args.getlist(name)) > 1
    ]
    if errors:
        raise InvalidQuery(errors)
    return query


def _parse(
    args: MultiDict[str, str], max_page_size: int, default_page_size: int
) -> tuple[ListQuery, list[FieldError]]:
    errors: list[FieldError] = []

    def whole(name: str, default: int, maximum: int | None) -> int:
        picked = _pick(args, name)
        if picked is None:
            return default
        used, raw = picked
        if (
            raw.isascii()
            and raw.isdigit()
            and int(raw) >= 1
            and (maximum is None or int(raw) <= maximum)
        ):
            return int(raw)
        bound = f" and at most {maximum}" if maximum is not None else ""
        errors.append(FieldError.param(used, f"must be a whole number from 1{bound} (got {raw!r})"))
        return default

    page = whole("_page", 1, MAX_PAGE)
    limit = whole("_limit", default_page_size, max_page_size)
    order_by = _parse_sort(args, errors)

    digits = None
    picked = _pick(args, "value_like")
    if picked is not None:
        try:
            digits = parse_digits_fragment(picked[1])
        except InvalidPhoneNumber as error:
            errors.append(FieldError.param(picked[0], str(error)))

    sent = args.getlist("currency")
    # No currency has a NUL, which PostgreSQL text cannot even hold: such a value matches nothing.
    currencies = tuple(c for c in sent if "\x00" not in c) if sent else None

    bounds: list[tuple[str, str, Decimal]] = []
    for name in sorted({*PRICE_BOUNDS, *_PRICE_BOUND_ALIASES}):
        if name not in args:
            continue
        canonical = _PRICE_BOUND_ALIASES.get(name, name)
        if canonical != name and canonical in args:
            continue  # the contract's name wins over its alias
        attribute, op = PRICE_BOUNDS[canonical]
        try:
            bounds.append((attribute, op, parse_amount(args[name])))
        except InvalidAmount as error:
            errors.append(FieldError.param(name, str(error)))

    keyset = "_cursor" in args
    cursor = None
    if keyset and not any(e["parameter"] in ("_sort", "sort", "_order", "order") for e in errors):
        try:
            cursor = decode(args["_cursor"], order_by)
        except InvalidCursor as error:
            errors.append(FieldError.param("_cursor", str(error)))

    query = ListQuery(page, limit, order_by, digits, currencies, tuple(bounds), keyset, cursor)
    return query, errors


def _parse_sort(
    args: MultiDict[str, str], errors: list[FieldError]
) -> tuple[tuple[str, bool], ...]:
    picked_sort = _pick(args, "_sort")
    picked_order = _pick(args, "_order")
    fields = _split(picked_sort[1]) if picked_sort else []
    directions = _split(picked_order[1]) if picked_order else []
    accepted = ", ".join(SORTABLE)
    sort_name = picked_sort[0] if picked_sort else "_sort"
    order_by: list[tuple[str, bool]] = []
    for name in fields:
        attribute = SORTABLE.get(_SORT_ALIASES.get(name, name))
        if attribute is None:
            errors.append(
                FieldError.param(
                    sort_name, f"cannot sort by {name!r}; sort by a comma list of: {accepted}"
                )
            )
            continue
        order_by.append((attribute, False))
    if picked_order is not None:
        bad = [d for d in directions if d.lower() not in ("asc", "desc")]
        # Entries past the sort fields are ignored, as json-server does: a limit that depends on
        # another parameter could not be stated in the OpenAPI document.
        if bad:
            errors.append(
                FieldError.param(
                    picked_order[0],
                    f"must be asc or desc per field of _sort, comma-separated (got {bad[0]!r})",
                )
            )
        elif not fields and directions:  # _order alone applies to the default sort, id
            order_by = [("id", directions[0].lower() == "desc")]
        else:
            order_by = [
                (attribute, i < len(directions) and directions[i].lower() == "desc")
                for i, (attribute, _) in enumerate(order_by)
            ]
    if not any(attribute in UNIQUE_ATTRIBUTES for attribute, _ in order_by):
        order_by.append(("id", False))  # a total order: pages never overlap or skip rows
    return tuple(order_by)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def link_header(
    base_url: str,
    args: MultiDict[str, str],
    query: ListQuery,
    total: int,
    has_next: bool,
) -> str | None:
    """RFC 8288 ``Link`` with first/prev/next/last, keeping every parameter the client sent.

    None when everything fits one page or nothing matches.
    """
    last = max(math.ceil(total / query.limit), 1)
    if total == 0 or (total <= query.limit and not has_next):
        return None
    if has_next:  # a capped total may undercount: the next page exists, so "last" is past it
        last = max(last, query.page + 1)
    page_name = next((n for n in ("_page", "page") if n in args), "_page")
    links = {"first": 1, "last": last}
    if query.page > 1:
        links["prev"] = min(query.page - 1, links["last"])
    if has_next:
        links["next"] = query.page + 1
    return _render_links(base_url, args, page_name, {k: str(v) for k, v in links.items()})


def cursor_link_header(
    base_url: str,
    args: MultiDict[str, str],
    query: ListQuery,
    edges: tuple[tuple[int | str | Decimal, ...], tuple[int | str | Decimal, ...]] | None,
    more_before: bool,
    more_after: bool,
) -> str | None:
    """``Link`` for keyset pages: ``next``/``prev`` carry cursors after/before this page's edges.

    ``edges`` are the sort keys of the page's first and last rows (None for an empty page).
    """
    if edges is None and query.cursor is None:
        return None
    links = {"first": "", "last": encode(Cursor("last"), query.order_by)}
    if edges is not None and more_before:
        links["prev"] = encode(Cursor("before", edges[0]), query.order_by)
    if edges is not None and more_after:
        links["next"] = encode(Cursor("after", edges[1]), query.order_by)
    if edges is None and more_before:  # an empty page past the end: step back from the end
        links["prev"] = links["last"]
    return _render_links(base_url, args, "_cursor", links)


def _render_links(
    base_url: str, args: MultiDict[str, str], name: str, links: dict[str, str]
) -> str:
    def url(value: str) -> str:
        items = [(k, v) for k, v in args.items(multi=True) if k != name]
        items.append((name, value))
        return f"{base_url}?{urlencode(items)}"

    order = ("first", "prev", "next", "last")
    return ", ".join(f'<{url(links[rel])}>; rel="{rel}"' for rel in order if rel in links)
