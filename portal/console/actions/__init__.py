"""Actions staff take from the account page. Each names the console permission it needs, the
form it asks (always a reason, optionally a ticket), and the section service its run calls.

One module per part of the account: the record itself, how it signs in, what it may do, its
records. The catalogue lists them all, in the order the account page offers them."""

from portal.console.actions import account, records, roles, security
from portal.console.actions.base import AccountAction, ActionForm, Ctx, Secret, error_text
from portal.console.actions.security import FACTOR_LABELS

ACTIONS: dict[str, AccountAction] = {
    a.name: a for a in [*account.ACTIONS, *security.ACTIONS, *roles.ACTIONS, *records.ACTIONS]
}

__all__ = ["ACTIONS", "FACTOR_LABELS", "AccountAction", "ActionForm", "Ctx", "Secret", "error_text"]
