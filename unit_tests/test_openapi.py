"""The OpenAPI document is valid OpenAPI 3.1, describes exactly the app's routes, and is served.

``service/openapi.yaml`` is the source, written by hand; ``service/openapi.json`` is what the
service serves. After editing the YAML, regenerate the JSON with::

    make openapi   (python -m unit_tests.openapi_document)
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openapi_spec_validator import validate

from service import create_app, docs, phone
from service.asgi_adapter import AsgiAdapter
from service.auth.passwords import MAX_PASSWORD_LENGTH
from service.models import MAX_ID, MAX_USERNAME_LENGTH
from service.numbers.fields import FIELDS, WRITABLE
from service.numbers.listing import FILTER_PARAMETERS, SLICING_PARAMETERS
from service.settings import Settings
from unit_tests.openapi_document import JSON_SERVED, load_document, render_json
from unit_tests.test_http_errors import Run, request

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
_CONVERTER = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return load_document()


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(Settings())


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    validate(document)


def test_served_json_is_generated_from_the_yaml_source(document: dict[str, Any]) -> None:
    assert JSON_SERVED.read_text(encoding="utf-8") == render_json(document), (
        "service/openapi.json is out of date; run: make openapi"
    )


def test_document_has_exactly_the_routes_of_the_app(document: dict[str, Any], app: Flask) -> None:
    routes = {
        (_CONVERTER.sub(r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    assert documented == routes


def test_every_operation_has_an_id_a_summary_and_its_errors(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            assert operation.get("operationId"), (path, method)
            assert operation.get("summary"), (path, method)
            if path.startswith("/numbers"):
                assert {"500", "503"} <= set(operation["responses"]), (path, method)


def test_money_schemas_use_the_agreed_text_rule(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["MoneyIn"]["oneOf"][0]["pattern"] == r"^[0-9]{1,8}(\.[0-9]{1,2})?$"
    assert schemas["MoneyQuery"]["pattern"] == r"^[0-9]{1,8}(\.[0-9]{1,2})?$"
    assert set(schemas["Number"]["properties"]) == {
        "id",
        "value",
        "monthyPrice",
        "setupPrice",
        "currency",
    }
    assert "monthlyPrice" in schemas["NumberCreate"]["properties"]


def test_the_number_schemas_are_the_field_table(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert list(schemas["Number"]["properties"]) == [field.wire for field in FIELDS]
    written = {name for field in WRITABLE for name in (field.wire, *field.aliases)}
    # A create may carry an id (ignored); a replace or patch may, equal to the URL's, undocumented.
    assert set(schemas["NumberCreate"]["properties"]) == written | {"id"}
    for schema in ("NumberReplace", "NumberPatch"):
        assert set(schemas[schema]["properties"]) == written, schema


def test_the_documented_lengths_and_bounds_are_the_codes(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    credentials = schemas["Credentials"]["properties"]
    assert credentials["username"]["maxLength"] == MAX_USERNAME_LENGTH
    assert credentials["password"]["maxLength"] == MAX_PASSWORD_LENGTH
    assert schemas["PhoneNumber"]["maxLength"] == phone.MAX_LENGTH
    assert schemas["Number"]["properties"]["value"]["maxLength"] == phone.MAX_LENGTH
    assert schemas["Number"]["properties"]["id"]["maximum"] == MAX_ID


def test_the_list_parameters_are_the_field_tables_filters(document: dict[str, Any]) -> None:
    parameters = document["components"]["parameters"]
    listed = {
        parameters[ref["$ref"].rsplit("/", 1)[1]]["name"]
        for ref in document["paths"]["/numbers"]["get"]["parameters"]
    }
    expected = {*FILTER_PARAMETERS, *SLICING_PARAMETERS, "_sort", "_order", "q", "X-Request-ID"}
    assert listed == expected


def test_openapi_json_is_served_with_an_etag(run: Run, asgi: AsgiAdapter) -> None:
    response = request(run, asgi, "GET", "/openapi.json")
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == load_document()
    assert response.headers["etag"]
    again = request(
        run, asgi, "GET", "/openapi.json", headers=[("If-None-Match", response.headers["etag"])]
    )
    assert again.status == 304


def test_docs_page_loads_the_vendored_renderer(run: Run, asgi: AsgiAdapter) -> None:
    response = request(run, asgi, "GET", "/docs")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.body.decode()
    for asset in re.findall(r'(?:src|href)="(docs/static/[^"]+)"', page):
        assert request(run, asgi, "GET", "/" + asset).status == 200, asset
    assert "docs/static/swagger-ui/swagger-ui-bundle.js" in page


def test_documentation_assets_are_cached_and_revalidated(run: Run, asgi: AsgiAdapter) -> None:
    path = "/docs/static/swagger-ui/swagger-ui-bundle.js"
    first = request(run, asgi, "GET", path)
    assert first.status == 200
    assert first.headers["content-type"].startswith("text/javascript")
    assert "max-age=86400" in first.headers["cache-control"]
    again = request(run, asgi, "GET", path, headers=[("If-None-Match", first.headers["etag"])])
    assert (again.status, again.body) == (304, b"")


@pytest.mark.parametrize(
    "path", ["/docs/static/nope.js", "/docs/static/../openapi.yaml", "/docs/static/%2e%2e/app.py"]
)
def test_unknown_documentation_files_are_404_problems(
    run: Run, asgi: AsgiAdapter, path: str
) -> None:
    reply = request(run, asgi, "GET", path)
    assert reply.status == 404
    assert reply.headers["content-type"] == "application/problem+json"


def test_documentation_files_are_read_off_the_event_loop(
    run: Run, asgi: AsgiAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    readers: list[str] = []
    real_read = docs._read

    def spy(path: Path) -> Any:
        readers.append(threading.current_thread().name)
        return real_read(path)

    monkeypatch.setattr(docs, "_read", spy)
    monkeypatch.setattr(docs, "_files", {})
    assert request(run, asgi, "GET", "/docs").status == 200
    assert readers and threading.main_thread().name not in readers  # the loop runs in main


@pytest.mark.parametrize(
    ("path", "method"), [("/numbers/{number_id}", "put"), ("/numbers/{number_id}", "patch")]
)
def test_updates_document_both_kinds_of_409(
    document: dict[str, Any], path: str, method: str
) -> None:
    ref = document["paths"][path][method]["responses"]["409"]["$ref"]
    examples = document["components"]["responses"][ref.rsplit("/", 1)[1]]["content"][
        "application/problem+json"
    ]["examples"]
    types = {example["value"]["type"].rsplit("/", 1)[1] for example in examples.values()}
    assert types == {"duplicate-number", "concurrent-update"}
