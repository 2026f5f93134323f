"""A tiny client for the numbers API, so that tests make their own data and read like the spec.

Every value is random (from the OS, so no plugin can reseed it into repeating across runs): a
test never depends on the order of tests, on an empty table, or on what another run left behind.
"""

from __future__ import annotations

import random
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

PROBLEM_JSON = "application/problem+json"
_rng = random.SystemRandom()
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="([^"]+)"')


def random_digits(count: int) -> str:
    """``count`` random decimal digits."""
    return "".join(_rng.choice("0123456789") for _ in range(count))


def new_prefix() -> str:
    """A formatted prefix of 11 digits that no other test uses, such as ``+1 912 345-6789``.

    Numbers made under it can be listed alone with ``value_like=<prefix>``.
    """
    digits = random_digits(9)
    return f"+1 9{digits[:2]} {digits[2:5]}-{digits[5:]}"


def new_value(prefix: str | None = None) -> str:
    """A random valid number (14 digits), unique in practice; under ``prefix`` when given."""
    return f"{prefix or new_prefix()}{random_digits(3)}"


def digits_of(value: str) -> str:
    """The digits of a number, which identify it whatever its formatting."""
    return re.sub(r"[^0-9]", "", value)


def number_body(**overrides: Any) -> dict[str, Any]:
    """A valid body for a new number, with wire-name ``overrides``."""
    body: dict[str, Any] = {
        "value": new_value(),
        "monthyPrice": "0.03",
        "setupPrice": "3.40",
        "currency": "U$",
    }
    body.update(overrides)
    return body


def create_number(api: httpx.Client, **overrides: Any) -> dict[str, Any]:
    """POST a new number (see :func:`number_body`) and return the created representation."""
    response = api.post("/numbers", json=number_body(**overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def post_json_text(api: httpx.Client, text: str | bytes, path: str = "/numbers") -> httpx.Response:
    """POST a JSON document exactly as written (to send literals such as ``3.405`` or ``NaN``)."""
    return api.post(path, content=text, headers={"Content-Type": "application/json"})


def list_numbers(api: httpx.Client, **params: Any) -> httpx.Response:
    """GET /numbers with ``params``; a list value repeats the parameter."""
    response = api.get("/numbers", params=params)
    return response


def ids_of(response: httpx.Response) -> list[int]:
    """The ids of a list response, in order."""
    return [number["id"] for number in response.json()]


def expect_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Check that ``response`` is an RFC 9457 problem with ``status``; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM_JSON
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    for member in ("type", "title", "detail"):
        assert isinstance(problem[member], str) and problem[member], problem
    return problem


def error_pointers(problem: dict[str, Any]) -> list[str]:
    """The JSON pointers a validation problem names, in order."""
    return [error["pointer"] for error in problem["errors"]]


def error_parameters(problem: dict[str, Any]) -> list[str]:
    """The query parameters a bad-query problem names, in order."""
    return [error["parameter"] for error in problem["errors"]]


def links_of(response: httpx.Response) -> dict[str, str]:
    """The ``Link`` header as {rel: url}; empty when there is none."""
    return {rel: url for url, rel in _LINK.findall(response.headers.get("link", ""))}


def query_of(url: str) -> list[tuple[str, str]]:
    """The query parameters of ``url``, in order, repeats included."""
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)
