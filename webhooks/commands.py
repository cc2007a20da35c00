"""The typed commands of the webhook services (portal/commands.py). The endpoint a command
acts on is the service's context argument, like the tenant and the actor."""

from dataclasses import dataclass
from datetime import UTC, datetime

from portal.commands import Command, command


@command("webhook.create")
@dataclass(frozen=True)
class WebhookCreate(Command):
    """Register an endpoint (webhooks.services.webhook_create); its secret is made up."""

    url: str
    events: tuple[str, ...]
    description: str = ""
    format: str = "standard"
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "WebhookCreate":
        return cls(
            url="https://hooks.example.com/portal",
            events=("account.updated", "account.deleted"),
            description="CRM sync",
            format="loginradius",
            reason="new CRM",
            ticket="OPS-4",
        )


@command("webhook.update")
@dataclass(frozen=True)
class WebhookUpdate(Command):
    """Change what a merge patch names (None: left as it is)."""

    url: str | None = None
    events: tuple[str, ...] | None = None
    description: str | None = None
    enabled: bool | None = None
    format: str | None = None
    expected_version: str | None = None
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "WebhookUpdate":
        return cls(
            url="https://hooks.example.com/v2",
            events=("*",),
            description="",
            enabled=True,
            format="standard",
            expected_version="3",
            reason="moved",
        )


@command("webhook.delete")
@dataclass(frozen=True)
class WebhookDelete(Command):
    expected_version: str | None = None
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "WebhookDelete":
        return cls(expected_version="2", reason="CRM retired", ticket="OPS-9")


@command("webhook.rotate_secret")
@dataclass(frozen=True)
class WebhookSecretRotate(Command):
    """Replace the signing secret; the new one is made up and shown once."""

    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "WebhookSecretRotate":
        return cls(reason="secret leaked", ticket="SEC-2")


@command("webhook.replay")
@dataclass(frozen=True)
class WebhookReplay(Command):
    """Send again the events named (`event_ids`) or those since a moment (`since`), with
    their original ids."""

    event_ids: tuple[int, ...] = ()
    since: datetime | None = None
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "WebhookReplay":
        return cls(
            event_ids=(812, 813),
            since=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
            reason="receiver was down",
        )


@command("webhook.disable")
@dataclass(frozen=True)
class WebhookDisable(Command):
    """Switch off an endpoint that keeps failing (the relay does, as the system)."""

    reason: str = ""

    @classmethod
    def example(cls) -> "WebhookDisable":
        return cls(reason="every delivery failed for 24 hours")
