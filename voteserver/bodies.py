"""Presenter request bodies, read once and checked against the OpenAPI document's schemas.

The schemas in :mod:`voteserver.openapi` are both the published contract and the check, so
the two cannot disagree. A body that is not JSON, is nested too deeply for the parser, or
breaks its schema is refused with 400 and a message before anything changes. Strings and
lists a schema marks ``x-cut-to`` are cut to that length instead of refused: a story whose
option label runs long must still run its talk.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from flask import request
from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match

from cyoa.voteserver.store import StoreError

CUT = "x-cut-to"


def json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.0 schema as JSON Schema: ``nullable: true`` becomes a ``null`` type."""

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: convert(value) for key, value in node.items()}
        if node.pop("nullable", False) and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        return node

    return convert(copy.deepcopy(schema))


@functools.lru_cache(maxsize=64)
def _validator_for(text: str) -> Draft7Validator:
    return Draft7Validator(json_schema(json.loads(text)))


def _validator(schema: dict[str, Any]) -> Draft7Validator:
    """Built once per distinct schema (keyed by its text, not by the dict's identity)."""
    return _validator_for(json.dumps(schema, sort_keys=True))


def problem(schema: dict[str, Any], body: Any) -> str | None:
    """Why ``body`` breaks ``schema`` (the most relevant reason), or None if it fits."""
    try:
        error = best_match(_validator(schema).iter_errors(body))
    except RecursionError:
        return "the request body is nested too deeply"
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "body"
    message = error.message
    if len(message) > 160:  # it quotes the value: name the rule broken instead
        message = f"breaks {error.validator!r}: {error.validator_value!r}"[:160]
    return f"{where}: {message}"


def cut(body: Any, schema: dict[str, Any]) -> Any:
    """``body`` with every value the schema marks ``x-cut-to`` cut to its length."""
    if isinstance(body, str | list) and CUT in schema:
        body = body[: schema[CUT]]
    if isinstance(body, dict):
        properties = schema.get("properties", {})
        return {k: cut(v, properties[k]) if k in properties else v for k, v in body.items()}
    if isinstance(body, list) and isinstance(schema.get("items"), dict):
        return [cut(item, schema["items"]) for item in body]
    return body


def parse(schema: dict[str, Any], empty: dict[str, Any] | None = None) -> dict[str, Any]:
    """The request's JSON body, checked against ``schema`` and cut where it says.

    ``empty``: what an empty body means; None refuses it.
    """
    data = request.get_data(cache=True)
    if not data.strip():
        if empty is None:
            raise StoreError("expected a JSON object in the request body")
        return dict(empty)
    if not request.is_json:
        raise StoreError("send the body as JSON, with Content-Type: application/json")
    try:
        body = json.loads(data)
    except RecursionError:
        raise StoreError("the request body is nested too deeply") from None
    except ValueError as error:
        raise StoreError(f"the request body is not valid JSON ({error})") from None
    reason = problem(schema, body)
    if reason:
        raise StoreError(reason)
    return cut(body, schema)
