"""Validation of number bodies: every rule of the resource's fields, all errors reported at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from service.money import InvalidAmount, parse_amount
from service.payloads import JsonNumber
from service.phone import InvalidPhoneNumber, parse_value
from service.problems import FieldError, ValidationFailed

#: Wire name -> attribute name. ``monthyPrice`` (sic) is the agreed contract with the frontend.
WIRE_FIELDS = {
    "value": "value",
    "monthyPrice": "monthly_price",
    "setupPrice": "setup_price",
    "currency": "currency",
}
#: Input-only aliases (wire alias -> wire name).
ALIASES = {"monthlyPrice": "monthyPrice"}


class Mode(Enum):
    """What a body is for: a new number, a full replacement, or a merge patch."""

    CREATE = "create"
    REPLACE = "replace"
    PATCH = "patch"


@dataclass(frozen=True, slots=True)
class NumberFields:
    """Validated attribute values; ``None`` means "not sent" (only possible in a patch)."""

    value: str | None = None
    monthly_price: Decimal | None = None
    setup_price: Decimal | None = None
    currency: str | None = None

    def changes(self) -> dict[str, Any]:
        """The attributes that were sent, by attribute name."""
        return {
            name: getattr(self, name)
            for name in WIRE_FIELDS.values()
            if getattr(self, name) is not None
        }


def parse_number(
    body: Any, mode: Mode, currencies: tuple[str, ...], url_id: int | None = None
) -> NumberFields:
    """Validate a number body; raise :class:`ValidationFailed` listing every bad field."""
    if not isinstance(body, dict):
        raise ValidationFailed([FieldError.at("", "the body must be a JSON object")])
    errors: list[FieldError] = []
    original = body  # errors point at the member the client sent, alias or not
    body = _resolve_aliases(body, errors)

    allowed = sorted({*WIRE_FIELDS, *ALIASES, "id"})
    for name in body:
        if name not in WIRE_FIELDS and name != "id":
            errors.append(FieldError.member(name, f"unknown field; allowed: {', '.join(allowed)}"))
    if mode is not Mode.CREATE and "id" in body:  # on create a client id is ignored
        _check_id(body["id"], url_id, errors)

    values: dict[str, Any] = {}
    for wire, attribute in WIRE_FIELDS.items():
        if wire not in body:
            if mode is not Mode.PATCH:
                errors.append(FieldError.at(f"/{wire}", "is required"))
            continue
        raw = body[wire]
        sent_as = next((a for a, w in ALIASES.items() if w == wire and a in original), wire)
        if raw is None:
            errors.append(FieldError.at(f"/{sent_as}", "must not be null; every field is required"))
            continue
        try:
            values[attribute] = _FIELD_PARSERS[wire](raw, currencies)
        except ValueError as error:
            errors.append(FieldError.at(f"/{sent_as}", str(error)))
    if errors:
        raise ValidationFailed(errors)
    return NumberFields(**values)


def _resolve_aliases(body: Mapping[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    resolved = dict(body)
    for alias, wire in ALIASES.items():
        if alias not in resolved:
            continue
        if wire in resolved:
            errors.append(
                FieldError.at(f"/{alias}", f"send either {wire} or its alias {alias}, not both")
            )
            del resolved[alias]
        else:
            resolved[wire] = resolved.pop(alias)
    return resolved


def _check_id(raw: Any, url_id: int | None, errors: list[FieldError]) -> None:
    if isinstance(raw, JsonNumber) and raw.isdigit() and int(raw) == url_id:
        return
    errors.append(
        FieldError.at(
            "/id",
            f"must be the number's id as in the URL ({url_id}), as an integer; or leave it out",
        )
    )


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


_FIELD_PARSERS = {
    "value": _parse_value,
    "monthyPrice": _parse_price,
    "setupPrice": _parse_price,
    "currency": _parse_currency,
}
