"""Checks on custom object bodies and schemas that never recurse on untrusted input.

A body is refused by size before it is parsed and by nesting depth before `json.loads`
sees it (CPython's decoder recurses and would raise RecursionError on deep input).
"""

import json
import math
import re
from typing import Any

from jsonschema import exceptions as js_exceptions
from jsonschema import validators as js_validators

from customobjects.models import HARD_MAX_DEPTH, CustomObjectType
from portal.lrapi.errors import LRError

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]")
MAX_REPORTED_ERRORS = 50
json_loads = json.loads  # the one place a request body is decoded


def text_nesting_depth(text: str, *, stop_above: int = HARD_MAX_DEPTH) -> int:
    """Deepest `[`/`{` nesting of a JSON text, counted without parsing it.

    Stops counting once `stop_above` is exceeded, so a hostile body costs one regex pass.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    return deepest
        else:
            depth -= 1
    return deepest


def value_depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (an object or array counts one level), iteratively."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def unstorable_reason(value: Any) -> str | None:
    """Why a parsed JSON value cannot be stored as JSONB (NUL characters, lone surrogates,
    NaN or infinite numbers), or None; checked iteratively."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                stack.append(key)
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return "Text must not contain the NUL character (\\u0000)."
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "Text must be valid Unicode (no lone surrogates)."
        elif isinstance(item, float) and not math.isfinite(item):
            return "Numbers must be finite."
    return None


def encoded_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def parse_json_text(raw: bytes, *, invalid_code: int) -> Any:
    """Parse a request body already known to fit the size cap; deep nesting is refused first."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LRError(invalid_code) from exc
    if text_nesting_depth(text) > HARD_MAX_DEPTH:
        raise LRError(1002, f"The JSON nests deeper than {HARD_MAX_DEPTH} levels.")
    try:
        return json_loads(text)
    except (ValueError, RecursionError) as exc:
        raise LRError(invalid_code) from exc


def _pointer(parts) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def schema_check(schema: Any) -> None:
    """Refuse a JSON Schema that is itself invalid (1134, FieldName `schema...`)."""
    if schema is None:
        return
    if not isinstance(schema, (dict, bool)):
        raise LRError(1134, errors=[{"FieldName": "schema", "ErrorMessage": "A JSON Schema must be an object or a boolean."}])
    if value_depth(schema) > HARD_MAX_DEPTH:
        raise LRError(1134, errors=[{"FieldName": "schema", "ErrorMessage": f"The schema nests deeper than {HARD_MAX_DEPTH} levels."}])
    reason = unstorable_reason(schema)
    if reason:
        raise LRError(1134, errors=[{"FieldName": "schema", "ErrorMessage": reason}])
    cls = js_validators.validator_for(schema, default=js_validators.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except js_exceptions.SchemaError as exc:
        raise LRError(
            1134,
            errors=[{"FieldName": "schema" + _pointer(exc.absolute_path), "ErrorMessage": exc.message}],
        ) from exc


def record_data_check(object_type: CustomObjectType, data: Any) -> None:
    """A record body must be a JSON object within the type's depth and size limits and
    satisfy its schema: 1035, 1002, 1134 with the failing fields as JSON pointers."""
    if not isinstance(data, dict):
        raise LRError(1035)
    reason = unstorable_reason(data)
    if reason:
        raise LRError(1035, f"The custom object is not storable JSON: {reason}")
    depth = value_depth(data)
    if depth > object_type.max_depth:
        raise LRError(1002, f"The custom object nests {depth} levels; the limit of {object_type.name} is {object_type.max_depth}.")
    size = encoded_size(data)
    if size > object_type.max_bytes:
        raise LRError(1002, f"The custom object takes {size} bytes; the limit of {object_type.name} is {object_type.max_bytes}.")
    if object_type.schema is None:
        return
    cls = js_validators.validator_for(object_type.schema, default=js_validators.Draft202012Validator)
    validator = cls(object_type.schema, format_checker=cls.FORMAT_CHECKER)
    errors = []
    try:
        for error in sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message)):
            errors.extend(_describe(error))
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
    except Exception as exc:  # an unresolvable $ref, a broken pattern: the schema's fault, not a 500
        raise LRError(1134, errors=[{"FieldName": "", "ErrorMessage": f"The schema of {object_type.name} could not be evaluated."}]) from exc
    if errors:
        raise LRError(1134, errors=errors[:MAX_REPORTED_ERRORS])


def _describe(error) -> list[dict[str, str]]:
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            return [
                {"FieldName": _pointer([*path, name]), "ErrorMessage": f"The {name} field is required."}
                for name in missing
            ]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        extras = _extra_properties(error)
        if extras:
            return [
                {"FieldName": _pointer([*path, name]), "ErrorMessage": "Additional properties are not allowed."}
                for name in extras
            ]
    return [{"FieldName": _pointer(path), "ErrorMessage": error.message}]


def _extra_properties(error) -> list[str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    known = set(schema.get("properties", {}) or {})
    patterns = [re.compile(p) for p in (schema.get("patternProperties", {}) or {})]
    return [
        name for name in error.instance
        if name not in known and not any(p.search(name) for p in patterns)
    ]
