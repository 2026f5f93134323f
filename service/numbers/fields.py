"""The wire schema of a number: one table of its fields, read by every layer that needs it.

Each :class:`Field` says, once, what the JSON name is (``monthyPrice``, sic, is the contract with
the frontend), which model attribute holds it, how a body value and a query-string value parse,
how it renders, what it sorts and compares by, and how ``_like`` and ``q`` match it. Rendering,
body validation, the list's query parser and a unit test of the OpenAPI document all read
:data:`FIELDS`; nothing else spells a wire name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from service.models import MAX_ID
from service.money import InvalidAmount, format_amount, parse_amount
from service.payloads import JsonNumber
from service.phone import InvalidPhoneNumber, parse_digits_fragment, parse_value


class Match(Enum):
    """How a search text matches a field, for ``<field>_like`` and ``q``."""

    #: The text's digits are contained in the number's digits (formatting ignored).
    DIGITS = "digits"
    #: The text, ignoring case, is contained in the field's text.
    CASELESS = "caseless"
    #: The text is contained in the amount as the API writes it (``"3.40"``).
    AMOUNT_TEXT = "amount text"


#: Parses a body member (already known not to be null) for the configured currencies.
BodyParser = Callable[[Any, tuple[str, ...]], Any]


@dataclass(frozen=True, slots=True)
class Field:
    """One member of the number's JSON representation."""

    wire: str
    #: The model attribute (and column) holding the value that is rendered.
    attribute: str
    #: The column it sorts and compares by (``value`` sorts by its digits).
    column: str
    #: Renders the attribute's value for JSON.
    render: Callable[[Any], Any]
    #: Parses a query-string value of ``field=``, ``_ne``, ``_gte``, ``_lte``; raises ValueError.
    parse_filter: Callable[[str], Any]
    #: Parses a body member; None for a field the server assigns.
    parse_body: BodyParser | None = None
    #: How ``<wire>_like`` matches; None: the field has no ``_like`` filter.
    like: Match | None = None
    #: How the full-text ``q`` matches this field; None: ``q`` does not look at it.
    search: Match | None = None
    #: Input-only names a body may use instead of ``wire``.
    aliases: tuple[str, ...] = ()
    #: No two rows share the value: sorting by it is already a total order.
    unique: bool = False


def _parse_id_filter(text: str) -> int:
    if text.isascii() and text.isdigit() and int(text) <= MAX_ID:
        return int(text)
    raise ValueError(f"must be a whole number from 0 to {MAX_ID}")


def _parse_digits_filter(text: str) -> str:
    try:
        return parse_digits_fragment(text)
    except InvalidPhoneNumber as error:
        raise ValueError(str(error)) from None


def _parse_amount_filter(text: str) -> Decimal:
    try:
        return parse_amount(text)
    except InvalidAmount as error:
        raise ValueError(str(error)) from None


def _parse_text_filter(text: str) -> str:
    # No stored text holds a NUL, and PostgreSQL text cannot even carry one as a parameter.
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise ValueError("must be valid Unicode text (it has a lone surrogate)")
    return text


def _parse_value(raw: Any, _currencies: tuple[str, ...]) -> str:
    if not isinstance(raw, str) or isinstance(raw, JsonNumber):
        raise InvalidPhoneNumber('must be a string such as "+55 84 91234-4321"')
    return parse_value(raw)


def _parse_price(raw: Any, _currencies: tuple[str, ...]) -> Decimal:
    if not isinstance(raw, str):  # booleans, objects, arrays; JSON numbers are JsonNumber (a str)
        raise InvalidAmount('must be a decimal string such as "3.40" or a JSON number')
    return parse_amount(raw)


def _parse_currency(raw: Any, currencies: tuple[str, ...]) -> str:
    if not isinstance(raw, str) or isinstance(raw, JsonNumber) or raw not in currencies:
        raise ValueError(f"must be one of: {', '.join(currencies)}")
    return raw


def _same(value: Any) -> Any:
    return value


FIELDS: tuple[Field, ...] = (
    Field(
        wire="id",
        attribute="id",
        column="id",
        render=_same,
        parse_filter=_parse_id_filter,
        unique=True,
    ),
    Field(
        wire="value",
        attribute="value",
        column="digits",
        render=_same,
        parse_filter=_parse_digits_filter,
        parse_body=_parse_value,
        like=Match.DIGITS,
        search=Match.DIGITS,
        unique=True,
    ),
    Field(
        wire="monthyPrice",
        attribute="monthly_price",
        column="monthly_price",
        render=format_amount,
        parse_filter=_parse_amount_filter,
        parse_body=_parse_price,
        search=Match.AMOUNT_TEXT,
        aliases=("monthlyPrice",),
    ),
    Field(
        wire="setupPrice",
        attribute="setup_price",
        column="setup_price",
        render=format_amount,
        parse_filter=_parse_amount_filter,
        parse_body=_parse_price,
        search=Match.AMOUNT_TEXT,
    ),
    Field(
        wire="currency",
        attribute="currency",
        column="currency",
        render=_same,
        parse_filter=_parse_text_filter,
        parse_body=_parse_currency,
        like=Match.CASELESS,
        search=Match.CASELESS,
    ),
)

_RENDERERS = tuple((f.wire, None if f.render is _same else f.render) for f in FIELDS)
#: Fields by wire name.
BY_WIRE = {field.wire: field for field in FIELDS}
#: The fields a client writes (every one but the server-assigned id).
WRITABLE = tuple(field for field in FIELDS if field.parse_body is not None)
#: Columns that are unique per row.
UNIQUE_COLUMNS = frozenset(field.column for field in FIELDS if field.unique)


def render(number: Any) -> dict[str, Any]:
    """The JSON representation of a number model instance."""
    return render_row(tuple(getattr(number, field.attribute) for field in FIELDS))


def render_row(values: Sequence[Any]) -> dict[str, Any]:
    """The JSON representation of a number read as a row whose first columns are the fields."""
    return {
        wire: value if to_json is None else to_json(value)
        for (wire, to_json), value in zip(_RENDERERS, values, strict=False)
    }
