"""What every account action is made of: its declaration, the context its run receives, the
reason form it extends, and the few helpers every run and view shares."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms

from accounts.models import Account
from approvals.commands import ApprovalRequestCreate
from approvals.policy import GATES, approval_needed
from approvals.services import approval_request
from portal.console import display
from portal.console.display import person_name
from portal.console.forms import ReasonForm
from portal.errors import DomainError
from portal.lrapi.errors import LRError


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def error_text(error: LRError | DomainError) -> str:
    """What the section said, as one sentence a person can act on."""
    # Masked for a reader who sees people masked: a sentence may quote an address or number.
    if isinstance(error, DomainError):
        return display.text_shown(error.sentence())
    details = [e.get("ErrorMessage", "") for e in (error.errors or []) if isinstance(e, dict)]
    text = error.description or error.message or "The request was refused."
    return display.text_shown(" ".join([text, *[d for d in details if d]]))


@dataclass
class Secret:
    """Something shown once, on a page that is never cached (tokens, backup codes)."""

    title: str
    explain: str
    values: list[tuple[str, str]]


@dataclass
class Ctx:
    tenant: Any
    account: Account
    actor: Any
    data: dict
    reason: str
    ticket: str


def reason_and_ticket(ctx: Ctx) -> dict:
    """The reason and ticket every service records with its audit event."""
    return {"reason": ctx.reason, "ticket": ctx.ticket}


def account_call(ctx: Ctx) -> dict:
    """The keyword arguments of a service acting on the account: who, where, on whom, why."""
    return {
        "tenant": ctx.tenant,
        "actor": ctx.actor,
        "account": ctx.account,
        **reason_and_ticket(ctx),
    }


def on_account(ctx: Ctx) -> dict:
    """Who acts, where and on whom: the keyword arguments beside a service's command."""
    return {"tenant": ctx.tenant, "actor": ctx.actor, "account": ctx.account}


class Held(Exception):
    """The tenant holds this action for a second person: `request` waits for approval."""

    def __init__(self, request: Any):
        super().__init__(f"held for approval as request {request.pk}")
        self.request = request


def run_or_hold(ctx: Ctx, service: Callable[..., Any], command: Any) -> Any:
    """Run `command` through `service` on the account, unless a gate of the tenant's
    approval policy holds it: then it is stored as an approval request (raising `Held`),
    and it runs once someone else approves it (approvals.services)."""
    gate = approval_needed(command, tenant=ctx.tenant)
    if gate is None:
        return service(command, **on_account(ctx))
    # The stored request names the account as it is, whoever asked (a stored text).
    with display.masking_bound(display.FULL):
        stored_name = person_name(ctx.account)
    request = approval_request(
        ApprovalRequestCreate(
            gate=gate,
            command=command.to_json(seal=True),
            account_uid=ctx.account.uid,
            summary=f"{GATES[gate]}: {stored_name}",
            reason=ctx.reason,
            ticket=ctx.ticket,
        ),
        tenant=ctx.tenant,
        actor=ctx.actor,
    )
    raise Held(request)


def run_command(
    service: Callable[..., Any], command_type: Callable[..., Any]
) -> Callable[[Ctx], None]:
    """The run of an action whose command needs nothing but the reason and ticket."""

    def run(ctx: Ctx) -> None:
        run_or_hold(ctx, service, command_type(reason=ctx.reason, ticket=ctx.ticket))

    return run


def run_on_account(service: Callable[..., Any]) -> Callable[[Ctx], None]:
    """The run of an action whose service needs nothing but the account and the reason."""

    def run(ctx: Ctx) -> None:
        service(**account_call(ctx))

    return run


def point_at_errors(form: forms.Form) -> None:
    """Point each invalid field at its error message (`<id>_error`, as the console's field
    template names it) as well as at its help, for screen readers."""
    for name in form.errors:
        if name not in form.fields:
            continue
        bound = form[name]
        ids = [f"{bound.auto_id}_error"]
        if bound.help_text:
            ids.insert(0, f"{bound.auto_id}_helptext")
        form.fields[name].widget.attrs["aria-describedby"] = " ".join(ids)


