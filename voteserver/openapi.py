"""The OpenAPI document of the public contract (DESIGN.md), served at /api/openapi.json."""

from __future__ import annotations

from typing import Any


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "cyoa vote server", "version": "0.1.0"},
        "paths": {},
    }
