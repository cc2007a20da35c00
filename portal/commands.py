"""Typed commands: the input of a state-changing service, as data.

A front door (LoginRadius view, native API, console form, management command) parses its
own wire format into a command; the service takes the command. Because a command is data,
it can be stored and run later: an approval executes it, a bulk job runs it per row, a
restore builds the reverse one. So every command type:

- is a frozen dataclass registered under a stable name (`@command("account.secure")`);
- serialises to JSON and back without loss (`to_json` / `from_json`): strings, numbers,
  booleans, None, datetimes (RFC 3339), tuples of those, and nested dataclasses;
- marks secret fields (a new password, security answers, a seed) with `secret()`, which
  `to_json(seal=True)` encrypts so a stored command never holds them in clear;
- may carry `expected_version`, which the service compares with the record's version to
  refuse a stale command.
"""

import dataclasses
import json
import types
import typing
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from portal import crypto

SEALED = "sealed:"

_COMMANDS: dict[str, type] = {}
T = TypeVar("T")


class Command:
    """Base of every command type (for the type name and the serialisation). Each type
    offers `example()`, a filled-in instance the round-trip test serialises."""

    command_type: ClassVar[str] = ""
    example: ClassVar[typing.Callable[[], "Command"]]

    def to_json(self, *, seal: bool = False) -> dict[str, Any]:
        """`{"type": ..., "data": {...}}`; with `seal`, secret fields are encrypted."""
        return {"type": self.command_type, "data": _dump(self, seal=seal)}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> "Command":
        """The command `to_json` made (sealed or not), of the registered type it names."""
        kind = _COMMANDS.get(value.get("type", ""))
        if kind is None:
            raise ValueError(f"unknown command type {value.get('type')!r}")
        if cls is not Command and not issubclass(kind, cls):
            raise ValueError(f"{value['type']!r} is not a {cls.__name__}")
        return _load(kind, value.get("data") or {})


def secret(*, default: Any = dataclasses.MISSING) -> Any:
    """A command field whose value is encrypted whenever the command is stored."""
    return dataclasses.field(default=default, metadata={"secret": True})


def command(name: str):
    """Register a frozen dataclass as the command type `name`."""

    def register(cls: type[T]) -> type[T]:
        if (
            not issubclass(cls, Command)
            or not dataclasses.is_dataclass(cls)
            or not cls.__dataclass_params__.frozen
        ):
            raise TypeError(f"{cls.__name__} must be a frozen dataclass deriving from Command")
        if not callable(getattr(cls, "example", None)):
            raise TypeError(f"{cls.__name__} must offer example(): the round-trip test builds one")
        if name in _COMMANDS and _COMMANDS[name] is not cls:
            raise ValueError(f"command type {name!r} is registered twice")
        cls.command_type = name
        _COMMANDS[name] = cls
        return cls

    return register


def registered_commands() -> dict[str, type]:
    return dict(_COMMANDS)


def _dump(obj: Any, *, seal: bool) -> dict[str, Any]:
    data = {}
    for item in dataclasses.fields(obj):
        value = _plain(getattr(obj, item.name), seal=seal)
        if seal and item.metadata.get("secret") and value is not None:
            value = SEALED + crypto.encrypt(json.dumps(value))
        data[item.name] = value
    return data


def _plain(value: Any, *, seal: bool) -> Any:
    if dataclasses.is_dataclass(value):
        return _dump(value, seal=seal)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("command datetimes must be aware (UTC)")
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v, seal=seal) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, seal=seal) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"a command cannot carry {type(value).__name__}")


def _load(kind: type, data: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(kind)
    values = {}
    for item in dataclasses.fields(kind):
        if item.name not in data:
            continue
        value = data[item.name]
        if isinstance(value, str) and value.startswith(SEALED) and item.metadata.get("secret"):
            value = json.loads(crypto.decrypt(value[len(SEALED) :]))
        values[item.name] = _typed(hints[item.name], value)
    return kind(**values)


def _typed(hint: Any, value: Any) -> Any:
    """`value` (plain JSON) as the type `hint` asks for."""
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _typed(options[0], value) if len(options) == 1 else value
    if hint is datetime:
        return datetime.fromisoformat(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _load(hint, value)
    if origin is tuple:
        args = typing.get_args(hint)
        inner = args[0] if args else Any
        return tuple(_typed(inner, v) for v in value)
    if origin is dict:
        _, inner = typing.get_args(hint) or (str, Any)
        return {k: _typed(inner, v) for k, v in value.items()}
    return value
