"""Checks on custom object bodies and schemas that never recurse on untrusted input.

A body is refused by size before it is parsed and by nesting depth before `json.loads`
sees it (CPython's decoder recurses and would raise RecursionError on deep input).

Schema patterns (`pattern`, `patternProperties`, and the `additionalProperties` that
depends on them) run on RE2, whose matching time is linear in the input: a tenant's
`^(a+)+$` cannot make a request backtrack for minutes. A pattern RE2 cannot compile
(backreferences, lookarounds) is refused when the type is saved.
"""

import functools
import json
import math
import re
from typing import Any

import re2
from jsonschema import exceptions as js_exceptions
from jsonschema import validators as js_validators

from customobjects.models import HARD_MAX_DEPTH, CustomObjectType
from portal.errors import (
    CustomObjectDataInvalid,
    CustomObjectNotAnObject,
    CustomObjectSchemaInvalid,
    CustomObjectTooLarge,
    FieldError,
    MalformedJSON,
)

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


def parse_json_text(raw: bytes) -> Any:
    """Parse a request body already known to fit the size cap; deep nesting is refused
    first (CustomObjectTooLarge), undecodable text is MalformedJSON."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedJSON() from exc
    if text_nesting_depth(text) > HARD_MAX_DEPTH:
        raise CustomObjectTooLarge(f"The JSON nests deeper than {HARD_MAX_DEPTH} levels.")
    try:
        return json_loads(text)
    except (ValueError, RecursionError) as exc:
        raise MalformedJSON() from exc


def _pointer(parts) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


# ----------------------------------------------------------------- linear-time schema patterns

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
# Keywords whose value is one subschema, a list of them, or a name -> subschema map (all drafts).
_SUBSCHEMA = (
    "additionalProperties",
    "additionalItems",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "items",
    "contentSchema",
)
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
_SUBSCHEMA_MAPS = (
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
    "dependencies",
)


class UnsafePattern(ValueError):
    """A schema pattern the linear-time engine cannot run."""


@functools.lru_cache(maxsize=1024)
def safe_regex(pattern: str):
    """The pattern compiled by RE2 (cached), or UnsafePattern."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else ""
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise UnsafePattern(str(detail) or "unsupported syntax") from None


def _schema_nodes(schema: Any):
    """(path, subschema) of every schema position (not the data inside `const`, `enum`,
    `default` or `examples`), walked without recursion."""
    stack = [(schema, [])]
    while stack:
        node, path = stack.pop()
        if not isinstance(node, dict):
            continue
        yield path, node
        for keyword in _SUBSCHEMA:
            if isinstance(node.get(keyword), dict):
                stack.append((node[keyword], [*path, keyword]))
        for keyword in _SUBSCHEMA_LISTS:
            if isinstance(node.get(keyword), list):
                stack.extend((child, [*path, keyword, i]) for i, child in enumerate(node[keyword]))
        for keyword in _SUBSCHEMA_MAPS:
            if isinstance(node.get(keyword), dict):
                stack.extend(
                    (child, [*path, keyword, name]) for name, child in node[keyword].items()
                )


