"""Typed commands serialise to JSON and back without loss, and stored commands never hold
their secret fields in clear (portal/commands.py)."""

import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from portal.commands import SEALED, Command, command, registered_commands, secret


@dataclass(frozen=True)
class Window:
    starts: datetime
    hours: int = 1


@command("commandtest.example")
@dataclass(frozen=True)
class ExampleCommand(Command):
    uid: str
    names: tuple[str, ...] = ()
    window: Window | None = None
    answers: dict[str, str] | None = secret(default=None)
    password: str | None = secret(default=None)
    expected_version: int | None = None

    @classmethod
    def example(cls) -> "ExampleCommand":
        return cls(
            uid="a1",
            names=("x", "y"),
            window=Window(starts=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), hours=3),
            answers={"q1": "paris"},
            password="S3cret-value!",
            expected_version=7,
        )


@pytest.mark.parametrize("name", sorted(registered_commands()))
@pytest.mark.parametrize("seal", [False, True])
def test_every_command_type_round_trips_through_json(name, seal):
    kind = registered_commands()[name]
    original = kind.example()
    stored = json.loads(json.dumps(original.to_json(seal=seal)))
    assert stored["type"] == name
    assert Command.from_json(stored) == original
    assert kind.from_json(stored) == original


def test_a_sealed_command_holds_no_secret_in_clear():
    original = ExampleCommand.example()
    text = json.dumps(original.to_json(seal=True))
    assert "S3cret-value!" not in text and "paris" not in text
    assert "a1" in text  # ordinary fields stay readable
    assert "S3cret-value!" in json.dumps(original.to_json())


def test_an_unknown_or_mismatched_command_type_is_refused():
    with pytest.raises(ValueError):
        Command.from_json({"type": "nothing.such", "data": {}})

    class Other(Command):
        pass

    with pytest.raises(ValueError):
        Other.from_json(ExampleCommand.example().to_json())


def test_naive_datetimes_and_foreign_values_are_refused():
    with pytest.raises(ValueError):
        ExampleCommand(uid="a", window=Window(starts=datetime(2026, 1, 1))).to_json()
    with pytest.raises(TypeError):
        ExampleCommand(uid="a", names=(object(),)).to_json()


def test_only_frozen_command_dataclasses_with_an_example_register():
    with pytest.raises(TypeError):

        @command("commandtest.mutable")
        @dataclass
        class Mutable(Command):
            uid: str

            @classmethod
            def example(cls):
                return cls(uid="a")

    with pytest.raises(TypeError):

        @command("commandtest.no_example")
        @dataclass(frozen=True)
        class NoExample(Command):
            uid: str


@pytest.mark.parametrize("name", sorted(registered_commands()))
def test_no_registered_command_stores_a_secret_field_in_clear(name):
    kind = registered_commands()[name]
    original = kind.example()
    sealed = original.to_json(seal=True)["data"]
    for item in dataclasses.fields(kind):
        value = getattr(original, item.name)
        if item.metadata.get("secret") and value is not None:
            assert sealed[item.name].startswith(SEALED), (name, item.name)
            assert json.dumps(value) not in json.dumps(sealed), (name, item.name)


@pytest.mark.parametrize("seal", [False, True])
def test_reason_preset_commands_round_trip_through_json(seal):
    from portal.reason_presets import ReasonPresetCreate, ReasonPresetDelete, ReasonPresetUpdate

    for kind in (ReasonPresetCreate, ReasonPresetUpdate, ReasonPresetDelete):
        original = kind.example()
        stored = json.loads(json.dumps(original.to_json(seal=seal)))
        assert stored["type"] == kind.command_type
        assert Command.from_json(stored) == original
        assert kind.from_json(stored) == original
