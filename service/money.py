"""Money as exact decimals: the one text rule for prices, shared by bodies and query strings."""

from __future__ import annotations

import re
from decimal import Decimal

#: The accepted text of an amount: no sign, no exponent, at most 8 integer digits and 2 decimals.
MONEY_PATTERN = r"^[0-9]{1,8}(\.[0-9]{1,2})?$"
MONEY_EXAMPLE = '"3.40"'
MAX_AMOUNT = Decimal("99999999.99")
CENT = Decimal("0.01")

_MONEY_RE = re.compile(MONEY_PATTERN)
_NUMBERISH_RE = re.compile(r"^[+-]?[0-9]*\.?[0-9]*([eE][+-]?[0-9]+)?$")


class InvalidAmount(ValueError):
    """The text is not an acceptable amount; the message says how to fix it."""


def parse_amount(text: str) -> Decimal:
    """Turn the literal text of an amount into a Decimal with exactly two places, or raise.

    Never rounds: an amount with more than two decimals is rejected, not adjusted.
    """
    if _MONEY_RE.fullmatch(text):
        return Decimal(text).quantize(CENT)
    raise InvalidAmount(_explain(text))


def format_amount(amount: Decimal) -> str:
    """Render an amount with exactly two decimals, as the API always answers (``"3.40"``)."""
    if amount.as_tuple().exponent != -2:  # the database's amounts have two places already
        amount = amount.quantize(CENT)
    return f"{amount:f}"


def _explain(text: str) -> str:
    stripped = text.strip()
    if not stripped:
        return f"must not be empty; send a decimal string such as {MONEY_EXAMPLE}"
    if stripped != text:
        return f"must not contain spaces; send a decimal string such as {MONEY_EXAMPLE}"
    if not _NUMBERISH_RE.fullmatch(text) or not any(c.isdigit() for c in text):
        return f"must be a decimal amount such as {MONEY_EXAMPLE}"
    if "e" in text.lower():
        return f"must be written without an exponent, such as {MONEY_EXAMPLE}"
    if text.startswith("-"):
        return "must not be negative"
    if text.startswith("+"):
        return f"must be written without a sign, such as {MONEY_EXAMPLE}"
    whole, _, cents = text.partition(".")
    if "." in text and (not whole or not cents):
        return f"must have digits on both sides of the decimal point, such as {MONEY_EXAMPLE}"
    if len(cents) > 2:
        return "must have at most 2 decimal places (amounts are never rounded)"
    return f"must be at most {MAX_AMOUNT}"
