"""DID phone numbers: the rule for an acceptable value and its canonical digits."""

from __future__ import annotations

import re

MIN_DIGITS = 8
MAX_DIGITS = 15  # E.164
MAX_LENGTH = 32
VALUE_EXAMPLE = '"+55 84 91234-4321"'

_FORMATTING = " -.()"
_ALLOWED_IN_FRAGMENT = frozenset("0123456789+" + _FORMATTING)
_VALUE_RE = re.compile(r"^\+[0-9 \-.()]+$")
_NON_DIGITS = re.compile(r"[^0-9]")


class InvalidPhoneNumber(ValueError):
    """The text is not an acceptable international number; the message says how to fix it."""


def digits_of(text: str) -> str:
    """The digits of a number, which identify it whatever its formatting."""
    return _NON_DIGITS.sub("", text)


def parse_value(text: str) -> str:
    """Validate an international number and return it trimmed, as it will be stored."""
    value = text.strip()
    if not value:
        raise InvalidPhoneNumber(f"must not be empty; send a number such as {VALUE_EXAMPLE}")
    if len(value) > MAX_LENGTH:
        raise InvalidPhoneNumber(f"must be at most {MAX_LENGTH} characters long")
    if not _VALUE_RE.fullmatch(value):
        raise InvalidPhoneNumber(
            "must start with + and the country code, then digits; only spaces, hyphens, dots "
            f"and parentheses may format it, as in {VALUE_EXAMPLE}"
        )
    digits = digits_of(value)
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise InvalidPhoneNumber(
            f"must have {MIN_DIGITS} to {MAX_DIGITS} digits including the country code "
            f"(has {len(digits)})"
        )
    if digits[0] == "0":
        raise InvalidPhoneNumber("the country code after + cannot start with 0")
    return value


def parse_digits_fragment(text: str) -> str:
    """Digits to search for in numbers: ``"+55 84"`` gives ``"5584"``; raise if there are none."""
    if not text.strip() or any(c not in _ALLOWED_IN_FRAGMENT for c in text):
        raise InvalidPhoneNumber(
            "must contain digits, optionally formatted with +, spaces, hyphens, dots or "
            "parentheses (for example 84 or +55 84)"
        )
    digits = digits_of(text)
    if not digits:
        raise InvalidPhoneNumber("must contain at least one digit, for example 84 or +55 84")
    return digits
