"""The OpenAPI document: read from its hand-written YAML source and rendered as the served JSON.

``make openapi`` (``python -m unit_tests.openapi_document``) writes ``service/openapi.json``;
``unit_tests/test_openapi.py`` fails when it is out of date. The version is not written in the
YAML: it is the package's, from ``pyproject.toml``, the one place it is written.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

SERVICE = Path(__file__).resolve().parent.parent / "service"
YAML_SOURCE = SERVICE / "openapi.yaml"
JSON_SERVED = SERVICE / "openapi.json"


def load_document() -> dict[str, Any]:
    """The document as served: the YAML source with the package's version."""
    document: dict[str, Any] = yaml.safe_load(YAML_SOURCE.read_text(encoding="utf-8"))
    info = document["info"]
    document["info"] = {"title": info.pop("title"), "version": version("telecom-numbers"), **info}
    return document


def render_json(document: dict[str, Any]) -> str:
    """The served form of the document (stable, readable diffs)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    JSON_SERVED.write_text(render_json(load_document()), encoding="utf-8")
    print(f"wrote {JSON_SERVED}")