def schema_pattern_problems(schema: Any) -> list[FieldError]:
    """The schema's patterns that cannot run safely, one field error each."""
    problems = []
    keywords = set()
    for path, node in _schema_nodes(schema):
        keywords.update(node)
        patterns = (
            [([*path, "pattern"], node["pattern"])] if isinstance(node.get("pattern"), str) else []
        )
        if isinstance(node.get("patternProperties"), dict):
            patterns += [
                ([*path, "patternProperties", key], key) for key in node["patternProperties"]
            ]
        for pattern_path, pattern in patterns:
            try:
                safe_regex(pattern)
            except UnsafePattern as exc:
                problems.append(
                    FieldError(
                        "schema" + _pointer(pattern_path),
                        f"The regular expression is not supported ({exc}): backreferences and "
                        "lookarounds cannot be used.",
                    )
                )
    if not problems and {"unevaluatedProperties", "patternProperties"} <= keywords:
        # jsonschema evaluates patternProperties with Python's backtracking engine there.
        problems.append(
            FieldError(
                "schema",
                "unevaluatedProperties cannot be combined with "
                "patternProperties; use additionalProperties instead.",
            )
        )
    return problems


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not safe_regex(pattern).search(instance):
        yield js_exceptions.ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, pattern_properties, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        regex = safe_regex(pattern)
        for name, value in instance.items():
            if regex.search(name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _additional_properties(validator, additional, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    extras = set(_extra_names(instance, schema))
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        yield js_exceptions.ValidationError(
            "Additional properties are not allowed ("
            + ", ".join(repr(e) for e in sorted(extras))
            + " unexpected)"
        )


def _extra_names(instance: dict, schema: dict):
    known = schema.get("properties", {}) or {}
    patterns = [safe_regex(p) for p in (schema.get("patternProperties", {}) or {})]
    for name in instance:
        if name not in known and not any(p.search(name) for p in patterns):
            yield name


@functools.cache
def _safe_validator_class(cls):
    """The draft's validator class with the pattern keywords running on RE2."""
    return js_validators.extend(
        cls,
        {
            "pattern": _pattern,
            "patternProperties": _pattern_properties,
            "additionalProperties": _additional_properties,
        },
    )


def schema_check(schema: Any) -> None:
    """Refuse a JSON Schema that is itself invalid (field errors named `schema...`)."""
    if schema is None:
        return
    if not isinstance(schema, (dict, bool)):
        raise _schema_invalid("schema", "A JSON Schema must be an object or a boolean.")
    if value_depth(schema) > HARD_MAX_DEPTH:
        raise _schema_invalid("schema", f"The schema nests deeper than {HARD_MAX_DEPTH} levels.")
    reason = unstorable_reason(schema)
    if reason:
        raise _schema_invalid("schema", reason)
    cls = js_validators.validator_for(schema, default=js_validators.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except js_exceptions.SchemaError as exc:
        raise _schema_invalid("schema" + _pointer(exc.absolute_path), exc.message) from exc
    problems = schema_pattern_problems(schema)
    if problems:
        raise CustomObjectSchemaInvalid(field_errors=problems[:MAX_REPORTED_ERRORS])


def record_data_check(object_type: CustomObjectType, data: Any) -> None:
    """A record body must be a JSON object within the type's depth and size limits and
    satisfy its schema; a schema failure names the failing fields by JSON pointer."""
    if not isinstance(data, dict):
        raise CustomObjectNotAnObject()
    reason = unstorable_reason(data)
    if reason:
        raise CustomObjectNotAnObject(f"The custom object is not storable JSON: {reason}")
    depth = value_depth(data)
    if depth > object_type.max_depth:
        raise CustomObjectTooLarge(
            f"The custom object nests {depth} levels; the limit of {object_type.name} is {object_type.max_depth}."
        )
    size = encoded_size(data)
    if size > object_type.max_bytes:
        raise CustomObjectTooLarge(
            f"The custom object takes {size} bytes; the limit of {object_type.name} is {object_type.max_bytes}."
        )
    if object_type.schema is None:
        return
    if schema_pattern_problems(object_type.schema):  # a schema stored before the pattern rule
        raise _schema_invalid("", f"The schema of {object_type.name} could not be evaluated.")
    cls = _safe_validator_class(
        js_validators.validator_for(object_type.schema, default=js_validators.Draft202012Validator)
    )
    validator = cls(object_type.schema, format_checker=cls.FORMAT_CHECKER)
    errors = []
    try:
        for error in sorted(
            validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message)
        ):
            errors.extend(_describe(error))
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
    except (
        Exception
    ) as exc:  # an unresolvable $ref, a broken pattern: the schema's fault, not a 500
        raise _schema_invalid(
            "", f"The schema of {object_type.name} could not be evaluated."
        ) from exc
    if errors:
        raise CustomObjectDataInvalid(field_errors=errors[:MAX_REPORTED_ERRORS])


def _schema_invalid(field: str, message: str) -> CustomObjectSchemaInvalid:
    return CustomObjectSchemaInvalid(field_errors=[FieldError(field, message)])


def _describe(error) -> list[FieldError]:
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            return [
                FieldError(_pointer([*path, name]), f"The {name} field is required.", "required")
                for name in missing
            ]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        extras = _extra_properties(error)
        if extras:
            return [
                FieldError(_pointer([*path, name]), "Additional properties are not allowed.")
                for name in extras
            ]
    return [FieldError(_pointer(path), error.message, str(error.validator))]


def _extra_properties(error) -> list[str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    return list(_extra_names(error.instance, schema))
