"""What an action will do to this account, with its specifics, said before it is confirmed:
"Ends 3 sessions: Firefox on Linux, Chrome on Windows, …". Read from the account's current
state; an action without specifics worth saying gets none (its description says enough)."""

from collections.abc import Callable

from django.utils.formats import date_format
from django.utils.timezone import template_localtime

from accounts.models import Account
from portal.console import selectors
from portal.console.account_page import LOCK_TYPES
from portal.console.actions.security import FACTOR_LABELS

# How many sessions a sentence names before it says "and N more".
SESSIONS_NAMED = 3


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _sessions_sentence(account: Account, *, verb: str = "Ends") -> str:
    rows = selectors.account_sessions(account=account)
    if not rows:
        return "The account has no active session."
    devices = [row.device or "unknown device" for row in rows[:SESSIONS_NAMED]]
    more = len(rows) - len(devices)
    listed = ", ".join(devices) + (f" and {more} more" if more else "")
    return f"{verb} {_count(len(rows), 'session', 'sessions')}: {listed}."


def _when(value) -> str:
    return date_format(template_localtime(value), "Y-m-d H:i T")


def _unlock(account: Account, initial: dict) -> str:
    lock = selectors.account_lockout(account=account)
    if lock is None:
        return ""
    until = f"until {_when(lock.locked_until)}" if lock.locked_until else "until someone unlocks it"
    why = LOCK_TYPES.get(lock.locked_type, lock.locked_type)
    return f"Locked since {_when(lock.created)} ({why}), {until}."


def _factors(account: Account) -> list[str]:
    state = selectors.account_mfa(account=account)["factors"]
    return [FACTOR_LABELS.get(name, name) for name, on in state.items() if on]


def _factor_reset(account: Account, initial: dict) -> str:
    chosen = initial.get("factor")
    what = FACTOR_LABELS.get(chosen, chosen) if chosen else "the chosen factor"
    return f"Removes {what}. {_sessions_sentence(account)}"


def _backup_codes(account: Account, initial: dict) -> str:
    mfa = selectors.account_mfa(account=account)
    if not mfa["backup_total"]:
        return "The account has no backup codes yet: ten new ones are made."
    return (
        f"{_count(mfa['backup_remaining'], 'unused code stops', 'unused codes stop')} "
        "working; ten new ones are shown once."
    )


def _secure(account: Account, initial: dict) -> str:
    mfa = selectors.account_mfa(account=account)
    factors = _factors(account)
    parts = [
        _sessions_sentence(account, verb="Can end"),
        f"Passkeys: {len(mfa['passkeys'])}.",
        f"Second factors set up: {', '.join(factors) if factors else 'none'}.",
    ]
    return " ".join(parts)


def _delete(account: Account, initial: dict) -> str:
    factors = _factors(account)
    return (
        f"{_sessions_sentence(account)} Also removes "
        f"{_count(len(factors), 'second factor', 'second factors')}, "
        f"{_count(len(selectors.account_roles(account=account)), 'role', 'roles')} and "
        f"{_count(len(selectors.account_records(account=account)), 'record', 'records')}."
    )


def _session_revoke(account: Account, initial: dict) -> str:
    chosen = str(initial.get("session") or "")
    for row in selectors.account_sessions(account=account):
        if str(row.pk) == chosen:
            return f"Ends the session on {row.device or 'an unknown device'} ({row.ip or 'no IP'})."
    return ""


CONSEQUENCES: dict[str, Callable[[Account, dict], str]] = {
    "block": lambda account, initial: _sessions_sentence(account),
    "unlock": _unlock,
    "sessions_revoke_all": lambda account, initial: _sessions_sentence(account),
    "session_revoke": _session_revoke,
    "factor_reset": _factor_reset,
    "backup_codes": _backup_codes,
    "secure": _secure,
    "delete": _delete,
}


def consequence(*, action: str, account: Account, initial: dict) -> str:
    """The specifics of what `action` will do to `account` ("" when there are none)."""
    describe = CONSEQUENCES.get(action)
    return describe(account, initial) if describe is not None else ""