# Fields every action form has, after what the action itself needs.
REASON_FIELDS = ("preset", "reason", "ticket", "confirmed")


class ActionForm(ReasonForm):
    """The reason form, knowing the account it acts on (for choices and checks), with the
    tenant's reason presets to pick from: a picked preset fills an empty reason."""

    field_order = None

    def __init__(self, data=None, *args, account: Account, tenant, presets=(), **kwargs):
        self.presets = {preset.pk: preset for preset in presets}
        if data is not None and self.presets and not (data.get("reason") or "").strip():
            # Without script the picker still works: the preset's text is the reason.
            chosen = self.presets.get(_as_int(data.get("preset")))
            if chosen is not None:
                data = data.copy()
                data["reason"] = chosen.text
        super().__init__(data, *args, **kwargs)
        self.account = account
        self.tenant = tenant
        self.fields["reason"].error_messages["required"] = (
            "This field is required: say why, or pick a preset."
        )
        if self.presets:
            self.fields["preset"] = forms.TypedChoiceField(
                label="Reason preset",
                required=False,
                coerce=int,
                empty_value=None,
                choices=[("", "Choose a preset…")]
                + [(pk, preset.label) for pk, preset in self.presets.items()],
                help_text="Fills in the reason; you can still edit it.",
            )
        self.setup()
        # Reason and ticket come last, after what the action needs.
        order = [n for n in self.fields if n not in REASON_FIELDS]
        self.order_fields([*order, *REASON_FIELDS])

    def preset_options(self) -> list[tuple[str, str, str, bool]]:
        """The picker's options: value, label, the text the page's script fills in, and
        whether it is the one picked."""
        picked = str(self["preset"].value() or "") if "preset" in self.fields else ""
        return [
            (str(pk), preset.label, preset.text, str(pk) == picked)
            for pk, preset in self.presets.items()
        ]

    def describe_errors(self) -> None:
        point_at_errors(self)

    def setup(self) -> None:
        pass

    @classmethod
    def initial_from(cls, initial: dict, *, account: Account, query) -> dict:
        """Initial values beyond the target the account page picked (`query` is request.GET)."""
        return initial

    def run_data(self) -> dict:
        """The data the action's run needs, from the valid form."""
        return dict(self.cleaned_data)

    def summary(self) -> list[tuple[str, str]]:
        """What the confirmation repeats back: every field but the preset, reason, ticket,
        confirmed and the hidden ones (the version the form was read at)."""
        rows = []
        for name, f in self.fields.items():
            if name in REASON_FIELDS or f.widget.is_hidden:
                continue
            value = self.cleaned_data.get(name)
            if isinstance(f, forms.ChoiceField) and not isinstance(f, forms.MultipleChoiceField):
                value = dict(f.choices).get(value, value)
            elif isinstance(value, list | tuple):
                value = ", ".join(str(v) for v in value) or "—"
            elif isinstance(value, bool):
                value = "yes" if value else "no"
            shown = "—" if value in (None, "") else display.field_value_shown(name, str(value))
            rows.append((str(f.label), display.text_shown(str(shown))))
        return rows


@dataclass
class AccountAction:
    name: str
    title: str
    button: str
    explain: str
    done: str
    permission: str
    run: Callable[[Ctx], Any]
    form: type[ActionForm] = ActionForm
    danger: bool = False
    applies: Callable[[Account], bool] = lambda a: True
    not_applicable: str = ""
    # Where the account page offers it: "header" (the action bar) or a section name.
    place: str = "header"
    # Query parameters that pick the target (an email, a session, a record...).
    target: tuple[str, ...] = field(default_factory=tuple)
    after_url: str = "detail"

    def initial(self, *, account: Account, query) -> dict:
        """The form's initial values: the target picked on the account page, and what the form
        adds from the account (a record's current data, a context's expiry...)."""
        initial = {name: query.get(name) for name in self.target if query.get(name)}
        return self.form.initial_from(initial, account=account, query=query)
