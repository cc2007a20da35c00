"""Reason presets: the per-tenant reasons (macros) staff pick from when they act on an account,
managed by the tenant's admins. Their commands, and the services that write them.

A preset only fills the reason field; the action's audit row records the text itself, so a
preset changed or removed later never rewrites the history."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from portal import audit, events
from portal.audit import Actor
from portal.commands import Command, command
from portal.errors import FieldError, InvalidInput
from portal.models import ReasonPreset, Tenant

# How many presets one tenant keeps: a list to pick from, not a knowledge base.
PRESETS_PER_TENANT = 50


@command("reason_preset.create")
@dataclass(frozen=True)
class ReasonPresetCreate(Command):
    """A new preset of the tenant: `label` names it in the picker, `text` is the reason."""

    label: str
    text: str
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "ReasonPresetCreate":
        return cls(
            label="Lost phone",
            text="Lost phone; identity checked on a video call.",
            reason="common request",
            ticket="OPS-40",
        )


@command("reason_preset.update")
@dataclass(frozen=True)
class ReasonPresetUpdate(Command):
    """New label and text for one preset of the tenant."""

    preset_id: int
    label: str
    text: str
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "ReasonPresetUpdate":
        return cls(
            preset_id=3,
            label="Lost phone",
            text="Lost phone; identity checked with two security questions.",
            ticket="OPS-41",
        )


@command("reason_preset.delete")
@dataclass(frozen=True)
class ReasonPresetDelete(Command):
    """Remove one preset of the tenant (past actions keep the text they recorded)."""

    preset_id: int
    reason: str = ""
    ticket: str = ""

    @classmethod
    def example(cls) -> "ReasonPresetDelete":
        return cls(preset_id=3, reason="no longer used", ticket="OPS-42")


def _checked(*, tenant: Tenant, label: str, text: str, exclude_id: int | None = None):
    """The label and text trimmed, or InvalidInput naming every field that fails."""
    label, text = label.strip(), text.strip()
    problems = []
    if not label:
        problems.append(FieldError("label", "Give the preset a label.", "required"))
    elif len(label) > ReasonPreset.LABEL_MAX_LENGTH:
        problems.append(
            FieldError(
                "label",
                f"A label of at most {ReasonPreset.LABEL_MAX_LENGTH} characters.",
                "invalid",
            )
        )
    else:
        taken = ReasonPreset.objects.filter(tenant=tenant, label__iexact=label)
        if exclude_id is not None:
            taken = taken.exclude(pk=exclude_id)
        if taken.exists():
            problems.append(
                FieldError("label", f"This tenant already has a preset named “{label}”.", "taken")
            )
    if not text:
        problems.append(FieldError("text", "Write the reason the preset fills in.", "required"))
    elif len(text) > ReasonPreset.TEXT_MAX_LENGTH:
        problems.append(
            FieldError(
                "text", f"A reason of at most {ReasonPreset.TEXT_MAX_LENGTH} characters.", "invalid"
            )
        )
    if problems:
        raise InvalidInput("The preset was not saved.", field_errors=problems)
    return label, text


def _preset(*, tenant: Tenant, preset_id: int) -> ReasonPreset:
    """The tenant's preset, locked for the change; another tenant's is "not found"."""
    preset = ReasonPreset.objects.select_for_update().filter(tenant=tenant, pk=preset_id).first()
    if preset is None:
        raise InvalidInput(
            "No such reason preset.",
            field_errors=[FieldError("preset_id", "No such reason preset.", "not_found")],
        )
    return preset


@events.reads
def reason_preset_list(*, tenant: Tenant) -> QuerySet[ReasonPreset]:
    """The tenant's presets, by label."""
    return ReasonPreset.objects.filter(tenant=tenant).order_by("label", "pk")


@transaction.atomic
@events.emits("reason_preset.created")
def reason_preset_create(
    command: ReasonPresetCreate, *, tenant: Tenant, actor: Actor
) -> ReasonPreset:
    """Add a preset to the tenant's list."""
    # Lock the tenant row so two admins adding at once cannot pass the limit together.
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
    label, text = _checked(tenant=tenant, label=command.label, text=command.text)
    if ReasonPreset.objects.filter(tenant=tenant).count() >= PRESETS_PER_TENANT:
        raise InvalidInput(
            f"A tenant keeps at most {PRESETS_PER_TENANT} presets: remove one first.",
            field_errors=[FieldError("label", "Too many presets.", "limit")],
        )
    try:
        with transaction.atomic():
            preset = ReasonPreset.objects.create(tenant=tenant, label=label, text=text)
    except IntegrityError as error:  # the same label, added a moment ago by someone else
        raise InvalidInput(
            "The preset was not saved.",
            field_errors=[FieldError("label", "This label was just taken.", "taken")],
        ) from error
    audit.record(
        tenant=tenant,
        actor=actor,
        action="reason_preset.created",
        reason=command.reason,
        ticket=command.ticket,
        changes={"preset": preset.pk, "label": [None, label], "text": [None, text]},
    )
    return preset


@transaction.atomic
@events.emits("reason_preset.updated")
def reason_preset_update(
    command: ReasonPresetUpdate, *, tenant: Tenant, actor: Actor
) -> ReasonPreset:
    """Change a preset's label and text; an unchanged preset is refused (nothing to record)."""
    preset = _preset(tenant=tenant, preset_id=command.preset_id)
    label, text = _checked(
        tenant=tenant, label=command.label, text=command.text, exclude_id=preset.pk
    )
    changes = audit.diff(
        {"label": preset.label, "text": preset.text}, {"label": label, "text": text}
    )
    if not changes:
        raise InvalidInput(
            "Nothing changed: edit the label or the text.",
            field_errors=[FieldError("text", "Nothing changed.", "unchanged")],
        )
    preset.label, preset.text = label, text
    preset.save(update_fields=["label", "text", "updated"])
    audit.record(
        tenant=tenant,
        actor=actor,
        action="reason_preset.updated",
        reason=command.reason,
        ticket=command.ticket,
        changes={"preset": preset.pk, **changes},
    )
    return preset


@transaction.atomic
@events.emits("reason_preset.deleted")
def reason_preset_delete(command: ReasonPresetDelete, *, tenant: Tenant, actor: Actor) -> None:
    """Remove a preset from the tenant's list."""
    preset = _preset(tenant=tenant, preset_id=command.preset_id)
    before = {"label": preset.label, "text": preset.text}
    preset_id = preset.pk
    preset.delete()
    audit.record(
        tenant=tenant,
        actor=actor,
        action="reason_preset.deleted",
        reason=command.reason,
        ticket=command.ticket,
        changes={"preset": preset_id, **audit.diff(before, {})},
    )
