"""The `fields` query parameter: `a,b`, `a/b`, `a(b,c)` and `*`, matched case-insensitively."""

from typing import Any

Spec = dict[str, "Spec"] | None  # None = keep the whole value


def parse_fields(text: str) -> Spec:
    """Parse a fields expression into a tree; `None` means "everything"."""
    text = (text or "").strip()
    if not text or text == "*":
        return None
    tree: dict[str, Spec] = {}
    for part in _split_top_level(text):
        _merge(tree, _parse_part(part.strip()))
    return tree


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _parse_part(part: str) -> dict[str, Spec]:
    if "(" in part and part.endswith(")"):
        name, _, inner = part.partition("(")
        head = _parse_path(name.strip())
        _leaf_set(head, parse_fields(inner[:-1]))
        return head
    return _parse_path(part)


def _parse_path(path: str) -> dict[str, Spec]:
    names = [n.strip().lower() for n in path.split("/") if n.strip()]
    tree: dict[str, Spec] = {}
    node = tree
    for name in names[:-1]:
        child: dict[str, Spec] = {}
        node[name] = child
        node = child
    if names:
        node[names[-1]] = None
    return tree


def _leaf_set(tree: dict[str, Spec], value: Spec) -> None:
    node: Any = tree
    while True:
        ((key, child),) = node.items()
        if child is None:
            node[key] = value
            return
        node = child


def _merge(into: dict[str, Spec], other: dict[str, Spec]) -> None:
    for key, value in other.items():
        if key in into and isinstance(into[key], dict) and isinstance(value, dict):
            _merge(into[key], value)
        elif key in into and (into[key] is None or value is None):
            into[key] = None
        else:
            into[key] = value


def project(data: Any, spec: Spec) -> Any:
    if spec is None:
        return data
    if isinstance(data, list):
        return [project(item, spec) for item in data]
    if not isinstance(data, dict):
        return data
    result = {}
    for key, value in data.items():
        lowered = str(key).lower()
        if lowered in spec:
            result[key] = project(value, spec[lowered])
    return result


def apply_fields(data: Any, fields: str | None) -> Any:
    return data if not fields else project(data, parse_fields(fields))
