"""The wire representation of a number: the agreed JSON schema lives here and only here."""

from __future__ import annotations

from typing import Any

from service.models import Number
from service.money import format_amount


def render(number: Number) -> dict[str, Any]:
    """The number as the frontend expects it (``monthyPrice``, sic, is the contract)."""
    return {
        "id": number.id,
        "value": number.value,
        "monthyPrice": format_amount(number.monthly_price),
        "setupPrice": format_amount(number.setup_price),
        "currency": number.currency,
    }


def etag_of(number: Number) -> str:
    """The strong entity tag of the number's current version (without quotes)."""
    return f"{number.id}.{number.version}"
