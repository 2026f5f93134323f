"""How request bodies are read: media type (415), size (413) and JSON syntax (400)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from integration_tests.api_client import (
    create_number,
    expect_problem,
    list_numbers,
    new_value,
    number_body,
    post_json_text,
)

LIMIT = 64 * 1024


def _padded(body: dict[str, object], size: int) -> bytes:
    """``body`` as JSON, padded with trailing whitespace (still valid) to exactly ``size`` bytes."""
    text = json.dumps(body).encode()
    assert len(text) <= size
    return text + b" " * (size - len(text))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(b'{"value": ', id="truncated"),
        pytest.param(b"{'value': '+5584912344321'}", id="single quotes"),
        pytest.param(b'{"value": "+5584912344321",}', id="trailing comma"),
        pytest.param(b"NaN", id="bare NaN document"),
        pytest.param(b'{"value": "+55\xff"}', id="invalid utf-8"),
        pytest.param(b"{} {}", id="two documents"),
    ],
)
def test_malformed_json_is_400(api: httpx.Client, text: bytes) -> None:
    expect_problem(post_json_text(api, text), 400)


@pytest.mark.parametrize("path", ["/numbers", "/auth/token", "/numbers/{id}"])
@pytest.mark.parametrize(
    "text",
    [
        pytest.param(b"[" * 2000 + b"]" * 2000, id="2000 nested arrays"),
        pytest.param(b'{"a":' * 5000 + b"1" + b"}" * 5000, id="5000 nested objects"),
        pytest.param(b"[" * 60_000, id="60000 unclosed arrays"),
    ],
)
def test_json_nested_at_any_depth_is_400_not_a_crash(
    api: httpx.Client, path: str, text: bytes
) -> None:
    number = create_number(api)
    method = "PATCH" if "{id}" in path else "POST"
    response = api.request(
        method,
        path.format(id=number["id"]),
        content=text,
        headers={"Content-Type": "application/json"},
    )

    assert "too deeply" in expect_problem(response, 400)["detail"]


@pytest.mark.parametrize("path", ["/numbers", "/auth/token", "/numbers/{id}"])
def test_a_member_sent_twice_is_400_naming_it(api: httpx.Client, path: str) -> None:
    number = create_number(api)
    method = "PATCH" if "{id}" in path else "POST"
    text = b'{"currency": "USD", "value": "+15550000001", "currency": "EUR", "password": "x"}'

    response = api.request(
        method,
        path.format(id=number["id"]),
        content=text,
        headers={"Content-Type": "application/json"},
    )

    assert "'currency' appears twice" in expect_problem(response, 400)["detail"]


@pytest.mark.parametrize("text", [b"", b"   \n"])
def test_empty_body_is_400(api: httpx.Client, text: bytes) -> None:
    expect_problem(post_json_text(api, text), 400)


def test_body_of_exactly_64_kib_is_accepted(api: httpx.Client) -> None:
    response = post_json_text(api, _padded(number_body(), LIMIT))

    assert response.status_code == 201, response.text


def test_body_over_64_kib_with_content_length_is_413(api: httpx.Client) -> None:
    value = new_value()
    body = _padded(number_body(value=value), LIMIT + 1)

    response = post_json_text(api, body)

    expect_problem(response, 413)
    assert list_numbers(api, value_like=value).json() == []


def test_body_over_64_kib_streamed_without_content_length_is_413(api: httpx.Client) -> None:
    value = new_value()
    body = _padded(number_body(value=value), 3 * LIMIT)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    response = api.post("/numbers", content=chunks(), headers={"Content-Type": "application/json"})

    expect_problem(response, 413)
    assert list_numbers(api, value_like=value).json() == []


def test_streamed_body_under_the_limit_is_accepted(api: httpx.Client) -> None:
    body = json.dumps(number_body()).encode()

    def chunks() -> Iterator[bytes]:
        yield body[:10]
        yield body[10:]

    response = api.post("/numbers", content=chunks(), headers={"Content-Type": "application/json"})

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/merge-patch+json",  # only on PATCH
        "application/jsonx",
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_body_without_json_content_type_is_415(
    api: httpx.Client, method: str, content_type: str | None
) -> None:
    number = create_number(api)
    path = "/numbers" if method == "POST" else f"/numbers/{number['id']}"
    body = json.dumps(number_body()).encode()
    headers = {"Content-Type": content_type} if content_type else {}

    response = api.request(method, path, content=body, headers=headers)

    expect_problem(response, 415)
    assert api.get(f"/numbers/{number['id']}").json() == number


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json-patch+json"])
def test_patch_without_a_json_content_type_is_415(
    api: httpx.Client, content_type: str | None
) -> None:
    number = create_number(api)
    headers = {"Content-Type": content_type} if content_type else {}

    response = api.patch(
        f"/numbers/{number['id']}", content=b'{"currency": "EUR"}', headers=headers
    )

    expect_problem(response, 415)
    assert api.get(f"/numbers/{number['id']}").json() == number


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON"],
)
def test_json_content_type_with_parameters_is_accepted(
    api: httpx.Client, content_type: str
) -> None:
    body = json.dumps(number_body()).encode()

    response = api.post("/numbers", content=body, headers={"Content-Type": content_type})

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "content_type", ["application/merge-patch+json", "application/merge-patch+json; charset=utf-8"]
)
def test_patch_accepts_merge_patch_json(api: httpx.Client, content_type: str) -> None:
    number = create_number(api, currency="U$")

    response = api.patch(
        f"/numbers/{number['id']}",
        content=b'{"currency": "EUR"}',
        headers={"Content-Type": content_type},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {**number, "currency": "EUR"}
