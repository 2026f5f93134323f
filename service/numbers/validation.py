"""Validation of number bodies: every rule of the resource's fields, all errors reported at once."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from enum import Enum
from typing import Any

from service.numbers.fields import WRITABLE, Field
from service.payloads import JsonNumber
from service.problems import FieldError, ValidationFailed

_ALLOWED = ", ".join(sorted({"id", *(n for f in WRITABLE for n in (f.wire, *f.aliases))}))


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
            attribute.name: getattr(self, attribute.name)
            for attribute in fields(self)
            if getattr(self, attribute.name) is not None
        }


def parse_number(
    body: Any, mode: Mode, currencies: tuple[str, ...], url_id: int | None = None
) -> NumberFields:
    """Validate a number body; raise :class:`ValidationFailed` listing every bad field."""
    if not isinstance(body, dict):
        raise ValidationFailed([FieldError.at("", "the body must be a JSON object")])
    errors: list[FieldError] = []
    for name in body:
        if name != "id" and not any(name in (f.wire, *f.aliases) for f in WRITABLE):
            errors.append(FieldError.member(name, f"unknown field; allowed: {_ALLOWED}"))
    if mode is not Mode.CREATE and "id" in body:  # on create a client id is ignored
        _check_id(body["id"], url_id, errors)

    values: dict[str, Any] = {}
    for field in WRITABLE:
        sent = _sent_names(body, field, errors)
        if not sent:
            if mode is not Mode.PATCH:
                errors.append(FieldError.at(f"/{field.wire}", "is required"))
            continue
        name = sent[0]  # errors point at the member the client sent, alias or not
        raw = body[name]
        if raw is None:
            errors.append(FieldError.at(f"/{name}", "must not be null; every field is required"))
            continue
        assert field.parse_body is not None  # noqa: S101 - WRITABLE holds only parseable fields
        try:
            values[field.attribute] = field.parse_body(raw, currencies)
        except ValueError as error:
            errors.append(FieldError.at(f"/{name}", str(error)))
    if errors:
        raise ValidationFailed(errors)
    return NumberFields(**values)


def _sent_names(body: dict[str, Any], field: Field, errors: list[FieldError]) -> list[str]:
    """The names under which ``field`` was sent: none, or one (the wire name or an alias)."""
    sent = [name for name in (field.wire, *field.aliases) if name in body]
    for alias in sent[1:]:
        errors.append(
            FieldError.at(f"/{alias}", f"send either {field.wire} or its alias {alias}, not both")
        )
    return sent[:1]


def _check_id(raw: Any, url_id: int | None, errors: list[FieldError]) -> None:
    if isinstance(raw, JsonNumber) and raw.isdigit() and int(raw) == url_id:
        return
    errors.append(
        FieldError.at(
            "/id",
            f"must be the number's id as in the URL ({url_id}), as an integer; or leave it out",
        )
    )
