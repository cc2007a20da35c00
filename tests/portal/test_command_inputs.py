"""What a state-changing service takes (portal/commands.py, portal/events.py).

Every command (`@events.emits`) and flow (`@events.flow`) takes a typed command as its first
parameter, named `command` and annotated with a registered Command type, so an approval or a
bulk job can store it and run it later. The exception is a service whose input is a live
proof checked now (a one-time code, a password, a passkey assertion, a refresh token): it is
declared with `proof=True`, keeps keyword inputs, and takes no command, since a stored proof
would be a replay.
"""

import importlib
import inspect
import pkgutil
import typing
from collections.abc import Callable

from portal import events
from portal.commands import Command, registered_commands
from tests.portal.service_packages import SERVICE_PACKAGES


def _load_services() -> None:
    for name in SERVICE_PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(getattr(package, "__path__", []), f"{name}."):
            importlib.import_module(info.name)


def _function(declaration: events.Declaration) -> Callable:
    module_name, _, qualname = declaration.function.rpartition(".")
    value: typing.Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        value = getattr(value, part)
    return value


def _parameters(function: Callable) -> list[str]:
    return list(inspect.signature(function).parameters)


def _takes_a_command(function: Callable) -> bool:
    """Whether the first parameter is `command`, annotated with a registered Command type."""
    parameters = list(inspect.signature(function).parameters.values())
    if not parameters or parameters[0].name != "command":
        return False
    if parameters[0].kind not in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        return False
    hint = typing.get_type_hints(inspect.unwrap(function)).get("command")
    registered = set(registered_commands().values())
    return isinstance(hint, type) and issubclass(hint, Command) and hint in registered


def _in_services(name: str) -> bool:
    return any(name.startswith(f"{package}.") for package in SERVICE_PACKAGES)


def _changing() -> dict[str, events.Declaration]:
    """Every command and flow of the services packages, by dotted name (declarations made
    elsewhere join the registry only when their module happens to be imported)."""
    _load_services()
    return {
        name: declaration
        for name, declaration in events.declarations().items()
        if declaration.kind in (events.SERVICE, events.FLOW) and _in_services(name)
    }


def test_every_command_and_flow_takes_a_typed_command_or_a_live_proof():
    declared = _changing()
    missing = sorted(
        name
        for name, declaration in declared.items()
        if not declaration.proof and not _takes_a_command(_function(declaration))
    )
    assert not missing, (
        "take a registered command as the first parameter `command` (or, when the input is "
        f"a live proof checked now, declare proof=True): {missing}"
    )


def test_a_proof_is_taken_as_keywords_and_never_as_a_command():
    proofs = {name: d for name, d in _changing().items() if d.proof}
    assert proofs  # sign-in, reauthentication, refresh ...
    with_command = sorted(
        name for name, d in proofs.items() if "command" in _parameters(_function(d))
    )
    assert not with_command, f"a live proof is never a stored command: {with_command}"


def test_a_declaration_records_whether_its_input_is_a_proof(monkeypatch):
    monkeypatch.setattr(events, "_DECLARATIONS", dict(events.declarations()))

    @events.emits("tenant.updated", proof=True)
    def checked(*, code: str) -> None:
        """A command whose input is a live proof."""

    @events.flow(proof=True)
    def signing_in(*, password: str) -> None:
        """A flow whose input is a live proof."""

    @events.emits("tenant.updated")
    def stored(command: Command) -> None:
        """A command taking a command."""

    @events.flow()
    def spanning(command: Command) -> None:
        """A flow taking a command."""

    proof = {
        f.__name__: getattr(events.declaration(f), "proof", None)
        for f in (checked, signing_in, stored, spanning)
    }
    assert proof == {"checked": True, "signing_in": True, "stored": False, "spanning": False}
