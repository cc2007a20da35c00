"""What every account action is made of: its declaration, the context its run receives, the
reason form it extends, and the few helpers every run and view shares."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms

from accounts.models import Account
from portal.console.forms import ReasonForm
from portal.errors import DomainError
from portal.lrapi.errors import LRError


def error_text(error: LRError | DomainError) -> str:
    """What the section said, as one sentence a person can act on."""
    if isinstance(error, DomainError):
        return error.sentence()
    details = [e.get("ErrorMessage", "") for e in (error.errors or []) if isinstance(e, dict)]
    text = error.description or error.message or "The request was refused."
    return " ".join([text, *[d for d in details if d]])


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


def run_command(
    service: Callable[..., Any], command_type: Callable[..., Any]
) -> Callable[[Ctx], None]:
    """The run of an action whose command needs nothing but the reason and ticket."""

    def run(ctx: Ctx) -> None:
        service(command_type(reason=ctx.reason, ticket=ctx.ticket), **on_account(ctx))

    return run


def run_on_account(service: Callable[..., Any]) -> Callable[[Ctx], None]:
    """The run of an action whose service needs nothing but the account and the reason."""

    def run(ctx: Ctx) -> None:
        service(**account_call(ctx))

    return run


class ActionForm(ReasonForm):
    """The reason form, knowing the account it acts on (for choices and checks)."""

    field_order = None

    def __init__(self, *args, account: Account, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        self.tenant = tenant
        self.setup()
        # Reason and ticket come last, after what the action needs.
        order = [n for n in self.fields if n not in ("reason", "ticket", "confirmed")]
        self.order_fields([*order, "reason", "ticket", "confirmed"])

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
        """What the confirmation repeats back: every field but reason, ticket, confirmed and
        the hidden ones (the version the form was read at)."""
        rows = []
        for name, f in self.fields.items():
            if name in ("reason", "ticket", "confirmed") or f.widget.is_hidden:
                continue
            value = self.cleaned_data.get(name)
            if isinstance(f, forms.ChoiceField) and not isinstance(f, forms.MultipleChoiceField):
                value = dict(f.choices).get(value, value)
            elif isinstance(value, list | tuple):
                value = ", ".join(str(v) for v in value) or "—"
            elif isinstance(value, bool):
                value = "yes" if value else "no"
            rows.append((str(f.label), "—" if value in (None, "") else str(value)))
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
